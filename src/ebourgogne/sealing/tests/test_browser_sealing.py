"""In Chromium: a commission member sets up, then changes, their opening key; a buyer admin creates a
commission, seats members and sees the key warning disappear. axe-core checks every page, with errors, and
at 320 px."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.commissions.models import Commission
from ebourgogne.organisations.roles import Role
from ebourgogne.sealing.models import PersonalKey
from ebourgogne.sealing.services import personal_key_create
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory, UserFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSPHRASE = "trois mots pour ouvrir"  # noqa: S105 - test data


def test_a_member_sets_up_and_changes_their_opening_key(browser_page, browser_sign_in):
    page = browser_page
    buyer = BuyerFactory(name="Commune de Nuits", slug="commune-de-nuits")
    member = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Mila Membre"))
    browser_sign_in(page, member)

    page.goto("/compte/")
    page.get_by_role("link", name="Ma clé d'ouverture des plis").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ma clé d'ouverture des plis")
    assert_accessible(page, context="no key yet")

    page.locator("#setup_passphrase").fill("court")
    page.locator("#setup_passphrase_again").fill("court")
    page.get_by_role("button", name="Créer ma clé d'ouverture").click()
    expect(page.locator(".error-summary")).to_have_count(1)
    assert_accessible(page, context="passphrase too short")

    page.locator("#setup_passphrase").fill(PASSPHRASE)
    page.locator("#setup_passphrase_again").fill(PASSPHRASE)
    page.get_by_role("button", name="Créer ma clé d'ouverture").click()
    expect(page.get_by_text("Clé créée")).to_have_count(1)
    assert_accessible(page, context="key set up")

    page.locator("#rotate_old_passphrase").fill(PASSPHRASE)
    page.locator("#rotate_passphrase").fill("quatre mots pour ouvrir")
    page.locator("#rotate_passphrase_again").fill("quatre mots pour ouvrir")
    page.get_by_role("button", name="Changer ma clé").click()
    expect(page.get_by_text("Clé créée")).to_have_count(1)
    assert PersonalKey.objects.filter(user=member).count() == 2
    page.set_viewport_size({"width": 320, "height": 800})
    assert_accessible(page, context="key page at 320 px")


def test_a_buyer_admin_builds_a_commission_and_sees_who_lacks_a_key(browser_page, browser_sign_in):
    page = browser_page
    buyer = BuyerFactory(name="Commune de Nuits", slug="commune-de-nuits")
    admin = make_member(buyer, Role.BUYER_ADMIN, UserFactory(full_name="Ada Admin"))
    alice = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Alice Clé"))
    bruno = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Bruno Sansclé"))
    personal_key_create(user=alice, passphrase=PASSPHRASE)
    browser_sign_in(page, admin)

    page.goto(f"/organisations/{buyer.slug}/commissions/")
    assert_accessible(page, context="no commission")
    page.locator("#new_name").fill("Commission d'appel d'offres")
    page.get_by_role("button", name="Créer la commission").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commission d'appel d'offres")
    for person in (alice, bruno):
        page.locator("#member_user").select_option(str(person.pk))
        page.get_by_role("button", name="Ajouter le membre").click()
    expect(page.get_by_role("row")).to_have_count(3)  # header + 2 members
    expect(page.get_by_text("pas de clé")).to_have_count(1)
    expect(page.locator(".notice-warning")).to_contain_text("exige 2 membres")
    assert_accessible(page, context="commission with a member lacking a key")

    personal_key_create(user=bruno, passphrase=PASSPHRASE)
    page.reload()
    expect(page.locator(".notice-warning")).to_have_count(0)
    page.get_by_role("link", name="Modifier la commission").click()
    assert_accessible(page, context="edit form")
    with scopes_disabled():
        assert Commission.objects.get(organisation=buyer).opening_threshold == 2
