"""The opening of sealed bids: real key shares, which bids are opened, what is reported, what stays
sealed, and that a refused opening decrypts nothing."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
import time_machine
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.consultations.models import State
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError
from ebourgogne.sealing.models import ConsultationKey, KeyShare, KeyState
from ebourgogne.tenders import opening as service
from ebourgogne.tenders import uploads
from ebourgogne.tenders.models import Bid, BidKind, OpenedFile, OpenedStatus, Opening, OpeningState
from ebourgogne.tenders.tests.opening_helpers import corrupt_zip, deposit, make_zip, run_jobs
from ebourgogne.testing.factories import CompanyFactory, ConsultationFactory
from ebourgogne.testing.sealing import give_test_key, sealed_consultation

pytestmark = pytest.mark.django_db


def _read(opened: OpenedFile) -> bytes:
    from django.core.files.storage import default_storage

    with default_storage.open(opened.storage_name, "rb") as handle:
        return handle.read()


def _after(consultation) -> dt.datetime:
    return consultation.bids_deadline + dt.timedelta(hours=1)


@pytest.fixture
def sealed(buyer):
    return sealed_consultation(buyer)


def _actions(*names: str) -> list[str]:
    return list(AuditEvent.objects.filter(action__in=names).order_by("seq").values_list("action", flat=True))


def test_opening_with_real_shares_opens_the_last_in_time_bid_of_each_company(
    sealed, company, django_capture_on_commit_callbacks
):
    consultation = sealed.consultation
    other = CompanyFactory(name="Charpentes de l'Auxois")
    latecomer = CompanyFactory(name="Toitures tardives")
    now = clock.now()
    first = deposit(consultation, company, [("offre.pdf.age", b"%PDF premiere offre")], at=now - dt.timedelta(hours=2))
    last = deposit(consultation, company, [("offre.pdf.age", b"%PDF offre definitive")], at=now - dt.timedelta(hours=1))
    archive = make_zip({"memoire.txt": b"Memoire technique", "prix.csv": b"1;2;3"})
    theirs = deposit(consultation, other, [("dossier.zip.age", archive)], at=now)
    member = sealed.commission.members[0]
    with time_machine.travel(_after(consultation), tick=False):
        late = deposit(consultation, latecomer, [("offre.pdf.age", b"%PDF en retard")], late=True)
        with django_capture_on_commit_callbacks(execute=True):
            opening = service.opening_start(
                acting_user=member, consultation=consultation, contributions=sealed.commission.contributions(2)
            )
        assert opening.state == OpeningState.RUNNING
        opening = run_jobs(opening)

    assert opening.state == OpeningState.DONE, opening.error
    with scopes_disabled():
        opened = {
            item.bid_file.bid_id: item for item in OpenedFile.objects.filter(opening=opening).select_related("bid_file")
        }
        assert set(opened) == {last.pk, theirs.pk}
        assert _read(opened[last.pk]) == b"%PDF offre definitive"
        assert opened[last.pk].size == len(b"%PDF offre definitive")
        assert opened[theirs.pk].status == OpenedStatus.OK
        assert _read(opened[theirs.pk]) == archive
        assert Bid.objects.get(pk=first.pk).opened_at is None
        assert Bid.objects.get(pk=late.pk).opened_at is None
        assert Bid.objects.get(pk=last.pk).opened_at is not None
        consultation.refresh_from_db()
        key = ConsultationKey.objects.get(consultation=consultation)
    assert consultation.state == State.OPENED
    # The buyer's default policy erases the identity; the job's sealed copy is gone.
    assert key.state == KeyState.ERASED and key.retained_identity is None

    report = opening.report
    assert [bid["company"] for bid in report["opened"]] == [company.name, other.name]
    assert [bid["bid"] for bid in report["superseded"]] == [first.pk]
    assert [bid["bid"] for bid in report["late"]] == [late.pk]
    assert report["late"][0]["receipt"] == f"EB-{consultation.pk}-{late.number}"
    assert {m["id"] for m in report["members"]} == {u.pk for u in sealed.commission.members[:2]}
    assert report["problems"] == []
    assert _actions("bids.opening.started", "bids.opened", "bids.opening.finished") == [
        "bids.opening.started",
        "bids.opened",
        "bids.opened",
        "bids.opening.finished",
    ]
    pdf = service.report_pdf(opening)
    assert pdf.startswith(b"%PDF")


def _no_opening(consultation) -> None:
    with scopes_disabled():
        assert not Opening.objects.filter(consultation=consultation).exists()
        assert not OpenedFile.objects.filter(opening__consultation=consultation).exists()
        assert Bid.objects.filter(consultation=consultation, opened_at__isnull=False).count() == 0
        key = ConsultationKey.objects.get(consultation=consultation)
    assert key.retained_identity is None
    assert key.state == KeyState.SEALED


def test_fewer_than_k_members_open_nothing(sealed, company):
    consultation = sealed.consultation
    deposit(consultation, company, [("offre.pdf.age", b"%PDF")])
    with time_machine.travel(_after(consultation), tick=False), pytest.raises(DomainError) as refused:
        service.opening_start(
            acting_user=sealed.commission.members[0],
            consultation=consultation,
            contributions=sealed.commission.contributions(1),
        )
    assert "2" in str(refused.value)
    _no_opening(consultation)
    assert _actions("bids.opening.refused") == ["bids.opening.refused"]


def test_a_wrong_passphrase_opens_nothing(sealed, company):
    consultation = sealed.consultation
    deposit(consultation, company, [("offre.pdf.age", b"%PDF")])
    first, second = sealed.commission.members[:2]
    contributions = [(first, sealed.commission.passphrase(first)), (second, "ce n'est pas la bonne phrase")]
    with time_machine.travel(_after(consultation), tick=False), pytest.raises(DomainError) as refused:
        service.opening_start(acting_user=first, consultation=consultation, contributions=contributions)
    assert refused.value.code == "wrong_passphrase"
    _no_opening(consultation)


def test_a_tampered_share_opens_nothing(sealed, company):
    consultation = sealed.consultation
    deposit(consultation, company, [("offre.pdf.age", b"%PDF")])
    with scopes_disabled():
        share = KeyShare.objects.filter(consultation_key__consultation=consultation).order_by("index").first()
        damaged = bytearray(bytes(share.sealed_share))
        damaged[-5] ^= 0x01
        share.sealed_share = bytes(damaged)
        share.save(update_fields=["sealed_share"])
    with time_machine.travel(_after(consultation), tick=False), pytest.raises(DomainError):
        service.opening_start(
            acting_user=sealed.commission.members[0],
            consultation=consultation,
            contributions=sealed.commission.contributions(2),
        )
    _no_opening(consultation)


def test_no_opening_before_the_deadline(sealed, company):
    consultation = sealed.consultation
    deposit(consultation, company, [("offre.pdf.age", b"%PDF")])
    with pytest.raises(DomainError) as refused:
        service.opening_start(
            acting_user=sealed.commission.members[0],
            consultation=consultation,
            contributions=sealed.commission.contributions(3),
        )
    assert refused.value.code == "too_early"
    _no_opening(consultation)


def test_a_company_member_cannot_open(sealed, company, company_member):
    consultation = sealed.consultation
    with time_machine.travel(_after(consultation), tick=False), pytest.raises(DomainError) as refused:
        service.opening_start(
            acting_user=company_member, consultation=consultation, contributions=sealed.commission.contributions(2)
        )
    assert refused.value.code == "not_found"
    _no_opening(consultation)


# --- Reported problems, with a test key -------------------------------------------------------------


@pytest.fixture
def keyed(buyer):
    consultation = ConsultationFactory(organisation=buyer, published=True)
    identity = give_test_key(consultation)
    return consultation, identity


def _open(consultation, identity, user, **kwargs):
    with time_machine.travel(_after(consultation), tick=False):
        opening = service.opening_begin(
            acting_user=user, consultation=consultation, identity=identity, members=[user], **kwargs
        )
        return run_jobs(opening)


def test_corrupt_zip_hash_mismatch_and_undecryptable_files_are_reported_and_do_not_stop_the_others(
    keyed, company, buyer_agent
):
    consultation, identity = keyed
    stranger = give_test_key(ConsultationFactory(organisation=consultation.organisation, published=True))
    from ebourgogne.sealing.crypto import recipient_of

    bid = deposit(consultation, company, [("bon.pdf.age", b"%PDF bon"), ("archive.zip.age", corrupt_zip())])
    other = deposit(
        consultation,
        CompanyFactory(name="Autre"),
        [("mauvaise-cle.pdf.age", b"%PDF")],
        recipient=recipient_of(stranger),
    )
    altered = deposit(consultation, CompanyFactory(name="Altere"), [("altere.pdf.age", b"%PDF altere")])
    with scopes_disabled():
        bid_file = altered.files.get()
        path = uploads.path_of(bid_file)
        path.write_bytes(path.read_bytes()[:-1] + bytes([path.read_bytes()[-1] ^ 1]))  # one bit flipped

    opening = _open(consultation, identity, buyer_agent)
    assert opening.state == OpeningState.DONE
    with scopes_disabled():
        statuses = {
            item.bid_file.name: item.status
            for item in OpenedFile.objects.filter(opening=opening).select_related("bid_file")
        }
    assert statuses == {
        "bon.pdf.age": OpenedStatus.OK,
        "archive.zip.age": OpenedStatus.CORRUPT_ZIP,
        "mauvaise-cle.pdf.age": OpenedStatus.DECRYPT_FAILED,
        "altere.pdf.age": OpenedStatus.DECRYPT_FAILED,
    }
    problems = {problem["name"]: problem for problem in opening.report["problems"]}
    assert set(problems) == {"archive.zip.age", "mauvaise-cle.pdf.age", "altere.pdf.age"}
    assert "memoire.txt" in problems["archive.zip.age"]["detail"] or "ZIP" in problems["archive.zip.age"]["detail"]
    assert bid.pk in {entry["bid"] for entry in opening.report["opened"]}
    assert other.pk in {entry["bid"] for entry in opening.report["opened"]}


def test_a_ciphertext_that_differs_from_its_receipt_is_reported(keyed, company, buyer_agent):
    """A file replaced after the receipt by another valid encryption to the same key: it decrypts, but its
    SHA-256 is not the receipt's; the report says so."""
    consultation, identity = keyed
    deposit(consultation, company, [("offre.pdf.age", b"%PDF")], receipt_sha256={"offre.pdf.age": "0" * 64})
    opening = _open(consultation, identity, buyer_agent)
    with scopes_disabled():
        opened = OpenedFile.objects.get(opening=opening)
    assert opened.status == OpenedStatus.HASH_MISMATCH
    assert "0" * 64 in opened.detail
    assert opening.report["problems"][0]["status"] == OpenedStatus.HASH_MISMATCH


