"""The opening of sealed bids (ouverture des plis): who may start it, which bids are opened, how they are
decrypted, and the opening report (procès-verbal d'ouverture).

The flow, and why it is safe:

1. `opening_start` (one request, after the deadline): the members present enter their passphrases in
   one form; `sealing.services.rebuild_identity` checks them and rebuilds the consultation's age
   identity in memory (fewer than k, a wrong passphrase, a tampered share: `DomainError`, nothing
   stored, no `Opening` left behind).
2. Decrypting gigabytes does not fit in a request. Only now — after the deadline, with k members having
   agreed — the identity is handed to a background job: it is sealed with the platform key
   (`sealing.crypto.platform_seal`, ChaCha20-Poly1305 with a key derived from SECRET_KEY, under a context
   of its own: `seal_for_job`) into `ConsultationKey.retained_identity` with state `rebuilt`, and `run_opening_task` is enqueued on commit. Before the deadline no such copy can
   exist: the shares are the only form of the key.
3. The job (`run_opening`) decrypts, streaming, the last in-time bid of each company (and the backup
   copies the commission decided to open), re-checks the SHA-256 of each ciphertext against the receipt,
   tests ZIP archives, stores the plaintext in the default storage for evaluation (`OpenedFile`), then
   moves the consultation to "opened" (`consultations.services.consultation_open`), erases its sealed
   copy of the identity and calls `sealing.services.after_opening`, which keeps or erases the identity
   as the buyer's policy says. A file that fails (hash, decryption, ZIP) is reported and does not stop
   the others. If the job itself fails, what it decrypted is removed and the identity erased.

Late and superseded bids stay sealed and are listed in the report. Backup copies (copies de sauvegarde)
stay sealed unless the commission records, in the opening form, one of the cases of the rules (the
electronic bid infected, incomplete, late with its transfer started in time, unreadable, or not
received) with a reason; a supplementary opening can do so after the first one (e.g. once a corrupt ZIP
is found). Unopened backup copies are destroyed at the end of the procedure (`destroy_unopened_backups`,
run by a periodic job).

Decryption engine: the `age` CLI (Debian package) when it is installed, the identity passed through a
pipe (never written to disk); a bid stored as a local file is read by age itself while this process
hashes it on the other core, any other source is fed to age through a pipe of one chunk and hashed on
the way; pyrage otherwise. Measured with `bench/opening.py` on 2 GB on a quiet 2-core machine: 0.915 of
the CLI's own throughput with the SHA-256 re-check, pyrage's `decrypt_io` about half (and it holds the
GIL) (docs/benchmarks.md, "opening" in session 6).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import TextChoices
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.consultations.models import Consultation, State
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of
from ebourgogne.sealing import crypto
from ebourgogne.sealing.models import ConsultationKey, KeyState
from ebourgogne.tenders import uploads
from ebourgogne.tenders.models import (
    Bid,
    BidFile,
    BidKind,
    BidState,
    FileState,
    OpenedFile,
    OpenedStatus,
    Opening,
    OpeningState,
)

logger = logging.getLogger("ebourgogne.tenders.opening")

OPEN = "bids.open"
# States in which a first opening may start, and in which backup copies may still be opened.
OPENABLE_STATES = frozenset({State.PUBLISHED, State.CLOSED})
# The end of the procedure: unopened backup copies are destroyed.
FINAL_STATES = frozenset({State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED, State.CANCELLED})
REASON_MAX = 2000
CHUNK = 1024 * 1024


class BackupCase(TextChoices):
    """The cases in which a backup copy is opened (arrêté of 22 March 2019 as amended on 14 April 2023)."""

    VIRUS = "virus", gettext_lazy("Programme malveillant détecté dans le pli électronique")
    INCOMPLETE = "incomplete", gettext_lazy("Pli électronique incomplet")
    LATE = "late", gettext_lazy("Pli électronique hors délai, transmission commencée avant la date limite")
    UNREADABLE = "unreadable", gettext_lazy("Pli électronique illisible ou impossible à ouvrir")
    NOT_RECEIVED = "not_received", gettext_lazy("Pli électronique non parvenu")


# --- The identity handed to the job -----------------------------------------------------------------


def _job_context(key: ConsultationKey) -> bytes:
    # Not the context of an identity retained by policy (sealing.services): a job's copy never reads as one.
    return f"opening-job:{key.pk}:{key.fingerprint}".encode("ascii")


def seal_for_job(key: ConsultationKey, identity: str) -> bytes:
    """The rebuilt identity, encrypted with the platform key (sealing.crypto, from SECRET_KEY) for the job."""
    return crypto.platform_seal(identity, secret_key=settings.SECRET_KEY, context=_job_context(key))


def unseal_for_job(key: ConsultationKey) -> str:
    try:
        return crypto.platform_unseal(
            bytes(key.retained_identity or b""), secret_key=settings.SECRET_KEY, context=_job_context(key)
        )
    except crypto.SealingCryptoError:
        raise DomainError(
            _("La clé reconstituée n'est plus disponible : recommencez l'ouverture."), code="key_gone"
        ) from None


# --- Which bids are opened --------------------------------------------------------------------------


@dataclass
class Situation:
    """The deposited bids of a consultation, sorted out by the rules (R2151-5, R2151-6)."""

    to_open: list[Bid] = field(default_factory=list)  # the last in-time bid of each company
    superseded: list[Bid] = field(default_factory=list)  # earlier in-time bids: stay sealed
    late: list[Bid] = field(default_factory=list)  # received after the deadline: stay sealed
    backups: list[Bid] = field(default_factory=list)  # the last in-time backup copy of each company
    other_backups: list[Bid] = field(default_factory=list)  # earlier or late backup copies: never opened


def _order(bid: Bid) -> tuple:
    return (bid.deposited_at, bid.number or 0, bid.pk)


def bid_situation(consultation: Consultation) -> Situation:
    """Sort the deposited bids: per company, the last deposit received in time is opened; earlier ones
    are superseded (whatever `superseded_by` says: the deposit order decides), late ones stay sealed."""
    bids = list(
        Bid.objects.filter(consultation=consultation, state=BidState.DEPOSITED)
        .select_related("company", "receipt")
        .prefetch_related("files")
        .order_by("deposited_at", "number", "pk")
    )
    situation = Situation()
    for kind, opened, earlier in (
        (BidKind.BID, situation.to_open, situation.superseded),
        (BidKind.BACKUP, situation.backups, situation.other_backups),
    ):
        last: dict[int, Bid] = {}
        for bid in bids:
            if bid.kind != kind:
                continue
            if bid.is_late:
                (situation.late if kind == BidKind.BID else situation.other_backups).append(bid)
                continue
            known = last.get(bid.company_id)
            if known is None or _order(bid) > _order(known):
                if known is not None:
                    earlier.append(known)
                last[bid.company_id] = bid
            else:
                earlier.append(bid)
        opened.extend(sorted(last.values(), key=_order))
    return situation


# --- Permission --------------------------------------------------------------------------------------


def _require_open(acting_user: Any, consultation: Consultation) -> None:
    """Deny by default: `bids.open` in the consultation's organisation (buyer staff, commission members)."""
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    organisation = consultation.organisation
    roles = roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()
    if not roles:
        raise NotFound(_("Organisation introuvable."))
    if not roles_grant(roles, OPEN):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas d'ouvrir les plis."))


