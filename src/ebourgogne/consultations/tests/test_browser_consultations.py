"""In Chromium: a buyer agent signs in with their password and TOTP code, creates a consultation (a lot,
a CPV code picked from the searchable tree) and publishes it; the public page shows it. axe-core checks
every page visited."""

from __future__ import annotations

import datetime as dt

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.consultations.models import Consultation, ConsultationCpv, State
from ebourgogne.core import clock
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible, totp_code
from ebourgogne.testing.factories import DEMO_PASSWORD, BuyerFactory, make_member, totp_secret
from ebourgogne.testing.sealing import buyer_opening_keys, with_opening_keys  # noqa: F401 - publication needs an opening commission

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("buyer_opening_keys"),
]


def test_buyer_agent_creates_and_publishes_a_consultation(browser_page):
    page = browser_page
    buyer = BuyerFactory(name="Commune de Tonnerre", slug="commune-de-tonnerre")
    with_opening_keys(buyer)  # publication needs an opening commission with keys
    agent = make_member(buyer, Role.BUYER_AGENT)
    secret = totp_secret(agent)

    page.goto("/comptes/login/")
    page.locator("input[name=login]").fill(agent.email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/comptes/2fa/authenticate/")
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/compte/")

    page.goto(f"/organisations/{buyer.slug}/")
    page.locator("nav.org-nav").get_by_role("link", name="Consultations").click()
    page.wait_for_url(f"**/organisations/{buyer.slug}/consultations/")
    assert_accessible(page, context="consultations list (empty)")
    page.get_by_role("link", name="Créer une consultation").click()
    page.wait_for_url("**/consultations/nouvelle/")
    assert_accessible(page, context="consultation form")

    today = clock.now().date()
    page.locator("input[name=reference]").fill("2026-VOI-001")
    page.locator("input[name=title]").fill("Peinture des bâtiments communaux")
    page.locator("textarea[name=object]").fill("Travaux de peinture intérieure de l'école et de la mairie.")
    page.locator("select[name=contract_type]").select_option("works")
    page.locator("select[name=procedure]").select_option("mapa")
    page.locator("input[name=contact_email]").fill("mairie@tonnerre.test")
    page.locator("input[name=questions_deadline_0]").fill(str(today + dt.timedelta(days=20)))
    page.locator("input[name=questions_deadline_1]").fill("12:00")
    page.locator("input[name=bids_deadline_0]").fill(str(today + dt.timedelta(days=30)))
    page.locator("input[name=bids_deadline_1]").fill("17:00")
    page.locator("input[name=lots-0-title]").fill("École")

    # The CPV picker: search as one types (htmx), then pick the main code; nothing is saved yet.
    page.locator("input[name=cpv_q]").fill("travaux de peinture")
    expect(page.locator("#cpv-results li")).not_to_have_count(0)
    assert_accessible(page, context="CPV search results")
    page.locator("#cpv-results").get_by_role("button", name="Code principal 45442100").click()
    expect(page.locator("input[name=main_cpv]")).to_have_value("45442100")
    # The values typed so far survived the round trip.
    expect(page.locator("input[name=title]")).to_have_value("Peinture des bâtiments communaux")
    with scopes_disabled():
        assert not Consultation.objects.exists()

    page.get_by_role("button", name="Créer le brouillon").click()
    page.wait_for_url(f"**/organisations/{buyer.slug}/consultations/*/")
    assert "Consultation créée" in page.content()
    assert_accessible(page, context="draft page")

    page.get_by_role("link", name="Publier", exact=True).click()
    page.wait_for_url("**/publier/")
    assert_accessible(page, context="publish confirmation")
    page.get_by_role("button", name="Publier maintenant").click()
    page.wait_for_url(f"**/organisations/{buyer.slug}/consultations/*/")
    expect(page.locator(".lead .tag")).to_have_text("En cours")
    assert_accessible(page, context="published consultation")

    with scopes_disabled():
        consultation = Consultation.objects.get()
        assert consultation.state == State.PUBLISHED
        assert ConsultationCpv.objects.filter(consultation=consultation, cpv_id="45442100", is_main=True).exists()

    page.get_by_role("link", name="Voir la page publique").click()
    page.wait_for_url(f"**/consultations/{consultation.pk}/")
    assert "Peinture des bâtiments communaux" in page.content()
    assert "(heure de Paris)" in page.content()
    assert_accessible(page, context="public consultation page")


def test_action_pages_and_cpv_tree_are_accessible(browser_page, browser_sign_in):
    from ebourgogne.consultations import services

    page = browser_page
    buyer = BuyerFactory(name="Commune d'Avallon", slug="commune-avallon")
    with_opening_keys(buyer)  # publication needs an opening commission with keys
    agent = make_member(buyer, Role.BUYER_AGENT)
    now = clock.now()
    consultation = services.consultation_create(
        acting_user=agent,
        organisation=buyer,
        reference="AV-1",
        title="Entretien des fontaines",
        object="Entretien annuel.",
        contract_type="services",
        procedure="open",
        main_cpv="50000000",
        contact_name="Mairie",
        questions_deadline=now + dt.timedelta(days=10),
        bids_deadline=now + dt.timedelta(days=25),
        lots=[{"title": "Fontaines du centre", "main_cpv": "50000000"}],
    )
    services.consultation_publish(acting_user=agent, consultation=consultation)
    browser_sign_in(page, agent)

    base = f"/organisations/{buyer.slug}/consultations/{consultation.pk}/"
    page.goto(base)
    assert_accessible(page, context="published consultation with lots and events")
    page.get_by_role("link", name="Reporter la date limite").click()
    page.wait_for_url("**/reporter/")
    assert_accessible(page, context="postpone form")
    earlier = (now + dt.timedelta(days=5)).date()
    page.locator("input[name=bids_deadline_0]").fill(str(earlier))
    page.locator("input[name=bids_deadline_1]").fill("12:00")
    page.locator("textarea[name=reason]").fill("Avancer")
    page.get_by_role("button", name="Reporter la date limite").click()
    expect(page.locator(".errorlist")).not_to_have_count(0)
    assert "ne peut être que reportée" in page.content()
    assert_accessible(page, context="postpone refused")

    page.goto(base + "modifier/")
    assert_accessible(page, context="edit form of a published consultation")
    page.get_by_role("button", name="Sous-codes 45000000").click()
    expect(page.locator(".cpv-branch")).to_have_count(1)
    assert_accessible(page, context="CPV tree expanded in the form")

    page.goto(base + "annuler/")
    assert_accessible(page, context="cancel form")

    page.goto(f"/organisations/{buyer.slug}/consultations/cpv/?q=fontaine")
    assert_accessible(page, context="CPV nomenclature page")
    page.goto(f"/organisations/{buyer.slug}/consultations/?state=published")
    assert_accessible(page, context="list filtered by state")


def test_the_form_works_without_javascript(chromium_browser, live_server, browser_sign_in):
    context = chromium_browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        buyer = BuyerFactory(name="Commune de Joigny", slug="commune-de-joigny")
        with_opening_keys(buyer)  # publication needs an opening commission with keys
        agent = make_member(buyer, Role.BUYER_AGENT)
        browser_sign_in(page, agent)
        page.goto(f"/organisations/{buyer.slug}/consultations/nouvelle/")
        page.locator("input[name=reference]").fill("JO-1")
        page.locator("input[name=title]").fill("Curage des fossés")
        page.locator("select[name=contract_type]").select_option("works")
        page.locator("select[name=procedure]").select_option("mapa")
        page.locator("input[name=lots-0-title]").fill("Secteur nord")

        # Each step sends the form back and gets it again, changed but not saved.
        page.get_by_role("button", name="Ajouter un lot").click()
        expect(page.locator("input[name=lots-1-title]")).to_have_count(1)
        page.locator("input[name=lots-1-title]").fill("Secteur sud")
        page.locator("input[name=cpv_q]").fill("drainage")
        page.get_by_role("button", name="Rechercher", exact=True).click()
        expect(page.locator("#cpv-results li")).not_to_have_count(0)
        page.locator("select[name=cpv_target]").select_option("lot-1")
        page.locator("#cpv-results li").first.get_by_role("button", name="Code principal").click()
        expect(page.locator("input[name=lots-1-main_cpv]")).not_to_have_value("")
        page.get_by_role("button", name="Sous-codes 45000000").click()
        expect(page.locator(".cpv-branch")).to_have_count(1)
        expect(page.locator("input[name=title]")).to_have_value("Curage des fossés")
        with scopes_disabled():
            assert not Consultation.objects.exists()

        page.get_by_role("button", name="Créer le brouillon").click()
        page.wait_for_url(f"**/organisations/{buyer.slug}/consultations/*/")
        with scopes_disabled():
            consultation = Consultation.objects.get()
            lots = list(consultation.lots.order_by("number").values_list("title", flat=True))
            lot_codes = ConsultationCpv.objects.filter(consultation=consultation, lot__number=2, is_main=True)
            assert lots == ["Secteur nord", "Secteur sud"]
            assert lot_codes.count() == 1
    finally:
        context.close()
