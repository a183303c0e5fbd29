"""In Chromium: a buyer agent uploads the tender files of a published consultation (with the upload
progress script) and publishes them; an anonymous visitor downloads a file and the ZIP without an
account, then leaves an address to be told of changes. axe-core checks every page visited."""

from __future__ import annotations

import zipfile

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.consultations.models import CpvCode
from ebourgogne.dce.models import DceVersion, Download, Downloader
from ebourgogne.dce.tasks import build_archive
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import BuyerFactory, ConsultationFactory, make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_buyer_uploads_and_publishes_then_anyone_downloads(browser_page, browser_sign_in, tmp_path):
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
    buyer = BuyerFactory(name="Commune de Vézelay", slug="commune-de-vezelay")
    consultation = ConsultationFactory(
        organisation=buyer, published=True, reference="2026-VEZ-01", title="Réfection du parvis"
    )
    agent = make_member(buyer, Role.BUYER_AGENT)
    rc = tmp_path / "Règlement de consultation.pdf"
    rc.write_bytes(b"%PDF-1.7 " + b"r" * 50_000)
    cctp = tmp_path / "CCTP.txt"
    cctp.write_text("Cahier des clauses techniques particulières\n" * 100)

    browser_sign_in(page, agent)
    page.goto(f"/organisations/{buyer.slug}/consultations/{consultation.pk}/dce/")
    assert_accessible(page, context="DCE management, empty")
    page.get_by_role("button", name="Déposer").click()  # nothing chosen: the browser's required check
    page.locator("#dce-file").set_input_files(str(rc))
    page.get_by_role("button", name="Déposer").click()
    expect(page.get_by_text("Fichier « Règlement de consultation.pdf » déposé")).to_have_count(1)
    page.locator("#dce-file").set_input_files(str(cctp))
    page.get_by_role("button", name="Déposer").click()
    expect(page.get_by_text("Fichier « CCTP.txt » déposé")).to_have_count(1)
    expect(page.get_by_role("cell", name="PDF", exact=True)).to_have_count(1)
    assert_accessible(page, context="DCE management with two files")
    page.get_by_role("button", name="Publier le rectificatif").click()  # no reason: refused
    expect(page.get_by_text("Indiquez le motif de la modification")).to_have_count(1)
    assert_accessible(page, context="publish refused")
    page.get_by_label("Motif de la modification").fill("Mise en ligne du DCE.")
    page.get_by_role("button", name="Publier le rectificatif").click()
    expect(page.get_by_text("Mise en ligne du DCE.")).to_have_count(1)
    with scopes_disabled():
        version = DceVersion.objects.get(consultation=consultation, number=1)
    assert version.published_at is not None
    build_archive.call(version.pk)  # what the worker does after the commit

    # An anonymous visitor: no account, nothing to fill in.
    page.context.clear_cookies()
    page.goto(f"/consultations/{consultation.pk}/")
    expect(page.get_by_role("link", name="Règlement de consultation.pdf")).to_have_count(1)
    assert_accessible(page, context="public consultation page with its DCE")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Règlement de consultation.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "Règlement de consultation.pdf"
    assert open(download.path(), "rb").read() == rc.read_bytes()
    with page.expect_download() as zip_info:
        page.get_by_role("link", name="Télécharger tout le DCE (ZIP)").click()
    with zipfile.ZipFile(zip_info.value.path()) as archive:
        assert sorted(archive.namelist()) == ["CCTP.txt", "Règlement de consultation.pdf"]

    # Optional identification.
    page.locator("#dce_id_email").fill("lea@exemple.test")
    page.locator("#dce_id_name").fill("Léa Martin")
    page.get_by_role("button", name="M'identifier").click()
    expect(page.get_by_text("Vous êtes identifié·e pour cette consultation")).to_have_count(1)
    assert_accessible(page, context="identified visitor")
    with page.expect_download():
        page.get_by_role("link", name="CCTP.txt").click()
    with scopes_disabled():
        assert Downloader.objects.get(consultation=consultation).email == "lea@exemple.test"
        rows = list(Download.objects.filter(consultation=consultation).values_list("file__name", "downloader__email"))
    assert sorted(rows, key=str) == sorted(
        [("Règlement de consultation.pdf", None), (None, None), ("CCTP.txt", "lea@exemple.test")], key=str
    )

    # The same page on a 320 px screen, in English.
    page.set_viewport_size({"width": 320, "height": 800})
    page.context.add_cookies([{"name": "ebourgogne_language", "value": "en", "url": page.url}])
    page.goto(f"/consultations/{consultation.pk}/")
    expect(page.get_by_role("link", name="Download all the tender files (ZIP)")).to_have_count(1)
    assert_accessible(page, context="public consultation page, 320 px, English")
