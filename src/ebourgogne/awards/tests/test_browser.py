"""In Chromium: the buyer's agent admits the candidatures, defines the criteria, enters prices and marks,
reads the ranking, awards and sends the letters; the company's member reads its rejection letter, and
the buyer sees the first reading. axe-core checks every page on the way."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.awards.models import Letter, Offer
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.awards import opened_consultation
from ebourgogne.testing.browser import assert_accessible
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


def test_award_path_and_the_company_reads_its_letter(browser_page, browser_sign_in):
    page = browser_page
    page.set_default_timeout(120_000)  # a long scenario on a shared, loaded 2-core machine
    page.set_default_navigation_timeout(180_000)
    buyer = BuyerFactory(name="Commune de Semur", slug="commune-de-semur")
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(full_name="Bruno Agent"))
    first = CompanyFactory(name="Menuiserie de l'Auxois", slug="menuiserie-auxois", email="contact@auxois.test")
    second = CompanyFactory(name="Charpentes du Morvan", slug="charpentes-morvan", email="contact@morvan.test")
    reader = make_member(first, Role.COMPANY_MEMBER, UserFactory(full_name="Emma Lectrice"))
    made = opened_consultation(
        buyer, companies=[first, second], reference="2026-SEM-07", title="Menuiseries de l'école"
    )
    consultation = made.consultation
    base = f"/organisations/{buyer.slug}/consultations/{consultation.pk}/attribution/"

    browser_sign_in(page, agent)
    page.goto(base)
    expect(page.get_by_role("heading", name="Analyse des offres et attribution")).to_have_count(1)
    assert_accessible(page, context="award overview")
    for company in (first, second):
        row = page.get_by_role("row").filter(has_text=company.name)
        row.get_by_label("Admise").check()
        row.get_by_role("button").click()
        expect(page.get_by_text("La décision d'admission est enregistrée.")).to_have_count(1)

    page.get_by_role("link", name="La consultation").click()
    page.get_by_label("Pondération du prix (points sur 100)").fill("40")
    page.get_by_label("Autres critères (un par ligne : intitulé ; points)").fill(
        "Valeur technique ; 50\n- Méthode ; 30"
    )
    page.get_by_role("button", name="Enregistrer les critères").click()
    expect(page.get_by_text("totalisent 30 points au lieu des 50 points")).to_have_count(1)
    assert_accessible(page, context="criteria refused")
    page.get_by_label("Pondération du prix (points sur 100)").fill("40")
    page.get_by_label("Autres critères (un par ligne : intitulé ; points)").fill(
        "Valeur technique ; 60\n- Méthode ; 35\n- Moyens ; 25"
    )
    page.get_by_role("button", name="Enregistrer les critères").click()
    expect(page.get_by_text("Les critères sont enregistrés.")).to_have_count(1)
    assert_accessible(page, context="criteria set")

    with scopes_disabled():
        offers = {offer.bid.company_id: offer.pk for offer in Offer.objects.select_related("bid")}
    for company, price, marks in ((first, "100000", ("16", "12")), (second, "80000", ("10", "10"))):
        section = page.locator(f"#offre-{offers[company.pk]}")
        section.get_by_label("Prix de l'offre (€ HT)").fill(price)
        section.get_by_role("button", name="Enregistrer le prix").click()
        section = page.locator(f"#offre-{offers[company.pk]}")
        section.get_by_label("Méthode").fill(marks[0])
        section.get_by_label("Moyens").fill(marks[1])
        section.get_by_role("button", name="Enregistrer mes notes").click()
        expect(page.get_by_text("C'est enregistré.")).to_have_count(1)
    # first: 32 + 28 + 15 = 75; second: 40 + 17.5 + 12.5 = 70
    ranking = page.get_by_role("table", name="Notes consolidées et classement des offres")
    expect(ranking.get_by_role("row").nth(1)).to_contain_text("75,00")
    expect(ranking.get_by_role("row").nth(1)).to_contain_text(first.name)
    assert_accessible(page, context="ranking")

    page.get_by_label("Attribué").check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.get_by_text("La décision est enregistrée.")).to_have_count(1)
    page.get_by_role("button", name="Envoyer les courriers").click()
    expect(page.get_by_text("2 courriers envoyés.")).to_have_count(1)
    expect(page.get_by_text("pas encore lu")).to_have_count(2)
    assert_accessible(page, context="letters sent")

    # The unsuccessful company reads its letter.
    page.context.clear_cookies()
    with scopes_disabled():
        reader_company = second
        make_member(reader_company, Role.COMPANY_MEMBER, reader)
        letter = Letter.objects.get(company=reader_company)
    browser_sign_in(page, reader)
    page.goto(f"/organisations/{reader_company.slug}/courriers/")
    assert_accessible(page, context="company letters")
    page.get_by_role("link", name=letter.subject).click()
    expect(page.get_by_text("Votre offre est classée n° 2 sur 2")).to_have_count(1)
    expect(page.get_by_role("link", name="Télécharger le courrier (PDF)")).to_have_count(1)
    assert_accessible(page, context="letter read")

    page.context.clear_cookies()
    browser_sign_in(page, agent)
    page.goto(base)
    expect(page.get_by_text("Emma Lectrice")).to_have_count(1)
    expect(page.get_by_text("pas encore lu")).to_have_count(1)