def test_a_failed_job_leaves_nothing_decrypted_and_erases_the_identity(keyed, company, buyer_agent):
    consultation, identity = keyed
    deposit(consultation, company, [("offre.pdf.age", b"%PDF")])
    with time_machine.travel(_after(consultation), tick=False):
        opening = service.opening_begin(
            acting_user=buyer_agent, consultation=consultation, identity=identity, members=[buyer_agent]
        )
        with scopes_disabled():
            ConsultationKey.objects.filter(consultation=consultation).update(retained_identity=b"garbage")
        opening = run_jobs(opening)
    assert opening.state == OpeningState.FAILED
    assert opening.error
    with scopes_disabled():
        assert not OpenedFile.objects.filter(opening=opening).exists()
        key = ConsultationKey.objects.get(consultation=consultation)
        consultation.refresh_from_db()
    assert key.retained_identity is None and key.state == KeyState.ERASED
    assert consultation.state != State.OPENED


def test_one_opening_at_a_time(keyed, company, buyer_agent):
    consultation, identity = keyed
    deposit(consultation, company, [("offre.pdf.age", b"%PDF")])
    with time_machine.travel(_after(consultation), tick=False):
        service.opening_begin(
            acting_user=buyer_agent, consultation=consultation, identity=identity, members=[buyer_agent]
        )
        with pytest.raises(DomainError) as refused:
            service.opening_begin(
                acting_user=buyer_agent, consultation=consultation, identity=identity, members=[buyer_agent]
            )
    assert refused.value.code == "busy"