def can_open(user: Any, consultation: Consultation) -> bool:
    try:
        _require_open(user, consultation)
    except DomainError:
        return False
    return True


# --- Decryption --------------------------------------------------------------------------------------


@dataclass
class Decrypted:
    status: str
    detail: str = ""
    size: int | None = None
    sha256: str = ""  # of the ciphertext, computed while decrypting


def age_cli() -> str | None:
    """The `age` command line tool, when installed (Debian package `age`)."""
    return shutil.which("age")


def decrypt_stream(
    source: BinaryIO, destination: str | Path, identity: str, *, expected_sha256: str = "", engine: str = ""
) -> Decrypted:
    """Decrypt the age file read from `source` into the file `destination`, streaming (constant memory),
    hashing the ciphertext on the way. Never raises for a bad file: the status says what went wrong.

    engine: "age" (the CLI fed by pipes), "pyrage" (`pyrage.decrypt_io`), or "" for the best available.
    """
    engine = engine or ("age" if age_cli() else "pyrage")
    digest = hashlib.sha256()
    try:
        if engine == "age":
            error = _decrypt_with_age(source, destination, identity, digest)
        else:
            error = _decrypt_with_pyrage(source, destination, identity, digest)
    except OSError as exc:
        error = str(exc)
    sha = digest.hexdigest()
    if error:
        Path(destination).unlink(missing_ok=True)
        return Decrypted(OpenedStatus.DECRYPT_FAILED, detail=error, sha256=sha)
    size = Path(destination).stat().st_size
    if expected_sha256 and sha != expected_sha256.lower():
        return Decrypted(
            OpenedStatus.HASH_MISMATCH,
            detail=_("Empreinte du fichier chiffré : %(found)s ; attendue (accusé de réception) : %(expected)s.")
            % {"found": sha, "expected": expected_sha256},
            size=size,
            sha256=sha,
        )
    problem = zip_problem(destination)
    if problem:
        return Decrypted(OpenedStatus.CORRUPT_ZIP, detail=problem, size=size, sha256=sha)
    return Decrypted(OpenedStatus.OK, size=size, sha256=sha)


class _HashingReader:
    """A file-like reader that hashes what is read (for pyrage's `decrypt_io`)."""

    def __init__(self, source: BinaryIO, digest: Any) -> None:
        self.source = source
        self.digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.source.readinto(buffer)  # type: ignore[attr-defined]
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return count or 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


