"""The minutes (procès-verbal): generated from the closed session's record, signed in order by the
president and the members with their own certificates (PAdES, checked by pyHanko and pdfsig), then
timestamped and kept immutable with its hash in the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess

import pytest
import time_machine
from django.core.files.storage import default_storage
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.meetings import minutes as service
from ebourgogne.meetings.models import Minutes, MinutesSignature, MinutesState
from ebourgogne.meetings.tests.test_minutes_helpers import closed_meeting
from ebourgogne.signatures import services as signing
from ebourgogne.signatures.tests.pkcs12 import PASSWORD, make_pkcs12

pytestmark = pytest.mark.django_db

PASSPHRASE = "phrase secrète de signature du membre"


def poppler(tool: str, *args: str) -> str:
    binary = shutil.which(tool)
    if binary is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed: the independent check did NOT run")
    done = subprocess.run(  # noqa: S603 - a fixed binary on a file of ours
        [binary, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def stored(minutes: Minutes) -> bytes:
    with default_storage.open(minutes.storage_name, "rb") as handle:
        return handle.read()


@pytest.fixture
def closed(buyer, buyer_agent):
    return closed_meeting(buyer, buyer_agent)


@pytest.fixture
def certificates(closed):
    """The president signs with an uploaded PKCS#12 (an outside CA), the others with platform certificates."""
    return {
        closed.president: (
            signing.certificate_upload(user=closed.president, data=make_pkcs12("Paul Président"), password=PASSWORD),
            PASSWORD,
        ),
        closed.second: (signing.certificate_issue(user=closed.second, passphrase=PASSPHRASE), PASSPHRASE),
        closed.third: (signing.certificate_issue(user=closed.third, passphrase=PASSPHRASE), PASSPHRASE),
        closed.accountant: (signing.certificate_issue(user=closed.accountant, passphrase=PASSPHRASE), PASSPHRASE),
    }


def sign(minutes, user, certificates, *, secret=None):
    certificate, right = certificates[user]
    return service.minutes_sign(minutes=minutes, user=user, certificate=certificate, secret=secret or right)


def unchanged(minutes: Minutes, before: tuple[str, str, int]) -> None:
    minutes.refresh_from_db()
    signed = MinutesSignature.objects.filter(minutes=minutes, signed_at__isnull=False).count()
    assert (minutes.sha256, minutes.storage_name, signed) == before
    assert hashlib.sha256(stored(minutes)).hexdigest() == minutes.sha256


def snapshot(minutes: Minutes) -> tuple[str, str, int]:
    minutes.refresh_from_db()
    return (
        minutes.sha256,
        minutes.storage_name,
        MinutesSignature.objects.filter(minutes=minutes, signed_at__isnull=False).count(),
    )


