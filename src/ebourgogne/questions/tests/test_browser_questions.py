"""In Chromium: a company member asks a question on the consultation's page; a buyer agent signs in with
password and TOTP, finds it first in the list and answers; an anonymous visitor reads the answer, without
the asker's identity. axe-core checks every page visited."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.consultations.models import CpvCode
from ebourgogne.organisations.roles import Role
from ebourgogne.questions.models import Question
from ebourgogne.testing.browser import assert_accessible, totp_code
from ebourgogne.testing.factories import (
    DEMO_PASSWORD,
    BuyerFactory,
    CompanyFactory,
    ConsultationFactory,
    UserFactory,
    make_member,
    totp_secret,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_company_asks_a_buyer_agent_answers_everyone_reads(browser_page, browser_sign_in):
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
    buyer = BuyerFactory(name="Commune de Chablis", slug="commune-de-chablis")
    consultation = ConsultationFactory(
        organisation=buyer, published=True, reference="2026-CHA-01", title="Réfection du lavoir"
    )
    company = CompanyFactory(name="Taille de Pierre Icaunaise")
    member = make_member(company, Role.COMPANY_MEMBER, UserFactory(full_name="Léa Tailleuse"))
    agent = make_member(buyer, Role.BUYER_AGENT)
    consultation_path = f"/consultations/{consultation.pk}/"

    # The company member asks, from the consultation's public page.
    browser_sign_in(page, member)
    page.goto(consultation_path)
    assert_accessible(page, context="consultation page, company member")
    form = page.locator("#questions form")
    form.get_by_role("button", name="Envoyer la question").click()  # empty: refused with a message
    expect(page.locator("textarea[name=text][aria-invalid=true]")).to_have_count(1)
    assert_accessible(page, context="question form with an error")
    page.locator("textarea[name=text]").fill("Les pierres de remplacement doivent-elles venir de la carrière locale ?")
    page.get_by_role("button", name="Envoyer la question").click()
    expect(page.get_by_text("Votre question n° 1 est transmise")).to_have_count(1)
    assert page.url.endswith(f"{consultation_path}#questions")
    expect(page.get_by_text("en attente de réponse")).to_have_count(1)
    assert_accessible(page, context="after asking")

    # The buyer agent signs in with password and TOTP, then answers.
    page.context.clear_cookies()
    page.goto("/comptes/login/")
    page.locator("input[name=login]").fill(agent.email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/comptes/2fa/authenticate/")
    page.locator("input[name=code]").fill(totp_code(totp_secret(agent)))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/compte/")

    page.goto(f"/organisations/{buyer.slug}/consultations/{consultation.pk}/")
    assert_accessible(page, context="buyer consultation page")
    page.get_by_role("link", name="Voir les questions et y répondre").click()
    expect(page.get_by_text("Taille de Pierre Icaunaise")).to_have_count(1)  # the buyer sees who asked
    assert "R2132-6" in page.content()
    assert_accessible(page, context="buyer questions list")
    page.get_by_role("link", name="Répondre à la question n° 1").click()
    assert_accessible(page, context="answer form")
    page.locator("textarea[name=answer]").fill("Oui : pierre de Massangis, comme l'existant.")
    page.get_by_role("button", name="Publier la réponse").click()
    page.wait_for_url(f"**/organisations/{buyer.slug}/consultations/{consultation.pk}/questions/")
    expect(page.get_by_text("La réponse est publiée")).to_have_count(1)
    assert_accessible(page, context="after answering")
    with scopes_disabled():
        assert Question.objects.get(consultation=consultation).published_at is not None

    # Anyone reads the answer, without the asker's identity.
    page.context.clear_cookies()
    page.goto(consultation_path)
    section = page.locator("#questions")
    expect(section.get_by_text("Oui : pierre de Massangis, comme l'existant.")).to_have_count(1)
    expect(section.get_by_role("link", name="Connectez-vous pour poser une question")).to_have_count(1)
    content = page.content()
    assert "Taille de Pierre Icaunaise" not in content and "Léa Tailleuse" not in content
    assert member.email not in content
    assert_accessible(page, context="consultation page, anonymous, with the answer")