def _decrypt_with_pyrage(source: BinaryIO, destination: str | Path, identity: str, digest: Any) -> str:
    import pyrage

    try:
        key = pyrage.x25519.Identity.from_str(identity)
    except Exception:
        return _("Clé d'ouverture invalide.")
    reader = _HashingReader(source, digest)
    try:
        with open(destination, "wb") as out:
            pyrage.decrypt_io(reader, out, [key])
    except Exception as exc:  # pyrage.DecryptError, or a truncated / malformed file
        _drain(source, digest)
        return _("Le fichier ne peut pas être déchiffré : %(error)s") % {"error": str(exc)[:300] or type(exc).__name__}
    return ""


def _chunks(source: BinaryIO):
    """The source's bytes in CHUNK-sized views of one reused buffer (no allocation, no page faults per
    chunk: this loop runs over gigabytes). Each view is valid until the next one."""
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    readinto = getattr(source, "readinto", None)
    while True:
        if readinto is not None:
            count = readinto(buffer)
        else:
            data = source.read(CHUNK)
            count = len(data)
            buffer[:count] = data
        if not count:
            return
        yield view[:count]


def _drain(source: BinaryIO, digest: Any) -> None:
    """Hash the rest of the ciphertext, so that the report gives its full SHA-256 even on failure."""
    for chunk in _chunks(source):
        digest.update(chunk)


def _local_file(source: BinaryIO) -> str:
    """The path of `source` when it is a plain local file opened for reading (local storage), else ""."""
    name = getattr(source, "name", None)
    if not isinstance(name, str) or getattr(source, "mode", "") != "rb":
        return ""
    try:
        same = os.path.samestat(os.fstat(source.fileno()), os.stat(name))
    except (OSError, AttributeError, ValueError):
        return ""
    return name if same and source.tell() == 0 else ""


def _decrypt_with_age(source: BinaryIO, destination: str | Path, identity: str, digest: Any) -> str:
    """`age -d -i /dev/fd/N -o destination`, the identity through a pipe: it never touches the disk.
    A local file is read by age itself while this process hashes it (the two run on two cores, no bytes
    copied between them; a sealed bid's file never changes once deposited); any other source is written
    to age's standard input, hashed on the way."""
    path = _local_file(source)
    key_read, key_write = os.pipe()
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell, the identity via a pipe
            [age_cli() or "age", "--decrypt", "--identity", f"/dev/fd/{key_read}", "--output", str(destination)]
            + ([path] if path else []),
            stdin=subprocess.DEVNULL if path else subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(key_read,),
        )
    finally:
        os.close(key_read)
    widen_pipe(process.stdin)
    stderr: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        with os.fdopen(key_write, "wb") as key_pipe:
            key_pipe.write(identity.encode() + b"\n")
        stdin = process.stdin
        broken = stdin is None
        for chunk in _chunks(source):
            digest.update(chunk)
            if broken:
                continue
            try:
                stdin.write(chunk)  # type: ignore[union-attr]
            except BrokenPipeError:
                broken = True  # age stopped (bad file): keep hashing, report its message below
        if stdin is not None:
            try:
                stdin.close()
            except BrokenPipeError:
                pass
        code = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    reader.join(timeout=10)
    if code != 0:
        message = b"".join(stderr).decode(errors="replace").strip().replace("age: error: ", "")
        first = message.splitlines()[0] if message else f"exit {code}"
        return _("Le fichier ne peut pas être déchiffré : %(error)s") % {"error": first[:300]}
    return ""


PIPE_SIZE = CHUNK  # Linux's largest pipe for an unprivileged process by default (fs.pipe-max-size)


def widen_pipe(pipe: Any) -> None:
    """Give the pipe to age a buffer of one chunk instead of Linux's 64 KiB: each chunk then crosses in one
    write rather than sixteen wake-ups of both processes. The opening went from 0.35-0.41 to 0.75-0.86 of
    the age CLI's own speed on the same 500 MB file (docs/benchmarks.md, `opening`, session 6). Where the
    system refuses (another kernel, a lower limit), the default buffer still works, only slower."""
    import fcntl

    setter = getattr(fcntl, "F_SETPIPE_SZ", None)
    if pipe is None or setter is None:
        return
    try:
        fcntl.fcntl(pipe.fileno(), setter, PIPE_SIZE)
    except OSError:
        logger.info("opening: the pipe to age keeps its default size")


ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def zip_problem(path: str | Path) -> str:
    """A message when the file is a ZIP archive (by its first bytes) that is corrupt; '' otherwise."""
    with open(path, "rb") as handle:
        start = handle.read(4)
    if start not in ZIP_MAGIC:
        return ""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, NotImplementedError...: all mean unreadable
        return _("Archive ZIP illisible : %(error)s") % {"error": str(exc)[:300] or type(exc).__name__}
    if bad is not None:
        return _("Archive ZIP corrompue : le fichier « %(name)s » est endommagé.") % {"name": bad}
    return ""


# --- Starting an opening ------------------------------------------------------------------------------


