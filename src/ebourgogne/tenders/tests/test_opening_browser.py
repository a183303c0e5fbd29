"""In Chromium: two commission members' passphrases open the bids from the opening page, the progress
then the report show; a company member runs the mock opening of its practice bid. axe-core checks every
page visited."""

from __future__ import annotations

import datetime as dt

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.organisations.roles import Role
from ebourgogne.tenders.models import Opening
from ebourgogne.tenders.practice import practice_consultation
from ebourgogne.tenders.tests.opening_helpers import deposit, run_jobs
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, UserFactory, make_member
from ebourgogne.testing.sealing import sealed_consultation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_members_open_the_bids_and_read_the_report(browser_page, browser_sign_in):
    page = browser_page
    buyer = BuyerFactory(name="Commune de Semur", slug="commune-de-semur")
    sealed = sealed_consultation(buyer, reference="2026-SEM-01", title="Restauration des remparts")
    consultation = sealed.consultation
    company = CompanyFactory(name="Maçonnerie de l'Auxois")
    deposit(consultation, company, [("offre.pdf.age", b"%PDF offre")])
    now = clock.now()
    with scopes_disabled():
        Consultation.objects.filter(pk=consultation.pk).update(bids_deadline=now - dt.timedelta(minutes=5))
    first, second, _third = sealed.commission.members
    url = f"/organisations/{buyer.slug}/consultations/{consultation.pk}/plis/ouverture/"

    browser_sign_in(page, first)
    page.goto(url)
    expect(page.get_by_role("heading", name="Ouvrir les plis")).to_have_count(1)
    assert_accessible(page, context="opening form")
    page.get_by_label(f"Phrase secrète de {first.full_name}").fill(sealed.commission.passphrase(first))
    page.get_by_role("button", name="Ouvrir les plis").click()
    expect(page.get_by_role("alert")).to_contain_text("2 membres")  # one passphrase is not enough
    assert_accessible(page, context="opening form with an error")

    page.get_by_label(f"Phrase secrète de {first.full_name}").fill(sealed.commission.passphrase(first))
    page.get_by_label(f"Phrase secrète de {second.full_name}").fill(sealed.commission.passphrase(second))
    page.get_by_role("button", name="Ouvrir les plis").click()
    expect(page.get_by_text("Ouverture en cours.")).to_have_count(1)
    assert_accessible(page, context="opening in progress")

    with scopes_disabled():
        opening = Opening.objects.get(consultation=consultation)
    run_jobs(opening)  # the worker's part, in this process
    page.goto(url)
    expect(page.get_by_role("link", name="offre.pdf.age")).to_have_count(1)
    expect(page.get_by_text(company.name)).not_to_have_count(0)
    assert_accessible(page, context="opening report")


def test_a_company_runs_the_mock_opening_of_its_practice_bid(browser_page, browser_sign_in):
    page = browser_page
    company = CompanyFactory(name="Menuiserie du Châtillonnais", slug="menuiserie-chatillonnais")
    member = make_member(company, Role.COMPANY_MEMBER, UserFactory(full_name="Hugo Menuisier"))
    deposit(practice_consultation(), company, [("offre.pdf.age", b"%PDF essai")])

    browser_sign_in(page, member)
    page.goto("/entrainement/")
    assert_accessible(page, context="practice page")
    page.get_by_role("link", name=f"Ouverture simulée du pli de {company.name}").click()
    assert_accessible(page, context="mock opening page")
    page.get_by_role("button", name="Lancer l'ouverture simulée").click()
    expect(page.get_by_text("Votre pli s'ouvre correctement")).to_have_count(1)
    expect(page.get_by_text("identique")).to_have_count(1)
    assert_accessible(page, context="mock opening result")
