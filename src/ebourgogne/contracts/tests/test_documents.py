"""The contract's documents: stored once with their SHA-256, signed in PAdES by the buyer then the holder
(each once, with a valid certificate of their own, never over a changed file), checked by pyHanko and by
poppler's pdfsig, and notified to the holder as an awards letter with its timestamped proof of sending."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.core.files.storage import default_storage
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.awards import evidence
from ebourgogne.awards.models import Letter, LetterEvent, LetterKind
from ebourgogne.contracts import documents
from ebourgogne.contracts.models import ContractDocument, DocumentKind
from ebourgogne.contracts.tests.conftest import PASSPHRASE, issue, reload
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import Role
from ebourgogne.signatures import services as signing
from ebourgogne.testing.factories import UserFactory, make_member
from ebourgogne.testing.pdfsig import pdfsig, signature_blocks
from ebourgogne.timestamping import authority as tsa

pytestmark = pytest.mark.django_db


def _stored(document: ContractDocument) -> bytes:
    with default_storage.open(document.storage_name, "rb") as handle:
        return handle.read()


@pytest.fixture
def document(preparing, buyer_agent, pdf):
    return documents.add(
        contract=preparing,
        kind=DocumentKind.CONTRACT,
        title="Acte d'engagement",
        pdf=pdf,
        filename="acte.pdf",
        acting_user=buyer_agent,
    )


@pytest.fixture
def signed_by_both(document, buyer_admin, company_admin, buyer_certificate, holder_certificate):
    documents.sign(
        document=document, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret=PASSPHRASE
    )
    return documents.sign(
        document=reload(document),
        party="holder",
        acting_user=company_admin,
        certificate=holder_certificate,
        secret=PASSPHRASE,
    )


# --- Storing ----------------------------------------------------------------------------------------


def test_a_pdf_is_stored_in_the_contract_folder_with_its_sha256(document, preparing, pdf):
    assert document.storage_name.startswith(f"contracts/{preparing.uid}/")
    assert _stored(document) == pdf == documents.content(document)
    assert document.sha256 == document.original_sha256 == hashlib.sha256(pdf).hexdigest()
    assert document.size == len(pdf) and document.filename == "acte.pdf"
    event = AuditEvent.objects.filter(action="contracts.document_added").get()
    assert event.data["sha256"] == document.sha256


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "empty"), (b"GIF89a not a pdf", "not_pdf"), (b"%PDF-1.7\n" + b"0" * 2048, "too_large")],
)
def test_not_a_pdf_or_too_large_is_refused_and_nothing_is_stored(preparing, buyer_agent, monkeypatch, data, code):
    monkeypatch.setattr(documents, "MAX_SIZE", 1024)
    with pytest.raises(DomainError) as refused:
        documents.add(
            contract=preparing,
            kind=DocumentKind.OTHER,
            title="Pièce",
            pdf=data,
            filename="x.pdf",
            acting_user=buyer_agent,
        )
    assert refused.value.code == code
    with scopes_disabled():
        assert not ContractDocument.objects.exists()
    _dirs, files = (
        default_storage.listdir(f"contracts/{preparing.uid}")
        if default_storage.exists(f"contracts/{preparing.uid}")
        else ([], [])
    )
    assert files == []


def test_who_may_add_a_document(preparing, pdf, company_admin, outsider, commission_member):
    def add(user, kind=DocumentKind.OTHER):
        return documents.add(contract=preparing, kind=kind, title="Pièce", pdf=pdf, filename="p.pdf", acting_user=user)

    # The holder adds a subcontracting act or another piece, never the contract itself.
    assert add(company_admin).kind == DocumentKind.OTHER
    with pytest.raises(PermissionRefused):
        add(company_admin, DocumentKind.CONTRACT)
    with pytest.raises(NotFound):
        add(outsider)
    with pytest.raises(PermissionRefused):
        add(commission_member, DocumentKind.CONTRACT)
    with scopes_disabled():
        assert ContractDocument.objects.count() == 1


def test_a_purged_document_has_no_content(document):
    with scopes_disabled():
        ContractDocument.objects.filter(pk=document.pk).update(storage_name="", purged_at=clock.now())
    with pytest.raises(DomainError) as refused:
        documents.content(reload(document))
    assert refused.value.code == "purged"


# --- Signing ----------------------------------------------------------------------------------------


def test_both_parties_sign_and_both_signatures_are_intact(signed_by_both, document, pdf, buyer_admin, company_admin):
    final = documents.content(signed_by_both)
    assert final.startswith(pdf)  # incremental updates: the original bytes are the first revision
    assert signed_by_both.sha256 == hashlib.sha256(final).hexdigest() != signed_by_both.original_sha256
    assert signed_by_both.original_sha256 == document.original_sha256
    assert signed_by_both.size == len(final)
    assert signed_by_both.buyer_signed_by == buyer_admin and signed_by_both.holder_signed_by == company_admin
    assert signed_by_both.buyer_signed_at <= signed_by_both.holder_signed_at
    checks = signing.validate_pdf(final)
    signatures = [check for check in checks if check.kind == "signature"]
    assert len(signatures) == 2
    assert [check.field_name for check in signatures] == ["Signature-acheteur", "Signature-titulaire"]
    assert all(check.ok for check in checks), checks
    assert [check.kind for check in checks].count("document_timestamp") == 2
    assert signed_by_both.verification["signatures"][-1]["ok"] is True
    actions = list(AuditEvent.objects.filter(action__startswith="contracts.signed").values_list("action", flat=True))
    assert sorted(actions) == ["contracts.signed_buyer", "contracts.signed_holder"]


def test_the_previous_file_is_deleted_after_the_commit_only(
    document, buyer_admin, buyer_certificate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        signed = documents.sign(
            document=document,
            party="buyer",
            acting_user=buyer_admin,
            certificate=buyer_certificate,
            secret=PASSPHRASE,
        )
    assert default_storage.exists(document.storage_name)  # not before the commit
    for callback in callbacks:
        callback()
    assert default_storage.exists(signed.storage_name) and not default_storage.exists(document.storage_name)


def test_an_unsigned_document_is_made_again_in_the_same_row(document, pdf, django_capture_on_commit_callbacks):
    """The same act made again (new terms, a new holder): new bytes under a new name, the old file deleted
    after the commit only."""
    again = pdf + b"\n% made again\n"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        replaced = documents.replace_unsigned(document, again)
    assert replaced.pk == document.pk and replaced.storage_name != document.storage_name
    assert default_storage.exists(document.storage_name)  # not before the commit
    for callback in callbacks:
        callback()
    assert not default_storage.exists(document.storage_name)
    current = reload(document)
    assert documents.content(current) == again and current.size == len(again)
    assert current.sha256 == current.original_sha256 == hashlib.sha256(again).hexdigest()


def test_a_signed_document_is_never_made_again(document, buyer_admin, buyer_certificate, pdf):
    signed = documents.sign(
        document=document, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret=PASSPHRASE
    )
    folder = f"contracts/{document.contract.uid}"
    files = default_storage.listdir(folder)[1]
    with pytest.raises(DomainError) as refused:
        documents.replace_unsigned(document, pdf)  # the caller's copy, read before the signature
    assert refused.value.code == "already_signed"
    assert reload(document).storage_name == signed.storage_name and reload(document).sha256 == signed.sha256
    assert default_storage.listdir(folder)[1] == files  # nothing stored


def test_pdfsig_reads_both_signatures(signed_by_both, tmp_path):
    path = tmp_path / "acte-signe.pdf"
    path.write_bytes(documents.content(signed_by_both))
    blocks = signature_blocks(pdfsig(path))
    signatures = [block for block in blocks if "ETSI.CAdES.detached" in block]
    assert len(signatures) == 2
    for block, name in zip(signatures, ["Alice Administratrice", "David Dirigeant"], strict=True):
        assert f"Signer Certificate Common Name: {name}" in block
        assert "Signature Validation: Signature is Valid." in block


def test_a_party_signs_only_once(document, buyer_admin, buyer_certificate):
    documents.sign(
        document=document, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret=PASSPHRASE
    )
    once = reload(document)
    with pytest.raises(DomainError) as refused:
        documents.sign(
            document=once, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret=PASSPHRASE
        )
    assert refused.value.code == "already_signed"
    assert reload(document).sha256 == once.sha256
    # Another administrator of the buyer does not sign a second time either.
    other = make_member(document.contract.organisation, Role.BUYER_ADMIN, UserFactory(full_name="Autre Admin"))
    with pytest.raises(DomainError, match="déjà signée"):
        documents.sign(document=once, party="buyer", acting_user=other, certificate=issue(other), secret=PASSPHRASE)


def test_a_tampered_file_is_refused_and_nothing_is_lost(document, buyer_admin, buyer_certificate, pdf):
    tampered = pdf.replace(b"engagement", b"ENGAGEMENT", 1) if b"engagement" in pdf else pdf + b"%"
    with default_storage.open(document.storage_name, "wb") as handle:
        handle.write(tampered)
    with pytest.raises(DomainError) as refused:
        documents.sign(
            document=document,
            party="buyer",
            acting_user=buyer_admin,
            certificate=buyer_certificate,
            secret=PASSPHRASE,
        )
    assert refused.value.code == "tampered"
    after = reload(document)
    assert after.buyer_signed_at is None and after.sha256 == document.sha256
    assert after.storage_name == document.storage_name and _stored(after) == tampered  # kept, for the inquiry
    assert not AuditEvent.objects.filter(action="contracts.signed_buyer").exists()


def test_an_expired_certificate_is_refused(document, buyer_admin, buyer_certificate):
    with time_machine.travel(clock.now() + dt.timedelta(days=800), tick=False):
        with pytest.raises(DomainError) as refused:
            documents.sign(
                document=document,
                party="buyer",
                acting_user=buyer_admin,
                certificate=buyer_certificate,
                secret=PASSPHRASE,
            )
    assert refused.value.code == "expired"
    assert reload(document).buyer_signed_at is None


def test_a_revoked_certificate_or_a_wrong_passphrase_is_refused(document, buyer_admin, buyer_certificate):
    with pytest.raises(DomainError) as refused:
        documents.sign(
            document=document, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret="faux"
        )
    assert refused.value.code == "wrong_secret"
    signing.certificate_revoke(user=buyer_admin, certificate=buyer_certificate)
    with pytest.raises(DomainError) as refused:
        documents.sign(
            document=document,
            party="buyer",
            acting_user=buyer_admin,
            certificate=reload(buyer_certificate),
            secret=PASSPHRASE,
        )
    assert refused.value.code == "revoked"
    after = reload(document)
    assert after.buyer_signed_at is None and after.sha256 == document.sha256


def test_who_may_sign_for_each_party(
    document, buyer_agent, buyer_admin, company_admin, company_member, other_company_admin, holder_certificate
):
    def attempt(user, party):
        documents.sign(document=document, party=party, acting_user=user, certificate=issue(user), secret=PASSPHRASE)

    with pytest.raises(PermissionRefused):
        attempt(buyer_agent, "buyer")  # contracts.sign: administrators only
    with pytest.raises(PermissionRefused):
        attempt(company_member, "holder")  # contracts.holder_sign: the company's administrators
    with pytest.raises(NotFound):
        attempt(other_company_admin, "holder")
    with pytest.raises(NotFound):
        attempt(company_admin, "buyer")  # the holder never signs for the buyer
    with pytest.raises(NotFound):
        # Somebody else's certificate is never usable.
        documents.sign(
            document=document,
            party="buyer",
            acting_user=buyer_admin,
            certificate=holder_certificate,
            secret=PASSPHRASE,
        )
    after = reload(document)
    assert after.buyer_signed_at is None and after.holder_signed_at is None and after.sha256 == document.sha256


# --- Notification -----------------------------------------------------------------------------------


def test_notification_needs_both_signatures(document, buyer_agent):
    with pytest.raises(DomainError) as refused:
        documents.notify(
            document=document,
            letter_kind=LetterKind.CONTRACT,
            subject="Notification",
            summary="",
            acting_user=buyer_agent,
        )
    assert refused.value.code == "not_signed"
    with scopes_disabled():
        assert not Letter.objects.exists()


def test_the_signed_document_is_notified_as_a_letter_with_a_timestamped_proof(
    signed_by_both, buyer_agent, company, company_member
):
    letter = documents.notify(
        document=signed_by_both,
        letter_kind=LetterKind.CONTRACT,
        subject="Notification du marché 2026-001",
        summary="Le marché signé par les deux parties vous est notifié.",
        acting_user=buyer_agent,
    )
    document = reload(signed_by_both)
    assert document.letter_id == letter.pk and document.notified_at == letter.sent_at
    assert letter.company_id == company.pk and letter.kind == LetterKind.CONTRACT
    with default_storage.open(letter.storage_name, "rb") as handle:
        assert handle.read() == documents.content(document)
    assert letter.sha256 == document.sha256
    with scopes_disabled():
        sent = LetterEvent.objects.get(letter=letter, kind="sent")
    assert evidence.verify_event(sent)  # the token binds the time and the signed PDF's hash
    assert sent.detail["link"].endswith(f"/organisations/{company.slug}/courriers/{letter.pk}/")
    assert AuditEvent.objects.filter(action="contracts.notified").get().data["sha256"] == letter.sha256
    with pytest.raises(DomainError) as again:
        documents.notify(
            document=document, letter_kind=LetterKind.CONTRACT, subject="x", summary="", acting_user=buyer_agent
        )
    assert again.value.code == "already_notified"
    # Only the buyer notifies.
    with pytest.raises(NotFound):
        documents.notify(
            document=document, letter_kind=LetterKind.CONTRACT, subject="x", summary="", acting_user=company_member
        )


def test_the_timestamp_authority_down_means_nothing_signed(document, buyer_admin, buyer_certificate, monkeypatch, pdf):
    def down(*_args, **_kwargs):
        raise tsa.TimestampError("authority unreachable")

    monkeypatch.setattr(type(tsa.get_authority()), "timestamp", down)
    with pytest.raises(DomainError) as refused:
        documents.sign(
            document=document,
            party="buyer",
            acting_user=buyer_admin,
            certificate=buyer_certificate,
            secret=PASSPHRASE,
        )
    assert refused.value.code == "timestamp_unavailable"
    after = reload(document)
    assert after.buyer_signed_at is None and documents.content(after) == pdf
