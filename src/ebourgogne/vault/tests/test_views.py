"""The company's vault pages: upload, statuses, versions, delete, download; bad input answered clearly
with nothing stored and nothing lost; a damaged stored file refused with a clear page."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.testing.factories import sign_in
from ebourgogne.vault import storage
from ebourgogne.vault.models import VaultDocument, VaultDocumentVersion
from ebourgogne.vault.tests.conftest import pdf_bytes
from ebourgogne.vault.tests.helpers import add_version, body_of, only_document, upload

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def member_client(client, company_member, vault_dir):
    return sign_in(client, company_member)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def stored_files(vault_dir) -> list:
    return sorted(p for p in vault_dir.rglob("*.ebv"))


def leftovers(vault_dir) -> list:
    return sorted(p for p in (vault_dir / "tmp").glob("*")) if (vault_dir / "tmp").exists() else []


def test_upload_encrypts_at_rest_and_download_gives_the_same_bytes(member_client, company, vault_dir):
    content = pdf_bytes(300_000, b"kbis")
    answer = upload(member_client, company, "kbis.pdf", content, issue_date="2026-05-20", valid_until="2026-08-20")
    assert answer.status_code == 302, answer.content.decode()[:2000]
    document = only_document(company)
    version = document.current_version
    assert (document.doc_type, document.title, version.original_name, version.size) == (
        "kbis",
        "Extrait Kbis",
        "kbis.pdf",
        len(content),
    )
    assert version.sha256 == hashlib.sha256(content).hexdigest()
    assert version.content_type == "application/pdf"
    [path] = stored_files(vault_dir)
    stored = path.read_bytes()
    assert len(stored) == version.stored_size > len(content)
    assert content[:64] not in stored and b"%PDF" not in stored
    assert leftovers(vault_dir) == []

    page = member_client.get(f"/organisations/{company.slug}/coffre-fort/")
    assert page.status_code == 200
    assert "Extrait Kbis" in page.content.decode() and "Valide" in page.content.decode()

    download = member_client.get(f"/organisations/{company.slug}/coffre-fort/{document.pk}/telecharger/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert "kbis.pdf" in download["Content-Disposition"]
    assert download["Content-Type"] == "application/pdf"
    assert int(download["Content-Length"]) == len(content)
    assert body_of(download) == content
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="vault.document.created").count() == 1
        assert AuditEvent.objects.filter(action="vault.document.downloaded").count() == 1


@pytest.mark.parametrize(
    ("valid_until", "status", "label"),
    [
        ("2026-12-31", "valid", "Valide"),
        ("2026-06-25", "expiring", "Expire bientôt"),
        ("2026-05-31", "expired", "Expiré"),
    ],
)
def test_status_on_the_list(member_client, company, valid_until, status, label):
    upload(
        member_client, company, "urssaf.pdf", pdf_bytes(), doc_type="urssaf", title="URSSAF", valid_until=valid_until
    )
    assert only_document(company).status(dt.date(2026, 6, 1)) == status
    page = member_client.get(f"/organisations/{company.slug}/coffre-fort/").content.decode()
    assert f'<span class="tag tag-{"ok" if status == "valid" else "warn"}">{label}</span>' in page


def test_expiry_before_issue_is_refused_with_a_message_and_the_fields_are_kept(member_client, company, vault_dir):
    answer = upload(
        member_client,
        company,
        "kbis.pdf",
        pdf_bytes(),
        title="Kbis mai",
        issue_date="2026-05-20",
        valid_until="2026-05-01",
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "La date de fin de validité (01/05/2026) est antérieure à la date de délivrance (20/05/2026)" in page
    assert 'value="Kbis mai"' in page  # what was typed is shown again
    with scopes_disabled():
        assert not VaultDocument.objects.exists()
    assert stored_files(vault_dir) == [] and leftovers(vault_dir) == []


def test_a_file_whose_content_is_not_its_extension_is_refused(member_client, company, vault_dir):
    answer = upload(member_client, company, "kbis.pdf", b"MZ\x90\x00 this is a Windows program" * 50)
    assert answer.status_code == 400
    assert "ne correspond pas à un fichier PDF" in answer.content.decode()
    answer = upload(member_client, company, "outil.exe", b"MZ\x90\x00" * 50)
    assert answer.status_code == 400
    assert "Ce type de fichier n&#x27;est pas accepté dans le coffre-fort" in answer.content.decode()
    answer = upload(member_client, company, "vide.pdf", b"")
    assert answer.status_code == 400
    with scopes_disabled():
        assert not VaultDocument.objects.exists()
    assert stored_files(vault_dir) == [] and leftovers(vault_dir) == []


def test_a_file_over_the_limit_is_refused_with_the_limit(member_client, company, vault_dir, settings):
    settings.VAULT_MAX_FILE_SIZE = 200_000
    answer = upload(member_client, company, "bilan.pdf", pdf_bytes(300_000), doc_type="financial", title="Bilan 2025")
    assert answer.status_code == 413
    page = answer.content.decode()
    assert "Le fichier dépasse la taille maximale de" in page
    assert 'value="Bilan 2025"' in page
    with scopes_disabled():
        assert not VaultDocument.objects.exists()
    assert stored_files(vault_dir) == [] and leftovers(vault_dir) == []
    assert upload(member_client, company, "bilan.pdf", pdf_bytes(150_000)).status_code == 302


def test_other_bad_input(member_client, company):
    assert upload(member_client, company, "a.pdf", pdf_bytes(), doc_type="passport").status_code == 400
    assert upload(member_client, company, "a.pdf", pdf_bytes(), title="").status_code == 400
    answer = upload(member_client, company, "a.pdf", pdf_bytes(), valid_until="31/02/2026")
    assert answer.status_code == 400 and "Saisissez une date valide" in answer.content.decode()
    answer = upload(member_client, company, "a.pdf", pdf_bytes(), issue_date="2027-01-01")
    assert answer.status_code == 400 and "ne peut pas être dans le futur" in answer.content.decode()
    answer = member_client.post(
        f"/organisations/{company.slug}/coffre-fort/deposer/", {"doc_type": "kbis", "title": "x"}
    )
    assert answer.status_code == 400
    with scopes_disabled():
        assert not VaultDocument.objects.exists()


def test_the_csrf_check_still_applies_to_uploads(company, company_member, vault_dir):
    from django.test import Client

    client = sign_in(Client(enforce_csrf_checks=True), company_member)
    assert upload(client, company, "kbis.pdf", pdf_bytes()).status_code == 403
    with scopes_disabled():
        assert not VaultDocument.objects.exists()


def test_new_version_keeps_the_history_downloadable(member_client, company, vault_dir):
    first, second = pdf_bytes(10_000, b"v1"), pdf_bytes(20_000, b"v2")
    upload(member_client, company, "assurance-2025.pdf", first, doc_type="insurance", valid_until="2026-06-10")
    document = only_document(company)
    answer = add_version(
        member_client,
        company,
        document,
        "assurance-2026.pdf",
        second,
        issue_date="2026-05-30",
        valid_until="2027-06-10",
    )
    assert answer.status_code == 302
    document = only_document(company)
    assert document.current_version.number == 2 and document.valid_until == dt.date(2027, 6, 10)
    base = f"/organisations/{company.slug}/coffre-fort/{document.pk}"
    assert body_of(member_client.get(f"{base}/telecharger/")) == second
    assert body_of(member_client.get(f"{base}/versions/1/telecharger/")) == first
    assert body_of(member_client.get(f"{base}/versions/2/telecharger/")) == second
    assert member_client.get(f"{base}/versions/3/telecharger/").status_code == 404
    page = member_client.get(f"{base}/").content.decode()
    assert "assurance-2025.pdf" in page and "assurance-2026.pdf" in page
    # A bad new version changes nothing.
    answer = add_version(
        member_client, company, document, "x.pdf", pdf_bytes(), issue_date="2026-05-30", valid_until="2026-01-01"
    )
    assert answer.status_code == 400
    assert only_document(company).current_version.number == 2
    assert len(stored_files(vault_dir)) == 2


def test_delete_is_soft(member_client, company, vault_dir):
    upload(member_client, company, "rib.pdf", pdf_bytes(), doc_type="bank", title="Compte Banque du Morvan")
    document = only_document(company)
    base = f"/organisations/{company.slug}/coffre-fort/{document.pk}"
    assert member_client.post(f"{base}/supprimer/").status_code == 302
    assert member_client.get(f"{base}/telecharger/").status_code == 404
    assert member_client.get(f"{base}/").status_code == 404
    assert (
        "Compte Banque du Morvan"
        not in member_client.get(f"/organisations/{company.slug}/coffre-fort/").content.decode()
    )
    with scopes_disabled():
        assert VaultDocument.objects.get(pk=document.pk).deleted_at is not None
        assert AuditEvent.objects.filter(action="vault.document.deleted").count() == 1
    assert len(stored_files(vault_dir)) == 1  # kept for the record


@pytest.mark.parametrize("damage", ["flip", "truncate", "swap"])
def test_a_damaged_stored_file_is_refused_with_a_clear_page(member_client, company, vault_dir, damage):
    upload(member_client, company, "kbis.pdf", pdf_bytes(200_000, b"a"))
    upload(member_client, company, "urssaf.pdf", pdf_bytes(200_000, b"b"), doc_type="urssaf", title="URSSAF")
    with scopes_disabled():
        kbis = VaultDocumentVersion.objects.get(original_name="kbis.pdf")
        urssaf = VaultDocumentVersion.objects.get(original_name="urssaf.pdf")
    path = storage.path_of(kbis.storage_name)
    data = path.read_bytes()
    if damage == "flip":
        path.write_bytes(data[:70_000] + bytes([data[70_000] ^ 0x80]) + data[70_001:])
    elif damage == "truncate":
        path.write_bytes(data[: storage.crypto.HEADER_LENGTH + storage.crypto.CHUNK + storage.crypto.TAG])
    else:  # the other document's file put in its place
        path.write_bytes(storage.path_of(urssaf.storage_name).read_bytes())
    answer = member_client.get(f"/organisations/{company.slug}/coffre-fort/{kbis.document_id}/telecharger/")
    assert answer.status_code == 409
    assert not answer.streaming
    assert "endommagé ou incomplet" in answer.content.decode()
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="vault.integrity.failed").count() == 1
    # The other document is fine.
    assert (
        member_client.get(f"/organisations/{company.slug}/coffre-fort/{urssaf.document_id}/telecharger/").status_code
        == 200
    )


def test_english_messages(member_client, company):
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = member_client.post(
        f"/organisations/{company.slug}/coffre-fort/deposer/",
        {
            "doc_type": "kbis",
            "title": "K",
            "issue_date": "2026-05-20",
            "valid_until": "2026-05-01",
            "file": SimpleUploadedFile("k.pdf", pdf_bytes()),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    assert "is before the issue date" in answer.content.decode()
