"""In Chromium, axe-core on the bid pages: the public block, the new bid form, the bid page, the deposit
confirmation (with its error), the result, the company's list; the buyer's register before and after the
deadline. The deposit itself goes through the pages, with the keyboard-reachable controls."""

from __future__ import annotations

import pytest
import time_machine
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.consultations.models import CpvCode
from ebourgogne.organisations.roles import Role
from ebourgogne.tenders.tests.support import announce, create_bid, open_consultation, sealed, upload
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, UserFactory, make_member, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bid_pages_are_accessible(browser_page, browser_sign_in, client):
    page = browser_page
    CpvCode.objects.get_or_create(  # transactional tests flush the codes the migration loaded
        code="45000000",
        defaults={
            "check_digit": "7",
            "label_fr": "Travaux de construction",
            "label_en": "Construction work",
            "level": 1,
        },
    )
    buyer = BuyerFactory(name="Commune de Nuits", slug="commune-de-nuits")
    company = CompanyFactory(name="Maçonnerie Nuitonne", slug="maconnerie-nuitonne")
    member = make_member(company, Role.COMPANY_MEMBER, UserFactory(full_name="Hugo Maçon"))
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(full_name="Inès Agent"))
    consultation, recipient = open_consultation(buyer)

    # A bid with one file, made through the API (the browser's encryption is tested by the uploader's tests).
    sign_in(client, member)
    bid = create_bid(client, company.slug, consultation.pk)
    data = sealed(recipient, 3000)
    upload(client, announce(client, company.slug, bid["id"], len(data))["url"], data)

    browser_sign_in(page, member)
    page.goto(f"/consultations/{consultation.pk}/")
    expect(page.locator("#depot")).to_have_count(1)
    assert_accessible(page, context="consultation page with the bid block")
    page.goto(f"/organisations/{company.slug}/offres/consultation/{consultation.pk}/nouveau/")
    assert_accessible(page, context="new bid")
    page.goto(f"/organisations/{company.slug}/offres/plis/{bid['id']}/")
    expect(page.get_by_text("Seule compte la fin de l'envoi")).to_have_count(1)
    assert_accessible(page, context="bid page")
    page.get_by_role("link", name="Vérifier et déposer le pli").click()
    page.get_by_role("button", name="Déposer le pli").click()  # not confirmed: refused with a message
    expect(page.get_by_text("Cochez la case pour confirmer le dépôt.")).to_have_count(1)
    assert_accessible(page, context="deposit confirmation with an error")
    page.get_by_label("Je confirme le dépôt de ce pli", exact=False).check()
    page.get_by_role("button", name="Déposer le pli").click()
    expect(page.get_by_role("heading", name="Pli déposé")).to_have_count(1)
    assert_accessible(page, context="deposit result")
    page.goto(f"/organisations/{company.slug}/offres/")
    assert_accessible(page, context="company's bids")

    browser_sign_in(page, agent)
    page.goto(f"/organisations/{buyer.slug}/consultations/{consultation.pk}/plis/")
    expect(page.get_by_text("1 dépôt reçu.")).to_have_count(1)
    expect(page.get_by_text("Maçonnerie Nuitonne")).to_have_count(0)
    assert_accessible(page, context="register before the deadline")
    with time_machine.travel(consultation.bids_deadline, tick=True):
        page.reload()
        expect(page.get_by_text("Maçonnerie Nuitonne")).to_have_count(1)
        assert_accessible(page, context="register after the deadline")
    with scopes_disabled():
        assert consultation.bids.get().number == 1