# --- Backup copies ----------------------------------------------------------------------------------


def test_a_backup_copy_stays_sealed_unless_a_case_of_the_rules_is_recorded(keyed, company, buyer_agent):
    consultation, identity = keyed
    bid = deposit(consultation, company, [("offre.zip.age", corrupt_zip())])
    backup = deposit(consultation, company, [("copie.pdf.age", b"%PDF copie de sauvegarde")], kind=BidKind.BACKUP)
    opening = _open(consultation, identity, buyer_agent)
    with scopes_disabled():
        assert not OpenedFile.objects.filter(bid_file__bid=backup).exists()
    assert [entry["bid"] for entry in opening.report["opened"]] == [bid.pk]
    assert opening.report["backups"][0]["opened"] is False

    with time_machine.travel(_after(consultation), tick=False):
        # A case without a reason, or an unknown case, is refused.
        for case in (
            {"bid": backup.pk, "case": "unreadable", "reason": " "},
            {"bid": backup.pk, "case": "whim", "reason": "x"},
        ):
            with pytest.raises(DomainError):
                service.opening_begin(
                    acting_user=buyer_agent,
                    consultation=consultation,
                    identity=identity,
                    members=[buyer_agent],
                    backup_cases=[case],
                )
        # Without a backup copy to open, there is nothing more to open.
        with pytest.raises(DomainError):
            service.opening_begin(
                acting_user=buyer_agent, consultation=consultation, identity=identity, members=[buyer_agent]
            )
    give = {"bid": backup.pk, "case": "unreadable", "reason": "Archive ZIP du pli électronique corrompue."}
    supplementary = _open(consultation, identity, buyer_agent, backup_cases=[give])
    assert supplementary.state == OpeningState.DONE
    with scopes_disabled():
        opened = OpenedFile.objects.get(bid_file__bid=backup)
    assert _read(opened) == b"%PDF copie de sauvegarde"
    entry = supplementary.report["opened"][0]
    assert entry["bid"] == backup.pk and entry["backup_case"]["case"] == "unreadable"
    assert supplementary.report["supplementary"] is True
    assert _actions("bids.backup.open_decided") == ["bids.backup.open_decided"]


