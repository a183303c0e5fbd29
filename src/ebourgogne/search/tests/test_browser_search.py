"""In Chromium: a visitor searches the portal by keyword and a filter; with htmx the results are replaced in
place (the address follows the search), without JavaScript the plain GET form gives the same results.
axe-core checks every page seen."""

from __future__ import annotations

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.consultations.models import CpvCode
from ebourgogne.search import indexing
from ebourgogne.testing.browser import TIMEOUT_MS, assert_accessible
from ebourgogne.testing.factories import BuyerFactory, ConsultationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def consultations():
    CpvCode.objects.get_or_create(  # transactional tests flush the codes the migration loaded
        code="45000000",
        defaults={
            "check_digit": "7",
            "label_fr": "Travaux de construction",
            "label_en": "Construction work",
            "level": 1,
        },
    )
    buyer = BuyerFactory(name="Commune de Beaune", slug="commune-de-beaune")
    made = {}
    with scopes_disabled():
        for key, title, department in (
            ("beaune", "Réfection de la voirie de Beaune", "21"),
            ("nevers", "Réfection de la voirie de Nevers", "58"),
            ("ecole", "Rénovation de l'école maternelle", "21"),
        ):
            made[key] = ConsultationFactory(organisation=buyer, published=True, title=title, department=department)
    for consultation in made.values():
        indexing.index_consultation(consultation.pk)
    return made


def test_search_by_keyword_and_filter_with_htmx(browser_page, consultations):
    page = browser_page
    page.goto("/consultations/")
    expect(page.get_by_role("heading", name="Rechercher une consultation")).to_have_count(1)
    expect(page.get_by_text("3 consultations trouvées.")).to_have_count(1)
    assert_accessible(page, context="search page, no criteria")

    page.get_by_label("Mots-clés").fill("voirie")
    page.get_by_label("Département d'exécution").select_option("21")
    with page.expect_response(lambda response: "q=voirie" in response.url) as answer:
        page.get_by_role("button", name="Rechercher", exact=True).click()
    assert answer.value.request.headers.get("hx-request") == "true"  # htmx replaced the results only
    expect(page.get_by_text("1 consultation trouvée.")).to_have_count(1)
    results = page.locator("#resultats")
    expect(results.get_by_role("link", name="Réfection de la voirie de Beaune")).to_have_count(1)
    expect(results.get_by_text("Réfection de la voirie de Nevers")).to_have_count(0)
    expect(results.get_by_text("Rénovation de l'école maternelle")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]department=21(&|$)"))
    assert "q=voirie" in page.url
    assert_accessible(page, context="search results after an htmx update")

    results.get_by_role("link", name="Réfection de la voirie de Beaune").click()
    expect(page).to_have_url(re.compile(rf"/consultations/{consultations['beaune'].pk}/$"))


def test_plain_form_without_javascript(chromium_browser, live_server, consultations):
    context = chromium_browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/consultations/")
        page.get_by_label("Mots-clés").fill("voirie")
        page.get_by_label("Département d'exécution").select_option("58")
        page.get_by_role("button", name="Rechercher", exact=True).click()
        page.wait_for_load_state("load")
        assert "q=voirie" in page.url and "department=58" in page.url
        expect(page.get_by_role("heading", name="Rechercher une consultation")).to_have_count(1)  # a whole page
        expect(page.get_by_text("1 consultation trouvée.")).to_have_count(1)
        expect(page.get_by_role("link", name="Réfection de la voirie de Nevers")).to_have_count(1)
        expect(page.get_by_text("Réfection de la voirie de Beaune")).to_have_count(0)
        # the form keeps the criteria
        expect(page.get_by_label("Mots-clés")).to_have_value("voirie")
        expect(page.get_by_label("Département d'exécution")).to_have_value("58")

        page.get_by_label("Mots-clés").fill("")
        page.get_by_label("Département d'exécution").select_option("")
        page.get_by_label("Date limite à partir du").fill("2000-01-01")
        page.get_by_label("Date limite jusqu'au").fill("1999-01-01")
        page.get_by_role("button", name="Rechercher", exact=True).click()
        page.wait_for_load_state("load")
        expect(page.get_by_role("alert").first).to_contain_text("corrigez les champs")
    finally:
        context.close()


def test_search_page_without_javascript_is_accessible(browser_page, consultations):
    page = browser_page
    page.goto("/consultations/?state=all&deadline_from=2000-01-01&deadline_to=1999-01-01")
    expect(page.get_by_role("alert").first).to_contain_text("corrigez les champs")
    assert_accessible(page, context="search form with errors")
