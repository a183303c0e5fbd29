"""In Chromium: a company member uploads a document to the vault through the page, then reuses it in a practice
bid: the bid page's vault picker fetches the document, the uploader encrypts it in the browser to the practice
consultation's key and uploads the ciphertext. The ciphertext stored by the platform decrypts with the age CLI
and the practice key to the vault document's exact bytes (and is not those bytes). axe-core is clean on the vault
pages and on the bid page with the picker."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.sealing.services import retained_identity
from ebourgogne.tenders import uploads
from ebourgogne.tenders.models import BidFile
from ebourgogne.tenders.practice import practice_consultation
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import sign_in
from ebourgogne.vault.models import VaultDocument
from ebourgogne.vault.tests.conftest import pdf_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AGE = Path("/usr/bin/age")


def test_upload_to_the_vault_and_reuse_in_a_practice_bid(
    browser_page, browser_sign_in, company, company_member, tmp_path
):
    content = pdf_bytes(250_000, b"attestation URSSAF")
    (tmp_path / "attestation-urssaf.pdf").write_bytes(content)
    page = browser_page
    browser_sign_in(page, company_member)
    # The first request of the process imports every view and compiles the templates: made here, so that the
    # browser's first page is not the one paying for it (over 20 s on a loaded 2-core machine).
    client = sign_in(Client(), company_member)
    assert client.get(f"/organisations/{company.slug}/coffre-fort/").status_code == 200

    # 1. The vault: add a document through the form.
    page.goto(f"/organisations/{company.slug}/coffre-fort/")
    expect(page.get_by_role("heading", name="Coffre-fort de l'entreprise")).to_be_visible()
    assert_accessible(page, context="vault, empty")
    page.get_by_label("Type de document").select_option(label="Attestation de vigilance URSSAF")
    page.get_by_label("Intitulé").fill("URSSAF — 1er semestre")
    page.get_by_label("Date de délivrance").fill("2026-01-05")
    page.get_by_label("Fin de validité").fill("2099-07-05")
    page.get_by_label("Fichier").set_input_files(str(tmp_path / "attestation-urssaf.pdf"))
    page.get_by_role("button", name="Ajouter au coffre-fort").click()
    expect(page.get_by_text("Document « URSSAF — 1er semestre » ajouté au coffre-fort.")).to_be_visible()
    row = page.locator("tr", has_text="URSSAF — 1er semestre")
    expect(row).to_contain_text("Valide")
    assert_accessible(page, context="vault, one document")
    row.get_by_role("link", name="URSSAF — 1er semestre").click()
    expect(page.get_by_role("heading", name="Historique des versions")).to_be_visible()
    assert_accessible(page, context="vault document")
    page.goto(f"/organisations/{company.slug}/coffre-fort/acces/")
    assert_accessible(page, context="vault grants")

    # 2. A practice bid, then the vault document added to it from the bid page.
    with scopes_disabled():
        consultation = practice_consultation()
        identity = retained_identity(consultation.opening_key)
    assert identity
    answer = client.post(
        f"/api/v1/companies/{company.slug}/bids",
        json.dumps({"consultation": consultation.pk}),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    bid = answer.json()
    page.goto(f"/organisations/{company.slug}/offres/plis/{bid['id']}/")
    expect(page.locator("[data-sealed-uploader]")).to_have_attribute("data-ready", "true")
    picker = page.locator("[data-vault-picker]")
    expect(picker).to_be_visible()
    assert_accessible(page, context="bid page with the vault picker")
    page.get_by_role("button", name="Ajouter au pli les documents cochés").click()
    expect(page.get_by_text("Cochez au moins un document du coffre-fort.")).to_be_visible()
    picker.get_by_label("URSSAF — 1er semestre", exact=False).check()
    picker.get_by_label("Enveloppe").select_option("application")
    picker.get_by_role("button", name="Ajouter au pli les documents cochés").press("Enter")  # the keyboard works
    done = page.locator('[data-envelope="application"] .sealed-file[data-state=complete]')
    expect(done).to_have_count(1, timeout=60_000)
    expect(done).to_contain_text("attestation-urssaf.pdf")
    assert_accessible(page, context="bid page, vault document received")

    # 3. What the platform holds is the ciphertext of the vault document, for the consultation's key.
    with scopes_disabled():
        [bid_file] = BidFile.objects.filter(bid_id=bid["id"])
        document = VaultDocument.objects.get(company=company)
    assert (bid_file.name, bid_file.envelope, bid_file.state) == ("attestation-urssaf.pdf", "application", "complete")
    ciphertext = uploads.path_of(bid_file).read_bytes()
    assert content[:64] not in ciphertext
    (tmp_path / "identity.txt").write_text(identity + "\n")
    (tmp_path / "file.age").write_bytes(ciphertext)
    decrypted = subprocess.run(  # noqa: S603 (our own fixed arguments)
        [str(AGE), "-d", "-i", str(tmp_path / "identity.txt"), str(tmp_path / "file.age")],
        capture_output=True,
        check=True,
    )
    assert decrypted.stdout == content
    assert document.current_version.sha256 == __import__("hashlib").sha256(decrypted.stdout).hexdigest()