def test_unopened_backup_copies_are_destroyed_at_the_end_of_the_procedure(
    keyed, company, buyer_agent, django_capture_on_commit_callbacks
):
    consultation, identity = keyed
    deposit(consultation, company, [("offre.pdf.age", b"%PDF")])
    backup = deposit(consultation, company, [("copie.pdf.age", b"%PDF copie")], kind=BidKind.BACKUP)
    _open(consultation, identity, buyer_agent)
    with scopes_disabled():
        path = uploads.path_of(backup.files.get())
    assert path.exists()
    assert service.destroy_unopened_backups() == 0  # the procedure is still running
    from ebourgogne.consultations.services import consultation_set_outcome
    from ebourgogne.tenders.tasks import destroy_unopened_backups_task

    with time_machine.travel(_after(consultation), tick=False):
        consultation_set_outcome(acting_user=buyer_agent, consultation=consultation, outcome=State.AWARDED)
    with django_capture_on_commit_callbacks(execute=True):
        assert destroy_unopened_backups_task.call() == 1
    assert not path.exists()
    with scopes_disabled():
        backup.refresh_from_db()
    assert backup.destroyed_at is not None
    assert destroy_unopened_backups_task.call() == 0  # idempotent
    assert _actions("bids.backup.destroyed") == ["bids.backup.destroyed"]


# --- Decryption engines -----------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["age", "pyrage"])
def test_both_engines_decrypt_stream_hash_and_report(tmp_path, engine):
    import hashlib
    import io

    import pyrage

    identity = pyrage.x25519.Identity.generate()
    plaintext = bytes(range(256)) * 5000  # over 1 MiB: several chunks
    ciphertext = pyrage.encrypt(plaintext, [identity.to_public()])
    target = tmp_path / "plain"
    result = service.decrypt_stream(
        io.BytesIO(ciphertext),
        target,
        str(identity),
        expected_sha256=hashlib.sha256(ciphertext).hexdigest(),
        engine=engine,
    )
    assert result.status == OpenedStatus.OK and target.read_bytes() == plaintext and result.size == len(plaintext)

    wrong = pyrage.x25519.Identity.generate()
    result = service.decrypt_stream(io.BytesIO(ciphertext), target, str(wrong), engine=engine)
    assert result.status == OpenedStatus.DECRYPT_FAILED and not target.exists()
    assert result.sha256 == hashlib.sha256(ciphertext).hexdigest()  # the whole ciphertext was hashed

    result = service.decrypt_stream(io.BytesIO(ciphertext[:-100]), target, str(identity), engine=engine)
    assert result.status == OpenedStatus.DECRYPT_FAILED and not target.exists()

    archive = make_zip({"a.txt": b"a" * 1000})
    result = service.decrypt_stream(
        io.BytesIO(pyrage.encrypt(archive, [identity.to_public()])), target, str(identity), engine=engine
    )
    assert result.status == OpenedStatus.OK
    result = service.decrypt_stream(
        io.BytesIO(pyrage.encrypt(corrupt_zip(), [identity.to_public()])), target, str(identity), engine=engine
    )
    assert result.status == OpenedStatus.CORRUPT_ZIP


def test_zip_problem_ignores_files_that_are_not_archives(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"%PDF-1.7")
    assert service.zip_problem(path) == ""
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert service.zip_problem(path)
    assert zipfile.is_zipfile(tmp_path / "f") is False