def _clean_cases(consultation: Consultation, situation: Situation, backup_cases: Iterable[dict]) -> list[dict]:
    """Check the commission's decisions to open backup copies: a known case and a reason each; the case
    "late" needs a late electronic bid of the same company whose transfer began before the deadline."""
    candidates = {bid.pk: bid for bid in situation.backups if bid.opened_at is None and bid.destroyed_at is None}
    cleaned: list[dict] = []
    for entry in backup_cases:
        try:
            bid = candidates.get(int(entry.get("bid") or 0))
        except (TypeError, ValueError):
            bid = None
        if bid is None:
            raise DomainError(_("Cette copie de sauvegarde ne peut pas être ouverte."), code="invalid")
        case = str(entry.get("case") or "")
        if case not in BackupCase.values:
            raise DomainError(
                _("Indiquez pour quel cas prévu par la réglementation la copie de sauvegarde est ouverte."),
                code="invalid",
            )
        reason = str(entry.get("reason") or "").strip()[:REASON_MAX]
        if not reason:
            raise DomainError(_("Indiquez le motif de l'ouverture de la copie de sauvegarde."), code="invalid")
        if case == BackupCase.LATE and not any(
            late.company_id == bid.company_id
            and late.upload_started_at is not None
            and consultation.bids_deadline is not None
            and late.upload_started_at < consultation.bids_deadline
            for late in situation.late
        ):
            raise DomainError(
                _(
                    "Aucun pli électronique de %(company)s n'est arrivé hors délai après une transmission commencée "
                    "avant la date limite : choisissez un autre cas."
                )
                % {"company": bid.company.name},
                code="invalid",
            )
        cleaned.append({"bid": bid.pk, "company": bid.company.name, "case": case, "reason": reason})
    return cleaned


def _lock(consultation: Consultation) -> Consultation:
    with scopes_disabled():
        found = (
            Consultation.objects.select_for_update().select_related("organisation").filter(pk=consultation.pk).first()
        )
    if found is None:
        raise NotFound(_("Consultation introuvable."))
    return found


def _check_can_start(consultation: Consultation) -> bool:
    """True for a first opening, False for a supplementary one (backup copies); DomainError otherwise."""
    if consultation.is_practice:
        raise DomainError(_("La consultation d'entraînement ne s'ouvre pas ici."), code="invalid")
    if not consultation.deadline_passed:
        raise DomainError(
            _("Les plis ne peuvent être ouverts qu'après la date limite de remise des plis."), code="too_early"
        )
    if Opening.objects.filter(consultation=consultation, state=OpeningState.RUNNING).exists():
        raise DomainError(_("Une ouverture des plis est déjà en cours."), code="busy")
    first = not Opening.objects.filter(consultation=consultation, state=OpeningState.DONE).exists()
    if first and consultation.state not in OPENABLE_STATES:
        raise DomainError(_("Les plis de cette consultation ne peuvent plus être ouverts."), code="invalid")
    if not first and consultation.state != State.OPENED:
        raise DomainError(_("Les plis de cette consultation ne peuvent plus être ouverts."), code="invalid")
    return first


def _check_something_to_open(first: bool, cases: list[dict]) -> None:
    if not first and not cases:
        raise DomainError(
            _("Les plis ont déjà été ouverts : choisissez la copie de sauvegarde à ouvrir et le cas qui le justifie."),
            code="invalid",
        )


def opening_start(
    *,
    acting_user: Any,
    consultation: Consultation,
    contributions: Sequence[tuple[Any, str]],
    backup_cases: Iterable[dict] = (),
    request: Any = None,
) -> Opening:
    """Start the opening: check the members' passphrases (at least k), rebuild the identity in memory and
    hand it to the background job. Fewer than k, a wrong passphrase, a tampered share: DomainError and
    nothing is stored."""
    from ebourgogne.sealing.services import rebuild_identity

    _require_open(acting_user, consultation)
    first = _check_can_start(consultation)
    cases = _clean_cases(consultation, bid_situation(consultation), backup_cases)
    _check_something_to_open(first, cases)
    present = [(user, passphrase) for user, passphrase in contributions if passphrase]
    try:
        identity = rebuild_identity(
            consultation=consultation, contributions=present, acting_user=acting_user, request=request
        )
    except DomainError as refused:
        log_event(
            action="bids.opening.refused",
            actor=acting_user,
            organisation=consultation.organisation,
            obj=consultation,
            data={"members": [user.email for user, _p in present], "reason": str(refused)},
            request=request,
        )
        raise
    return opening_begin(
        acting_user=acting_user,
        consultation=consultation,
        identity=identity,
        members=[user for user, _p in present],
        backup_cases=cases,
        request=request,
    )


