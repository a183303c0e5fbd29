"""The public page /verifier-une-signature/ and POST /api/v1/signatures/verify: anonymous checks of a
signed PDF, of a detached CAdES signature with its file, of garbage; limits; nothing stored. One browser
test with axe-core."""

from __future__ import annotations

import html

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ebourgogne.audit.models import AuditEvent
from ebourgogne.signatures import services, views_verify
from ebourgogne.signatures.tests import test_verify as made
from ebourgogne.signatures.tests.test_verify import PASSPHRASE, cades_detached, flip_in_first_revision

pytestmark = pytest.mark.django_db

URL = "/verifier-une-signature/"
API = "/api/v1/signatures/verify"

# The fixtures of test_verify (a platform certificate, a PDF it signed).
document, platform_certificate, signed_pdf = made.document, made.platform_certificate, made.signed_pdf


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()  # the limits count per address, and every test client is 127.0.0.1
    yield
    cache.clear()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_the_page_is_public_and_announces_its_limit(client):
    assert reverse("signatures_verify:verify") == URL
    response = client.get(URL)
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert "Vérifier une signature électronique" in text and "50 Mo" in text
    assert 'enctype="multipart/form-data"' in text and "<label" in text


def test_an_anonymous_visitor_checks_a_signed_pdf_and_nothing_is_stored(client, signed_pdf):
    events = AuditEvent.objects.count()
    response = client.post(URL, {"document": upload("acte signé.pdf", signed_pdf)})
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert "La signature de ce document est valide." in text
    assert "Signature de Marie Membre" in text and "PAdES" in text and "acte signé.pdf" in text
    assert "non qualifié" in text.lower() and "prouvée par un horodatage" in text
    assert '<th scope="row">' in text and "<caption" in text
    assert AuditEvent.objects.count() == events


def test_a_timestamped_pdf_shows_both_lines(client, signed_pdf):
    stamped = services.add_document_timestamp(signed_pdf)
    text = html.unescape(client.post(URL, {"document": upload("pv.pdf", stamped)}).content.decode())
    assert "Les 2 signatures de ce document sont valides." in text
    assert "1. Signature de Marie Membre" in text and "2. Horodatage du document par" in text


def test_a_modified_pdf_is_reported_not_valid(client, signed_pdf):
    response = client.post(URL, {"document": upload("acte.pdf", flip_in_first_revision(signed_pdf))})
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert "n'est pas valide" in text and "Altérée" in text


def test_a_detached_signature_with_its_file(client, platform_certificate):
    content = b"Memoire technique"
    signature = cades_detached(content, services.open_signer(platform_certificate, PASSPHRASE))
    response = client.post(
        URL, {"document": upload("memoire.txt", content), "signature": upload("memoire.txt.p7s", signature)}
    )
    text = html.unescape(response.content.decode())
    assert response.status_code == 200 and "La signature de ce document est valide." in text and "CAdES" in text
    response = client.post(
        URL, {"document": upload("memoire.txt", b"autre chose"), "signature": upload("memoire.txt.p7s", signature)}
    )
    assert "Altérée" in response.content.decode()


@pytest.mark.parametrize("data", [b"\x00garbage\xff", b"<?xml version='1.0'?><a>", b"%PDF-1.4 nothing"])
def test_garbage_gets_a_clear_message_not_a_500(client, data):
    response = client.post(URL, {"document": upload("bizarre.bin", data)})
    assert response.status_code == 200
    assert "Aucune signature n'a pu être vérifiée." in html.unescape(response.content.decode())


def test_missing_empty_and_oversized_files_are_refused_with_the_reason(client, monkeypatch):
    response = client.post(URL, {})
    assert response.status_code == 400 and "Choisissez le fichier à vérifier." in response.content.decode()
    response = client.post(URL, {"document": upload("vide.pdf", b"")})
    assert response.status_code == 400 and "vide" in response.content.decode()
    monkeypatch.setattr(views_verify.verification, "MAX_SIZE", 10)
    response = client.post(URL, {"document": upload("gros.pdf", b"%PDF-" + b"x" * 20)})
    assert response.status_code == 400 and "taille maximale" in response.content.decode()


def test_checks_are_limited_per_address(client, monkeypatch):
    monkeypatch.setattr(views_verify, "VERIFY_LIMIT", 2)
    for _ in range(2):
        assert client.post(URL, {"document": upload("a.bin", b"garbage")}).status_code == 200
    assert client.post(URL, {"document": upload("a.bin", b"garbage")}).status_code == 429
    assert client.post(API, {"file": upload("a.bin", b"garbage")}).status_code == 429


# --- API -----------------------------------------------------------------------------------------------


def test_the_api_returns_the_report_anonymously(client, signed_pdf):
    response = client.post(API, {"file": upload("acte.pdf", signed_pdf)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True and body["format"] == "PAdES"
    [signature] = body["signatures"]
    assert signature["signer_name"] == "Marie Membre" and signature["certificate_status_at_signing"] == "valid"
    assert signature["integrity_ok"] and signature["trusted"] and signature["qualified"] is False


def test_the_api_with_a_detached_signature_and_with_garbage(client, platform_certificate):
    content = b"Memoire technique"
    signature = cades_detached(content, services.open_signer(platform_certificate, PASSPHRASE))
    body = client.post(API, {"file": upload("m.txt", content), "signature": upload("m.p7s", signature)}).json()
    assert body["ok"] is True and body["format"] == "CAdES"
    response = client.post(API, {"file": upload("x.bin", b"garbage")})
    assert response.status_code == 200
    assert response.json()["ok"] is False and response.json()["errors"]
    response = client.post(API, {"file": upload("vide.bin", b"")})
    assert response.status_code == 400 and response.json()["code"] == "empty"
    assert client.post(API, {}).status_code in (400, 422)


# --- In a browser --------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_an_anonymous_visitor_checks_a_pdf(browser_page, signed_pdf, tmp_path):
    from playwright.sync_api import expect

    from ebourgogne.testing.browser import assert_accessible

    page = browser_page
    page.set_default_timeout(120_000)
    path = tmp_path / "acte-signe.pdf"
    path.write_bytes(signed_pdf)
    page.goto(URL)
    expect(page.get_by_role("heading", name="Vérifier une signature électronique")).to_have_count(1)
    assert_accessible(page, context="verification form")
    page.get_by_label("Document signé").set_input_files(str(path))
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_text("La signature de ce document est valide.")).to_have_count(1)
    expect(page.get_by_role("table", name="Signature de Marie Membre")).to_have_count(1)
    assert_accessible(page, context="verification report")