def test_a_backup_copy_opens_with_the_first_opening_when_the_bid_was_late_after_a_transfer_begun_in_time(
    keyed, company, buyer_agent
):
    consultation, identity = keyed
    backup = deposit(consultation, company, [("copie.pdf.age", b"%PDF copie")], kind=BidKind.BACKUP)
    case = {"bid": backup.pk, "case": "late", "reason": "Transmission commencée à 11 h 58, achevée à 12 h 03."}
    with time_machine.travel(_after(consultation), tick=False):
        # No late electronic bid of this company yet: the case "late" does not apply.
        with pytest.raises(DomainError) as refused:
            service.opening_begin(
                acting_user=buyer_agent,
                consultation=consultation,
                identity=identity,
                members=[buyer_agent],
                backup_cases=[case],
            )
        assert company.name in str(refused.value)
        late = deposit(consultation, company, [("offre.pdf.age", b"%PDF tardive")], late=True)
        with scopes_disabled():
            Bid.objects.filter(pk=late.pk).update(
                upload_started_at=consultation.bids_deadline - dt.timedelta(minutes=2)
            )
    opening = _open(consultation, identity, buyer_agent, backup_cases=[case])
    assert [entry["bid"] for entry in opening.report["opened"]] == [backup.pk]
    assert [entry["bid"] for entry in opening.report["late"]] == [late.pk]
    with scopes_disabled():
        assert not OpenedFile.objects.filter(bid_file__bid=late).exists()
        assert _read(OpenedFile.objects.get(bid_file__bid=backup)) == b"%PDF copie"


def test_an_opened_file_never_overwrites_or_reuses_a_file_already_in_the_storage():
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    taken = default_storage.save("tenders/opened/test/1/1-offre.pdf", ContentFile(b"ancien"))
    name, path = service._local_path(taken)
    assert name != taken and path is not None and not path.exists()
    default_storage.delete(taken)


def test_the_pipe_to_age_holds_a_whole_chunk():
    """The ciphertext crosses to age one chunk per write (64 KiB pipes made the opening 2x slower than age)."""
    import fcntl
    import os

    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are Linux's")
    read, write = os.pipe()
    try:
        with os.fdopen(write, "wb") as pipe:
            default = fcntl.fcntl(pipe.fileno(), fcntl.F_GETPIPE_SZ)  # the system's default
            if default >= service.CHUNK:
                pytest.skip(
                    f"this system's default pipe already holds {default} bytes, at least one chunk "
                    f"({service.CHUNK}): there is nothing to widen"
                )
            service.widen_pipe(pipe)
            assert fcntl.fcntl(pipe.fileno(), fcntl.F_GETPIPE_SZ) >= service.CHUNK
    finally:
        os.close(read)


def test_a_local_file_and_a_stream_decrypt_alike(tmp_path):
    """age reads a local bid file itself while the platform hashes it; any other source goes through the
    pipe: the same plaintext, digest and verdicts either way, a damaged file refused either way."""
    import hashlib
    import io

    import pyrage

    identity = pyrage.x25519.Identity.generate()
    plain = make_zip({"offre.txt": b"Offre de prix " * 50_000})
    cipher = pyrage.encrypt(plain, [identity.to_public()])
    sealed = tmp_path / "offre.zip.age"
    sealed.write_bytes(cipher)
    expected = hashlib.sha256(cipher).hexdigest()
    with sealed.open("rb") as source:
        assert service._local_file(source) == str(sealed)
        from_file = service.decrypt_stream(source, tmp_path / "a.zip", str(identity), expected_sha256=expected)
    assert service._local_file(io.BytesIO(cipher)) == ""
    from_stream = service.decrypt_stream(
        io.BytesIO(cipher), tmp_path / "b.zip", str(identity), expected_sha256=expected
    )
    assert from_file.status == from_stream.status == OpenedStatus.OK
    assert from_file.sha256 == from_stream.sha256 == expected
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes() == plain

    damaged = bytearray(cipher)
    damaged[-100] ^= 0xFF
    sealed.write_bytes(bytes(damaged))
    with sealed.open("rb") as source:
        bad_file = service.decrypt_stream(source, tmp_path / "c.zip", str(identity), expected_sha256=expected)
    bad_stream = service.decrypt_stream(io.BytesIO(bytes(damaged)), tmp_path / "d.zip", str(identity))
    assert bad_file.status == bad_stream.status == OpenedStatus.DECRYPT_FAILED
    assert bad_file.sha256 == bad_stream.sha256 == hashlib.sha256(bytes(damaged)).hexdigest()
    assert not (tmp_path / "c.zip").exists() and not (tmp_path / "d.zip").exists()