def test_generate_from_the_session_record(closed, tmp_path):
    minutes = service.minutes_generate(meeting=closed.meeting, acting_user=closed.staff)
    data = stored(minutes)
    assert hashlib.sha256(data).hexdigest() == minutes.sha256 == minutes.unsigned_sha256
    assert minutes.state == MinutesState.SIGNING
    assert minutes.storage_name.startswith("meetings/minutes/") and len(minutes.storage_name) > 40
    rows = list(MinutesSignature.objects.filter(minutes=minutes).order_by("order"))
    assert [row.user for row in rows] == closed.default_signers  # president first, deliberative present/remote
    assert [row.role for row in rows] == ["president", "member", "member"]
    event = AuditEvent.objects.get(action="meeting.minutes.generated")
    assert event.data["sha256"] == minutes.sha256

    path = tmp_path / "pv.pdf"
    path.write_bytes(data)
    text = " ".join(poppler("pdftotext", str(path), "-").split())
    for expected in (
        "Procès-verbal de la séance",
        "Commune de Beaune",
        "Commission d'appel d'offres",
        "Paul Président (président)",
        "Présent à distance",
        "Agnès Absente",
        "Camille Comptable",
        "Le quorum est atteint",
        "Choix du prestataire de nettoyage",
        "Propreté Bourguignonne",
        "Vote : 3 pour, 0 contre, 0 abstention(s).",
        "Signatures",
    ):
        assert expected in text, expected
    info = poppler("pdfinfo", str(path))
    assert "Title:" in info and "Procès-verbal" in info
    assert "Author:          Commune de Beaune" in info
    assert "CreationDate:" in info
    fonts = poppler("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts), fonts  # every font embedded
    assert b"/Lang (fr)" in data or b"/Lang(fr)" in data


def test_generate_only_once_the_session_is_closed(buyer, buyer_agent):
    from ebourgogne.meetings.models import Meeting

    closed = closed_meeting(buyer, buyer_agent)
    with scopes_disabled():
        Meeting.objects.filter(pk=closed.meeting.pk).update(state="in_session")
        closed.meeting.refresh_from_db()
    with pytest.raises(DomainError) as caught:
        service.minutes_generate(meeting=closed.meeting, acting_user=buyer_agent)
    assert caught.value.code == "not_closed"
    assert not Minutes.objects.exists()


def test_choice_of_signers(closed):
    with pytest.raises(DomainError) as caught:
        service.minutes_generate(meeting=closed.meeting, acting_user=closed.staff, signers=[closed.second.pk])
    assert "président" in caught.value.message
    with pytest.raises(DomainError):
        service.minutes_generate(
            meeting=closed.meeting, acting_user=closed.staff, signers=[closed.president.pk, closed.fourth.pk]
        )  # absent: did not sit
    assert not Minutes.objects.exists()
    minutes = service.minutes_generate(
        meeting=closed.meeting, acting_user=closed.staff, signers=[closed.accountant.pk, closed.president.pk]
    )
    assert [row.user for row in service.signatures_of(minutes)] == [closed.president, closed.accountant]


def test_only_staff_or_president_generate(closed):
    with pytest.raises(PermissionRefused):
        service.minutes_generate(meeting=closed.meeting, acting_user=closed.second)
    assert service.minutes_generate(meeting=closed.meeting, acting_user=closed.president).pk


def test_signing_in_order_to_the_sealed_document(closed, certificates, tmp_path):
    minutes = service.minutes_generate(meeting=closed.meeting, acting_user=closed.staff)
    unsigned = stored(minutes)

    # Not their turn yet: told whose turn it is; nothing changes.
    before = snapshot(minutes)
    with pytest.raises(DomainError) as caught:
        sign(minutes, closed.second, certificates)
    assert caught.value.code == "not_your_turn"
    assert "Paul Président" in caught.value.message and "n° 1" in caught.value.message
    unchanged(minutes, before)

    # Someone not in the list.
    with pytest.raises(PermissionRefused) as caught:
        sign(minutes, closed.accountant, certificates)
    assert caught.value.code == "not_a_signer"
    unchanged(minutes, before)

    # A wrong password: nothing signed.
    with pytest.raises(DomainError) as caught:
        sign(minutes, closed.president, certificates, secret="mauvais mot de passe")
    assert caught.value.code == "wrong_secret"
    unchanged(minutes, before)

    # Somebody else's certificate.
    with pytest.raises(NotFound):
        service.minutes_sign(
            minutes=minutes, user=closed.president, certificate=certificates[closed.second][0], secret=PASSPHRASE
        )
    unchanged(minutes, before)

    sign(minutes, closed.president, certificates)
    minutes.refresh_from_db()
    after_first = stored(minutes)
    assert after_first.startswith(unsigned)  # incremental update
    first = MinutesSignature.objects.get(minutes=minutes, order=1)
    assert first.signed_at is not None and first.sha256_after == minutes.sha256
    assert first.certificate_fingerprint == certificates[closed.president][0].fingerprint
    assert "Paul Président" in first.certificate_subject
    event = AuditEvent.objects.filter(action="meeting.minutes.signed").latest("seq")
    assert event.data["sha256"] == minutes.sha256 and event.data["sha256_before"] == minutes.unsigned_sha256
    assert not event.data["complete"]

    # Twice: refused.
    before = snapshot(minutes)
    with pytest.raises(DomainError) as caught:
        sign(minutes, closed.president, certificates)
    assert caught.value.code == "already_signed"
    unchanged(minutes, before)
    # No new generation once someone signed.
    with pytest.raises(DomainError):
        service.minutes_generate(meeting=closed.meeting, acting_user=closed.staff)
    unchanged(minutes, before)

    sign(minutes, closed.second, certificates)
    sign(minutes, closed.third, certificates)
    minutes.refresh_from_db()
    assert minutes.state == MinutesState.SIGNED and minutes.signed_at is not None
    final = stored(minutes)
    assert final.startswith(after_first)
    assert hashlib.sha256(final).hexdigest() == minutes.sha256
    last = AuditEvent.objects.filter(action="meeting.minutes.signed").latest("seq")
    assert last.data["complete"] and last.data["final_sha256"] == minutes.sha256

    # pyHanko: three signatures in order, each covering its revision, then the document timestamp.
    checks = signing.validate_pdf(final)
    assert [check.kind for check in checks] == ["signature"] * 3 + ["document_timestamp"]
    assert all(check.ok for check in checks), checks
    assert [check.fingerprint for check in checks[:3]] == [
        certificates[user][0].fingerprint for user in closed.default_signers
    ]
    assert [check.field_name for check in checks[:3]] == ["Signature1", "Signature2", "Signature3"]
    assert checks[3].covers_file

    # pdfsig, independently.
    path = tmp_path / "pv-signe.pdf"
    path.write_bytes(final)
    report = poppler("pdfsig", "-no-ocsp", str(path))
    blocks = report.split("Signature #")[1:]
    assert len(blocks) == 4
    for block, name in zip(blocks[:3], ["Paul Président", "Marie Membre", "Rémi Distant"], strict=True):
        assert f"Common Name: {name}" in block
        assert "Signature Validation: Signature is Valid." in block
    assert "Total document signed" in blocks[3]

    # Immutable from now on.
    before = snapshot(minutes)
    for user in (closed.president, closed.third, closed.accountant):
        with pytest.raises(DomainError):
            sign(minutes, user, certificates)
    with pytest.raises(DomainError):
        service.minutes_generate(meeting=closed.meeting, acting_user=closed.staff)
    unchanged(minutes, before)


def test_expired_or_revoked_certificate_cannot_sign(closed, certificates):
    minutes = service.minutes_generate(meeting=closed.meeting, acting_user=closed.staff)
    before = snapshot(minutes)
    certificate, secret = certificates[closed.president]
    with time_machine.travel(clock.now() + dt.timedelta(days=800), tick=False):
        with pytest.raises(DomainError) as caught:
            service.minutes_sign(minutes=minutes, user=closed.president, certificate=certificate, secret=secret)
    assert caught.value.code == "expired" and "a expiré le" in caught.value.message
    unchanged(minutes, before)
    signing.certificate_revoke(user=closed.president, certificate=certificate)
    certificate.refresh_from_db()
    with pytest.raises(DomainError) as caught:
        service.minutes_sign(minutes=minutes, user=closed.president, certificate=certificate, secret=secret)
    assert caught.value.code == "revoked"
    unchanged(minutes, before)


def test_a_stored_file_changed_behind_our_back_is_not_signed(closed, certificates):
    minutes = service.minutes_generate(meeting=closed.meeting, acting_user=closed.staff)
    with default_storage.open(minutes.storage_name, "wb") as handle:
        handle.write(b"%PDF-1.7 autre chose")
    with pytest.raises(DomainError) as caught:
        sign(minutes, closed.president, certificates)
    assert caught.value.code == "tampered"
    assert not MinutesSignature.objects.filter(minutes=minutes, signed_at__isnull=False).exists()


def test_generate_again_before_anybody_signs(closed):
    first = service.minutes_generate(meeting=closed.meeting, acting_user=closed.staff)
    first_name = first.storage_name
    again = service.minutes_generate(
        meeting=closed.meeting, acting_user=closed.staff, signers=[closed.president.pk, closed.second.pk]
    )
    assert again.pk == first.pk and again.storage_name != first_name
    assert [row.user for row in service.signatures_of(again)] == [closed.president, closed.second]
    event = AuditEvent.objects.filter(action="meeting.minutes.generated").latest("seq")
    assert event.data["replaces_sha256"] is not None
