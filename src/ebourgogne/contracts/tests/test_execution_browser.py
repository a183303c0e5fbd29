"""In Chromium: the buyer's agent follows a notified contract's execution (a modification dated before
the notification is refused with its message and the input kept, then prepared; a milestone), the
holder's member declares a subcontractor (an invalid SIRET refused, then a valid one). axe-core checks
every page on the way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.contracts.models import Modification, Subcontract
from ebourgogne.core import clock
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.contracts import contract as make_contract
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, UserFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def cpv_code(db):
    from ebourgogne.consultations.models import CpvCode

    CpvCode.objects.get_or_create(
        code="45000000",
        defaults={
            "check_digit": "7",
            "label_fr": "Travaux de construction",
            "label_en": "Construction work",
            "level": 1,
        },
    )


def test_execution_pages_for_the_buyer_and_the_holder(browser_page, browser_sign_in):
    page = browser_page
    page.set_default_timeout(120_000)  # a shared, loaded 2-core machine
    page.set_default_navigation_timeout(180_000)
    buyer = BuyerFactory(name="Commune de Semur", slug="commune-de-semur")
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(full_name="Bruno Agent"))
    holder = CompanyFactory(name="Menuiserie de l'Auxois", slug="menuiserie-auxois", email="contact@auxois.test")
    member = make_member(holder, Role.COMPANY_MEMBER, UserFactory(full_name="Emma Membre"))
    running = make_contract(buyer, holder, amount=Decimal("90000"), is_framework=True, number="2026-SEM")
    notified_on = running.notified_at.astimezone(clock.PARIS).date()

    browser_sign_in(page, agent)
    page.goto(f"/organisations/{buyer.slug}/marches/{running.pk}/execution/")
    expect(page.get_by_role("heading", name="Exécution du marché 2026-SEM")).to_have_count(1)
    assert_accessible(page, context="execution overview")

    page.get_by_text("Préparer une modification (avenant)").click()
    page.get_by_label("Fondement juridique").select_option("R2194-1")
    page.get_by_label("Objet de la modification").fill("Travaux complémentaires de menuiserie")
    page.get_by_label("Variation du montant (€ HT)").fill("4 500")
    page.get_by_label("Prend effet le").fill((notified_on - dt.timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Préparer la modification").click()
    expect(page.get_by_text("ne peut pas changer le passé d'un marché notifié")).to_have_count(1)
    expect(page.get_by_label("Objet de la modification")).to_have_value("Travaux complémentaires de menuiserie")
    assert_accessible(page, context="modification refused")
    page.get_by_label("Prend effet le").fill(clock.today_local().isoformat())
    page.get_by_role("button", name="Préparer la modification").click()
    expect(page.get_by_text("La modification est préparée")).to_have_count(1)
    page.get_by_role("link", name="Modification n° 1").click()
    expect(page.get_by_role("heading", name="Modification n° 1")).to_have_count(1)
    assert_accessible(page, context="modification page")
    with scopes_disabled():
        assert Modification.objects.filter(contract=running).count() == 1

    page.context.clear_cookies()
    browser_sign_in(page, member)
    page.goto(f"/organisations/{holder.slug}/mes-marches/{running.pk}/execution/")
    assert_accessible(page, context="holder overview")
    page.get_by_text("Déclarer un sous-traitant").first.click()
    page.get_by_label("Nom du sous-traitant").fill("Peintures de Bourgogne")
    page.get_by_label("SIRET du sous-traitant").fill("732 829 320 00075")
    page.get_by_label("Nature des prestations sous-traitées").fill("Peinture des menuiseries")
    page.get_by_label("Montant maximum sous-traité (€ HT)").fill("12 000")
    page.get_by_label("Durée (mois)").fill("4")
    page.get_by_role("button", name="Déclarer le sous-traitant").click()
    expect(page.get_by_text("Ce SIRET n'est pas valide")).to_have_count(1)
    assert_accessible(page, context="subcontractor refused")
    page.get_by_label("SIRET du sous-traitant").fill("732 829 320 00074")
    page.get_by_role("button", name="Déclarer le sous-traitant").click()
    expect(page.get_by_text("Le sous-traitant est déclaré")).to_have_count(1)
    with scopes_disabled():
        assert Subcontract.objects.get(contract=running).subcontractor_siret == "73282932000074"
