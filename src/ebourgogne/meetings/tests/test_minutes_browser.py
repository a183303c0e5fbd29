"""In Chromium: the president gets a signing certificate from the platform, then signs the minutes the
buyer's agent generated; the next signer sees it is their turn. axe-core checks the certificate page
(empty, with an upload refused, with a certificate) and the minutes page (before and after signing, at
320 px)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ebourgogne.meetings import minutes as service
from ebourgogne.meetings.models import MinutesSignature
from ebourgogne.meetings.tests.test_minutes_helpers import closed_meeting
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory, UserFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSPHRASE = "une phrase secrète de signature"


def test_certificate_then_signature(browser_page, browser_sign_in, tmp_path):
    page = browser_page
    buyer = BuyerFactory(name="Commune de Nuits", slug="commune-de-nuits")
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(full_name="Nina Agent"))
    closed = closed_meeting(buyer, agent)
    service.minutes_generate(meeting=closed.meeting, acting_user=agent)

    browser_sign_in(page, closed.president)
    page.goto("/compte/certificats/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes certificats de signature")
    assert_accessible(page, context="no certificate")

    not_pkcs12 = tmp_path / "pas-un-certificat.p12"
    not_pkcs12.write_bytes(b"ceci n'est pas un certificat")
    page.get_by_label("Fichier du certificat (.p12 ou .pfx)").set_input_files(str(not_pkcs12))
    page.get_by_label("Mot de passe du fichier").fill("secret")
    page.get_by_role("button", name="Importer le certificat").click()
    expect(page.locator(".error-summary")).to_have_count(1)
    expect(page.get_by_text("n'est pas un certificat au format PKCS#12")).to_have_count(1)
    assert_accessible(page, context="upload refused")

    page.locator("#issue_passphrase").fill(PASSPHRASE)
    page.get_by_label("Phrase secrète de signature (une seconde fois)").fill(PASSPHRASE)
    page.get_by_role("button", name="Obtenir un certificat").click()
    expect(page.locator(".tag").filter(has_text="Utilisable")).to_have_count(1)
    assert_accessible(page, context="one certificate")

    url = f"/organisations/{buyer.slug}/seances/{closed.meeting.pk}/proces-verbal/"
    page.goto(url)
    expect(page.get_by_text("C'est à vous de signer.")).to_have_count(1)
    assert_accessible(page, context="minutes, my turn")
    page.get_by_label("Mot de passe du certificat ou phrase secrète de signature").fill("pas la bonne")
    page.get_by_role("button", name="Signer", exact=True).click()
    expect(page.get_by_text("phrase secrète de signature est incorrecte")).to_have_count(1)
    assert_accessible(page, context="wrong passphrase")
    page.get_by_label("Mot de passe du certificat ou phrase secrète de signature").fill(PASSPHRASE)
    page.get_by_role("button", name="Signer", exact=True).click()
    expect(page.get_by_text("Vous avez signé le procès-verbal.")).to_have_count(1)
    expect(page.get_by_text("C'est au tour de Marie Membre (signataire n° 2).")).to_have_count(1)
    page.set_viewport_size({"width": 320, "height": 800})
    assert_accessible(page, context="minutes signed once, 320 px")
    assert MinutesSignature.objects.filter(signed_at__isnull=False).count() == 1

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le procès-verbal en cours de signature (PDF)").click()
    assert download.value.suggested_filename.endswith("en-cours-de-signature.pdf")