@transaction.atomic
def opening_begin(
    *,
    acting_user: Any,
    consultation: Consultation,
    identity: str,
    members: Sequence[Any],
    backup_cases: Sequence[dict] = (),
    request: Any = None,
) -> Opening:
    """Record the opening and hand the rebuilt identity to the job (sealed with the platform key).
    Called by `opening_start` once the members' passphrases were checked; tests call it with a test key."""
    _require_open(acting_user, consultation)
    consultation = _lock(consultation)
    first = _check_can_start(consultation)
    situation = bid_situation(consultation)
    cases = _clean_cases(consultation, situation, [dict(case) for case in backup_cases])
    _check_something_to_open(first, cases)
    to_open = [bid.pk for bid in situation.to_open if bid.opened_at is None] if first else []
    to_open += [case["bid"] for case in cases]
    key = ConsultationKey.objects.select_for_update().filter(consultation=consultation).first()
    if key is None:
        raise DomainError(_("Cette consultation n'a pas de clé d'ouverture."), code="invalid")
    now = clock.now()
    opening = Opening.objects.create(
        consultation=consultation,
        started_by=acting_user,
        started_at=now,
        members=[
            {"id": user.pk, "name": getattr(user, "full_name", "") or user.email, "email": user.email}
            for user in members
        ],
        report={"plan": {"first": first, "bids": to_open, "backup_cases": cases}},
    )
    key.retained_identity = seal_for_job(key, identity)
    key.state = KeyState.REBUILT
    key.rebuilt_at = key.rebuilt_at or now
    key.save(update_fields=["retained_identity", "state", "rebuilt_at"])
    log_event(
        action="bids.opening.started",
        actor=acting_user,
        organisation=consultation.organisation,
        obj=opening,
        data={
            "consultation": consultation.pk,
            "members": [user.email for user in members],
            "bids": to_open,
            "backup_cases": [{k: case[k] for k in ("bid", "case", "reason")} for case in cases],
        },
        request=request,
    )
    for case in cases:
        log_event(
            action="bids.backup.open_decided",
            actor=acting_user,
            organisation=consultation.organisation,
            obj=consultation,
            data={"bid": case["bid"], "company": case["company"], "case": case["case"], "reason": case["reason"]},
            request=request,
        )
    from ebourgogne.core.tasks import enqueue_on_commit
    from ebourgogne.tenders.tasks import run_opening_task

    enqueue_on_commit(run_opening_task, opening.pk)
    return opening


# --- The job -----------------------------------------------------------------------------------------


def _after_opening(key: ConsultationKey, identity: str | None, *, keep: bool) -> None:
    """Erase the job's sealed copy, then let the sealing app keep or erase the identity per policy
    (without the identity — the job could not read it — it is erased)."""
    from ebourgogne.sealing.services import after_opening

    if identity is None:
        ConsultationKey.objects.filter(pk=key.pk).update(retained_identity=None, state=KeyState.ERASED)
        return
    key.retained_identity = None
    key.save(update_fields=["retained_identity"])
    after_opening(key, identity, keep=keep)


def _output_name(opening: Opening, bid_file: BidFile) -> str:
    name = get_valid_filename(bid_file.name.removesuffix(".age")) or "fichier"
    return f"tenders/opened/{opening.consultation_id}/{opening.pk}/{bid_file.pk}-{name[:150]}"


def _expected_sha256(bid: Bid, bid_file: BidFile) -> tuple[str, str]:
    """The SHA-256 the receipt gives for this file (else the one recorded at upload), and a discrepancy
    message when the receipt and the upload record disagree."""
    receipt = getattr(bid, "receipt", None)
    if receipt is not None:
        try:
            payload = json.loads(bytes(receipt.payload))
            for entry in payload.get("files", []):
                if entry.get("name") == bid_file.name and entry.get("envelope") == bid_file.envelope:
                    found = str(entry.get("sha256") or "")
                    if bid_file.sha256 and found and found != bid_file.sha256:
                        return found, _("L'accusé de réception et l'enregistrement du dépôt diffèrent.")
                    return found or bid_file.sha256, ""
        except (ValueError, TypeError, AttributeError):
            pass
    return bid_file.sha256, ""


def _open_file(opening: Opening, bid: Bid, bid_file: BidFile, identity: str) -> OpenedFile:
    expected, discrepancy = _expected_sha256(bid, bid_file)
    if bid_file.state != FileState.COMPLETE:
        return OpenedFile.objects.create(
            opening=opening,
            bid_file=bid_file,
            status=OpenedStatus.DECRYPT_FAILED,
            detail=_("Fichier non reçu en entier."),
        )
    name = _output_name(opening, bid_file)
    name, local = _local_path(name)
    if local is None:
        handle, temporary = tempfile.mkstemp(prefix="opening-")
        os.close(handle)
        target = Path(temporary)
    else:
        target = local
    try:
        try:
            with uploads.open_ciphertext(bid_file) as source:
                result = decrypt_stream(source, target, identity, expected_sha256=expected)
        except OSError as exc:
            result = Decrypted(
                OpenedStatus.DECRYPT_FAILED, detail=_("Fichier chiffré illisible : %(error)s") % {"error": exc}
            )
        except Exception as exc:  # one file's trouble never stops the others
            logger.exception("Opening %s: file %s", opening.pk, bid_file.pk)
            Path(target).unlink(missing_ok=True)
            result = Decrypted(OpenedStatus.DECRYPT_FAILED, detail=str(exc)[:300] or type(exc).__name__)
        if discrepancy and result.status == OpenedStatus.OK:
            result.status, result.detail = OpenedStatus.HASH_MISMATCH, discrepancy
        stored = ""
        if result.size is not None:
            if local:
                stored = name
            else:
                with open(target, "rb") as handle:
                    stored = default_storage.save(name, File(handle))
    finally:
        if not local:
            Path(target).unlink(missing_ok=True)
    return OpenedFile.objects.create(
        opening=opening,
        bid_file=bid_file,
        status=result.status,
        detail=str(result.detail),
        storage_name=stored,
        size=result.size,
    )


