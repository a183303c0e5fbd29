"""In Chromium: the buyer's administrator prepares the contract from the award, sets a term and signs the
acte d'engagement; the holder's administrator signs it; the buyer notifies it. axe-core checks every
page on the way."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.contracts.models import Contract
from ebourgogne.contracts.tests.conftest import PASSPHRASE, issue
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.contracts import awarded
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


def test_prepare_sign_sign_notify(browser_page, browser_sign_in):
    page = browser_page
    page.set_default_timeout(120_000)  # a long scenario on a shared, loaded 2-core machine
    page.set_default_navigation_timeout(180_000)
    buyer = BuyerFactory(name="Commune de Semur", slug="commune-de-semur")
    admin = make_member(buyer, Role.BUYER_ADMIN, UserFactory(full_name="Alice Administratrice"))
    holder = CompanyFactory(name="Menuiserie de l'Auxois", slug="menuiserie-auxois", email="contact@auxois.test")
    holder_admin = make_member(holder, Role.COMPANY_ADMIN, UserFactory(full_name="David Dirigeant"))
    issue(admin, "Mon certificat")
    issue(holder_admin, "Certificat de l'entreprise")
    award = awarded(buyer, holder, reference="2026-SEM-08", title="Menuiseries de l'école")

    browser_sign_in(page, admin)
    page.goto(f"/organisations/{buyer.slug}/marches/")
    expect(page.get_by_role("heading", name="Marchés", exact=True)).to_have_count(1)
    assert_accessible(page, context="contracts list")
    page.get_by_role("link", name="Préparer le marché de 2026-SEM-08").click()
    assert_accessible(page, context="prepare")
    page.get_by_label("Numéro du marché").fill("2026 SEM 08 ?")
    page.get_by_role("button", name="Préparer le marché").click()
    expect(page.get_by_text("compte de 1 à 16 caractères")).to_have_count(1)
    page.get_by_label("Numéro du marché").fill("2026-S08")
    page.get_by_role("button", name="Préparer le marché").click()
    expect(page.get_by_text("Le marché est préparé")).to_have_count(1)
    assert_accessible(page, context="contract prepared")

    page.get_by_label("CCAG de référence").select_option("Travaux")
    page.get_by_role("button", name="Enregistrer les conditions").click()
    expect(page.get_by_text("Les conditions du marché sont enregistrées")).to_have_count(1)

    page.get_by_label("Mot de passe du certificat ou phrase secrète de signature").fill("pas la bonne phrase")
    page.get_by_role("button", name="Signer", exact=True).click()
    expect(page.get_by_text("La phrase secrète de signature est incorrecte")).to_have_count(1)
    assert_accessible(page, context="signature refused")
    page.get_by_label("Mot de passe du certificat ou phrase secrète de signature").fill(PASSPHRASE)
    page.get_by_role("button", name="Signer", exact=True).click()
    expect(page.get_by_text("Vous avez signé l'acte d'engagement.")).to_have_count(1)
    assert_accessible(page, context="buyer signed")

    page.context.clear_cookies()
    browser_sign_in(page, holder_admin)
    page.goto(f"/organisations/{holder.slug}/mes-marches/")
    assert_accessible(page, context="held contracts")
    page.get_by_role("link", name=award.evaluation.consultation.title).click()
    assert_accessible(page, context="held contract")
    page.get_by_label("Mot de passe du certificat ou phrase secrète de signature").fill(PASSPHRASE)
    page.get_by_role("button", name="Signer", exact=True).click()
    expect(page.get_by_text("les deux parties ont signé")).to_have_count(1)

    page.context.clear_cookies()
    browser_sign_in(page, admin)
    with scopes_disabled():
        contract = Contract.objects.get()
    page.goto(f"/organisations/{buyer.slug}/marches/{contract.pk}/")
    page.get_by_role("button", name="Notifier le marché au titulaire").click()
    expect(page.get_by_text("Le marché est notifié au titulaire")).to_have_count(1)
    expect(page.get_by_text("Courrier de notification envoyé")).to_have_count(1)
    assert_accessible(page, context="contract notified")
    with scopes_disabled():
        assert Contract.objects.get().state == "notified"