def _local_path(name: str) -> tuple[str, Path | None]:
    """A free name in the default storage and, when the storage is the local disk (decrypt in place), its
    path; (name, None) otherwise."""
    available = default_storage.get_available_name(name)
    try:
        path = Path(default_storage.path(available))
    except NotImplementedError:
        return name, None
    path.parent.mkdir(parents=True, exist_ok=True)
    return available, path


def run_opening(opening_id: int) -> Opening | None:
    """The background part of an opening: decrypt, check, store, report, then erase the identity."""
    with scopes_disabled():
        opening = (
            Opening.objects.select_related("consultation__organisation", "started_by").filter(pk=opening_id).first()
        )
    if opening is None or opening.state != OpeningState.RUNNING:
        return opening
    consultation = opening.consultation
    key = ConsultationKey.objects.filter(consultation=consultation).first()
    identity: str | None = None
    try:
        if key is None:
            raise DomainError(_("Cette consultation n'a pas de clé d'ouverture."), code="key_gone")
        identity = unseal_for_job(key)
        plan = opening.report.get("plan", {})
        bids = list(
            Bid.objects.filter(pk__in=plan.get("bids", []), consultation=consultation)
            .select_related("company", "receipt")
            .prefetch_related("files")
            .order_by("deposited_at", "pk")
        )
        for bid in bids:
            done = set(OpenedFile.objects.filter(opening=opening).values_list("bid_file_id", flat=True))
            results = []
            for bid_file in bid.files.all():
                if bid_file.pk in done:
                    continue
                opened = _open_file(opening, bid, bid_file, identity)
                results.append({"file": bid_file.name, "status": opened.status})
            Bid.objects.filter(pk=bid.pk).update(opened_at=clock.now())
            log_event(
                action="bids.opened",
                actor=opening.started_by,
                organisation=consultation.organisation,
                obj=bid,
                data={"opening": opening.pk, "kind": bid.kind, "company": bid.company.name, "files": results},
            )
        _finish(opening, key, identity)
    except Exception as exc:
        logger.exception("Opening %s failed", opening_id)
        _fail(
            opening,
            key,
            identity,
            str(exc) if isinstance(exc, DomainError) else _("Erreur inattendue pendant l'ouverture."),
        )
    opening.refresh_from_db()
    return opening


@transaction.atomic
def _finish(opening: Opening, key: ConsultationKey, identity: str) -> None:
    from ebourgogne.consultations.services import consultation_open

    consultation = _lock(opening.consultation)
    if opening.report.get("plan", {}).get("first") and consultation.state in OPENABLE_STATES:
        consultation_open(acting_user=opening.started_by, consultation=consultation, permission=OPEN)
    opening.state = OpeningState.DONE
    opening.finished_at = clock.now()
    opening.report = {**build_report(opening), "plan": opening.report.get("plan", {})}
    opening.save(update_fields=["state", "finished_at", "report"])
    from ebourgogne.sealing.services import keep_policy

    keep = keep_policy(key)
    _after_opening(key, identity, keep=keep)
    log_event(
        action="bids.opening.finished",
        actor=opening.started_by,
        organisation=consultation.organisation,
        obj=opening,
        data={
            "files": opening.files.count(),
            "problems": len(opening.report.get("problems", [])),
            "identity_kept": keep,
        },
    )


def _fail(opening: Opening, key: ConsultationKey | None, identity: str | None, message: str) -> None:
    """Nothing decrypted stays behind a failed opening; the identity is erased."""
    with transaction.atomic():
        for opened in OpenedFile.objects.filter(opening=opening):
            if opened.storage_name:
                default_storage.delete(opened.storage_name)
        bid_ids = OpenedFile.objects.filter(opening=opening).values_list("bid_file__bid_id", flat=True)
        Bid.objects.filter(pk__in=list(bid_ids)).update(opened_at=None)
        OpenedFile.objects.filter(opening=opening).delete()
        Opening.objects.filter(pk=opening.pk).update(state=OpeningState.FAILED, finished_at=clock.now(), error=message)
        if key is not None:
            _after_opening(key, identity, keep=False)
        log_event(
            action="bids.opening.failed",
            actor=opening.started_by,
            organisation=opening.consultation.organisation,
            obj=opening,
            data={"error": message},
        )


# --- The report --------------------------------------------------------------------------------------


def _bid_entry(bid: Bid) -> dict[str, Any]:
    receipt = getattr(bid, "receipt", None)
    return {
        "bid": bid.pk,
        "company": bid.company.name,
        "siret": getattr(bid.company, "siret", "") or "",
        "kind": bid.kind,
        "number": bid.number,
        "deposited_at": bid.deposited_at.isoformat() if bid.deposited_at else None,
        "upload_started_at": bid.upload_started_at.isoformat() if bid.upload_started_at else None,
        "receipt": receipt.number if receipt else None,
        "physical_backup_declared": bid.physical_backup_declared,
    }


def build_report(opening: Opening) -> dict[str, Any]:
    """The opening report (PV d'ouverture) as JSON: who, when, what was opened and what stayed sealed."""
    consultation = opening.consultation
    situation = bid_situation(consultation)
    opened_files = {
        opened.bid_file_id: opened for opened in OpenedFile.objects.filter(opening=opening).select_related("bid_file")
    }
    plan = opening.report.get("plan", {})
    cases = {case["bid"]: case for case in plan.get("backup_cases", [])}
    opened_bids = []
    problems = []
    for bid in situation.to_open + situation.backups:
        if bid.pk not in plan.get("bids", []):
            continue
        files = []
        for bid_file in bid.files.all():
            opened = opened_files.get(bid_file.pk)
            entry = {
                "file": opened.pk if opened else None,
                "envelope": bid_file.envelope,
                "name": bid_file.name,
                "ciphertext_size": bid_file.size,
                "sha256": bid_file.sha256,
                "size": opened.size if opened else None,
                "status": opened.status if opened else OpenedStatus.DECRYPT_FAILED,
                "detail": opened.detail if opened else "",
            }
            files.append(entry)
            if entry["status"] != OpenedStatus.OK:
                problems.append(
                    {
                        "company": bid.company.name,
                        "name": bid_file.name,
                        "status": entry["status"],
                        "detail": entry["detail"],
                    }
                )
        opened_bids.append({**_bid_entry(bid), "files": files, "backup_case": cases.get(bid.pk)})
    return {
        "version": 1,
        "opening": opening.pk,
        "consultation": {"id": consultation.pk, "reference": consultation.reference, "title": consultation.title},
        "buyer": consultation.organisation.name,
        "deadline": consultation.bids_deadline.isoformat() if consultation.bids_deadline else None,
        "started_at": opening.started_at.isoformat(),
        "finished_at": clock.now().isoformat(),
        "started_by": (getattr(opening.started_by, "full_name", "") or opening.started_by.email)
        if opening.started_by
        else None,
        "members": opening.members,
        "supplementary": not plan.get("first", True),
        "opened": opened_bids,
        "problems": problems,
        "late": [_bid_entry(bid) for bid in situation.late],
        "superseded": [_bid_entry(bid) for bid in situation.superseded],
        "backups": [
            {
                **_bid_entry(bid),
                "opened": bid.pk in plan.get("bids", []) or bid.opened_at is not None,
                "destroyed_at": bid.destroyed_at.isoformat() if bid.destroyed_at else None,
                "case": cases.get(bid.pk),
            }
            for bid in situation.backups + situation.other_backups
        ],
        "physical_backups": [bid.company.name for bid in situation.to_open if bid.physical_backup_declared],
    }


def report_pdf(opening: Opening) -> bytes:
    """The opening report as a PDF (core.pdf)."""
    from django.utils import formats
    from django.utils.dateparse import parse_datetime

    from ebourgogne.core.clock import PARIS
    from ebourgogne.core.pdf import Document

    report = opening.report

    def when(value: str | None) -> str:
        moment = parse_datetime(value) if value else None
        return formats.date_format(moment.astimezone(PARIS), "DATETIME_FORMAT") if moment else "—"

    def status_label(value: str) -> str:
        return str(OpenedStatus(value).label) if value in OpenedStatus.values else value

    title = _("Procès-verbal d'ouverture des plis")
    consultation = report.get("consultation", {})
    doc = Document(title=title, subject=str(consultation.get("reference", "")))
    doc.heading(title)
    doc.key_values(
        [
            (_("Acheteur"), report.get("buyer", "")),
            (_("Consultation"), f"{consultation.get('reference', '')} — {consultation.get('title', '')}"),
            (_("Date limite de remise des plis"), when(report.get("deadline"))),
            (_("Ouverture commencée le"), when(report.get("started_at"))),
            (_("Ouverture terminée le"), when(report.get("finished_at"))),
            (_("Ouverture supplémentaire"), _("oui") if report.get("supplementary") else _("non")),
            (_("Membres présents"), ", ".join(member.get("name", "") for member in report.get("members", []))),
        ]
    )
    doc.heading(_("Plis ouverts"), level=2)
    if report.get("opened"):
        for bid in report["opened"]:
            doc.paragraph(
                _("%(company)s — dépôt n° %(number)s du %(date)s, accusé de réception %(receipt)s")
                % {
                    "company": bid["company"],
                    "number": bid["number"],
                    "date": when(bid["deposited_at"]),
                    "receipt": bid["receipt"] or "—",
                }
                + (" — " + _("copie de sauvegarde") if bid["kind"] == BidKind.BACKUP else "")
            )
            if bid.get("backup_case"):
                doc.paragraph(
                    _("Motif de l'ouverture : %(case)s — %(reason)s")
                    % {
                        "case": str(BackupCase(bid["backup_case"]["case"]).label),
                        "reason": bid["backup_case"]["reason"],
                    }
                )
            doc.table(
                [_("Fichier"), _("Taille"), _("Résultat")],
                [
                    [f["name"], str(f["size"] if f["size"] is not None else "—"), status_label(f["status"])]
                    for f in bid["files"]
                ],
            )
    else:
        doc.paragraph(_("Aucun pli ouvert."))
    if report.get("problems"):
        doc.heading(_("Anomalies"), level=2)
        doc.table(
            [_("Entreprise"), _("Fichier"), _("Anomalie")],
            [
                [p["company"], p["name"], f"{status_label(p['status'])} {p['detail']}".strip()]
                for p in report["problems"]
            ],
        )
    for key, label in (
        ("late", _("Plis hors délai (non ouverts)")),
        ("superseded", _("Plis remplacés par un dépôt ultérieur (non ouverts)")),
    ):
        doc.heading(label, level=2)
        rows = [
            [b["company"], str(b["number"]), when(b["deposited_at"]), b["receipt"] or "—"] for b in report.get(key, [])
        ]
        if rows:
            doc.table([_("Entreprise"), _("Dépôt n°"), _("Reçu le"), _("Accusé de réception")], rows)
        else:
            doc.paragraph(_("Aucun."))
    doc.heading(_("Copies de sauvegarde"), level=2)
    rows = [
        [
            b["company"],
            str(b["number"]),
            _("ouverte") if b["opened"] else (_("détruite") if b["destroyed_at"] else _("scellée")),
        ]
        for b in report.get("backups", [])
    ]
    if rows:
        doc.table([_("Entreprise"), _("Dépôt n°"), _("Sort")], rows)
    if report.get("physical_backups"):
        doc.paragraph(
            _("Copies de sauvegarde sur support physique annoncées : %(names)s.")
            % {"names": ", ".join(report["physical_backups"])}
        )
    if not rows and not report.get("physical_backups"):
        doc.paragraph(_("Aucune."))
    return doc.output()


# --- Backup copies at the end of the procedure -----------------------------------------------------


def destroy_unopened_backups(*, consultation: Consultation | None = None) -> int:
    """Destroy the unopened backup copies of consultations whose procedure has ended (awarded,
    unsuccessful, abandoned, cancelled): the ciphertext is deleted, the bid marked destroyed, an audit
    event recorded. Idempotent. Returns the number of backup copies destroyed."""
    with scopes_disabled():
        bids = Bid.objects.filter(
            kind=BidKind.BACKUP,
            state=BidState.DEPOSITED,
            opened_at__isnull=True,
            destroyed_at__isnull=True,
            consultation__state__in=FINAL_STATES,
        ).select_related("consultation__organisation", "company")
        if consultation is not None:
            bids = bids.filter(consultation=consultation)
        count = 0
        for bid in bids:
            with transaction.atomic():
                locked = Bid.objects.select_for_update().filter(pk=bid.pk, destroyed_at__isnull=True).first()
                if locked is None:
                    continue
                names = []
                for bid_file in BidFile.objects.filter(bid=bid):
                    transaction.on_commit(lambda f=bid_file: uploads.remove(f))
                    names.append(bid_file.name)
                Bid.objects.filter(pk=bid.pk).update(destroyed_at=clock.now())
                log_event(
                    action="bids.backup.destroyed",
                    organisation=bid.consultation.organisation,
                    obj=bid,
                    data={
                        "consultation": bid.consultation_id,
                        "company": bid.company.name,
                        "files": names,
                        "state": bid.consultation.state,
                    },
                )
                count += 1
    return count


# --- Reads -------------------------------------------------------------------------------------------


def latest_opening(consultation: Consultation) -> Opening | None:
    return Opening.objects.filter(consultation=consultation, is_practice=False).order_by("-started_at", "-pk").first()


def done_openings(consultation: Consultation) -> list[Opening]:
    return list(
        Opening.objects.filter(consultation=consultation, state=OpeningState.DONE, is_practice=False).order_by(
            "started_at", "pk"
        )
    )


def opened_file(consultation: Consultation, pk: int) -> OpenedFile | None:
    """An opened file of this consultation (the caller already holds bids.open in its organisation)."""
    return (
        OpenedFile.objects.filter(
            pk=pk, opening__consultation=consultation, opening__state=OpeningState.DONE, opening__is_practice=False
        )
        .exclude(storage_name="")
        .select_related("bid_file")
        .first()
    )


def share_holders(consultation: Consultation) -> list[Any]:
    """The people holding a share of the consultation's opening key, in share order."""
    from ebourgogne.sealing.models import KeyShare

    return [
        share.holder
        for share in KeyShare.objects.filter(consultation_key__consultation=consultation)
        .select_related("holder")
        .order_by("index")
    ]
