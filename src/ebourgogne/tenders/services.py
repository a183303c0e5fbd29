"""Every change to a company's bids: create, announce and upload files, remove, deposit.

- `bid_create`: a member of a company (`bids.submit`) starts a bid (a draft) on a public consultation, for
  the whole of it or some lots, as a bid or a backup copy. After the deadline it can still be made: it
  will be late. Draft, cancelled and finished consultations are refused.
- `file_announce`: a file of an envelope (candidature / offre) with its ciphertext size; the bid's total
  must fit the consultation's announced size limit.
- `upload_chunk`: one chunk of a file at its offset (docs/bids-protocol.md). The age header is checked as
  soon as it has arrived; a file that is not age X25519 for one recipient is refused and reset at once.
  The last chunk completes the file and records the SHA-256 of the whole ciphertext.
- `file_remove`: a file out of a draft.
- `bid_deposit`: every file complete; each is flushed to disk, then the deposit time is read from the
  clock, the bid numbered (the consultation row locked), earlier in-time deposits of the same company for
  the same lots and kind superseded, and the receipt issued, all in one transaction: either the bid is
  deposited with its receipt, or nothing is. The receipt's RFC 3161 token is signed right after the
  commit, outside the consultation's lock (tenders.receipts: a receipt left without its token, the
  process having died in between, is stamped later by `stamp_pending`).

Late (R2151-5, DAJ guidance): what counts is the end of the upload, i.e. the deposit time, to the
second: `deposited_at >= bids_deadline` is late. A late bid is kept sealed and never opened.

Audit events: bid created, file announced, file received (complete), upload refused (bad header), file
removed, bid deposited. Not one per chunk: the audit chain is one lock for the whole platform.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import unicodedata
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.consultations.models import Consultation, Lot, State
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of
from ebourgogne.tenders import agecheck, uploads
from ebourgogne.tenders.limits import CHUNK_SIZE
from ebourgogne.tenders.models import Bid, BidFile, BidKind, BidState, Envelope, FileState

# Consultations that take bids: published (in time), closed (the deadline passed: late), opened (late).
ACCEPTING_STATES = frozenset({State.PUBLISHED, State.CLOSED, State.OPENED})
MAX_FILES_PER_BID = 2000

# HTTP status of each error code of the upload protocol (docs/bids-protocol.md); others are 400.
STATUS = {
    "not_found": 404,
    "forbidden": 403,
    "too_large": 413,
    "chunk_too_large": 413,
    "beyond_size": 413,
    "offset_mismatch": 409,
    "bid_deposited": 409,
    "upload_busy": 409,
    "checksum_mismatch": 460,
    "length_required": 411,
}


class TenderError(DomainError):
    """A refusal of the upload protocol; `offset` is the stored offset when it helps the client resume."""

    def __init__(self, message: Any, *, code: str, offset: int | None = None) -> None:
        super().__init__(message, code=code)
        self.offset = offset

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)


def status_of(error: DomainError) -> int:
    return STATUS.get(error.code, 400)


# --- Helpers ----------------------------------------------------------------------------------------


def _require(acting_user: Any, company: Organisation, permission: str = "bids.submit") -> None:
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    roles = roles_of(user=acting_user, organisation=company) if company.is_active else set()
    if not roles:
        raise NotFound(_("Organisation introuvable."))
    if not roles_grant(roles, permission):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas cette action."))


def _not_accepting() -> TenderError:
    return TenderError(
        _("Consultation introuvable ou non ouverte aux dépôts : aucun pli ne peut y être déposé."),
        code="not_accepting",
    )


def _check_accepting(consultation: Consultation) -> None:
    if consultation.state not in ACCEPTING_STATES:
        if consultation.state == State.CANCELLED:
            raise TenderError(
                _("Cette consultation a été annulée : aucun pli ne peut plus y être déposé."), code="cancelled"
            )
        if consultation.state == State.DRAFT:
            raise _not_accepting()
        raise TenderError(
            _("La procédure de cette consultation est terminée : aucun pli ne peut plus y être déposé."),
            code="not_accepting",
        )


def _draft(bid: Bid) -> None:
    if bid.state != BidState.DRAFT:
        raise TenderError(
            _(
                "Ce pli est déjà déposé : ses fichiers ne peuvent plus changer. Préparez un nouveau pli pour le remplacer."
            ),
            code="bid_deposited",
        )


def human_size(size: int) -> str:
    from ebourgogne.dce.services import human_size as dce_human_size

    return str(dce_human_size(size))


def clean_file_name(value: Any) -> str:
    """The plaintext file's name as given: no folders, no control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", str(value or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        raise TenderError(_("Donnez le nom du fichier."), code="invalid_name")
    if len(name) > 255:
        raise TenderError(_("Le nom du fichier dépasse 255 caractères."), code="invalid_name")
    return name


def bid_total(bid: Bid) -> int:
    return BidFile.objects.filter(bid=bid).aggregate(total=Sum("size"))["total"] or 0


# --- Bids ---------------------------------------------------------------------------------------------


def bid_create(
    *,
    acting_user: Any,
    company: Organisation,
    consultation_id: int,
    lots: list[int] | None = None,
    kind: str = BidKind.BID,
    request: Any = None,
) -> Bid:
    """A draft bid of `company` on a consultation, for `lots` (lot numbers; empty: the whole consultation)."""
    _require(acting_user, company)
    if kind not in BidKind.values:
        raise TenderError(
            _("Nature de pli inconnue : « bid » (offre) ou « backup » (copie de sauvegarde)."), code="invalid_kind"
        )
    with scopes_disabled():
        consultation = Consultation.objects.select_related("organisation").filter(pk=consultation_id).first()
        if consultation is None or consultation.state == State.DRAFT:
            raise _not_accepting()
        _check_accepting(consultation)
        wanted = sorted(set(lots or []))
        lot_rows = list(Lot.objects.filter(consultation=consultation, number__in=wanted)) if wanted else []
        if len(lot_rows) != len(wanted):
            unknown = sorted(set(wanted) - {lot.number for lot in lot_rows})
            raise TenderError(
                _("Lot(s) inconnu(s) dans cette consultation : %(lots)s.") % {"lots": ", ".join(map(str, unknown))},
                code="invalid_lots",
            )
        with transaction.atomic():
            bid = Bid.objects.create(consultation=consultation, company=company, kind=kind, created_by=acting_user)
            if lot_rows:
                bid.lots.set(lot_rows)
            log_event(
                action="tenders.bid.created",
                actor=acting_user,
                organisation=company,
                obj=bid,
                data={
                    "consultation": consultation.pk,
                    "kind": kind,
                    "lots": wanted,
                    "late": consultation.deadline_passed,
                },
                request=request,
            )
    return bid


def file_announce(
    *, acting_user: Any, company: Organisation, bid: Bid, envelope: str, name: str, size: int, request: Any = None
) -> BidFile:
    """Announce one file of `bid` (its ciphertext size); the bid's total must fit the size limit."""
    _require(acting_user, company)
    if bid.company_id != company.pk:
        raise NotFound(_("Pli introuvable."))
    if envelope not in Envelope.values:
        raise TenderError(
            _("Enveloppe inconnue : « application » (candidature) ou « offer » (offre)."), code="invalid_envelope"
        )
    name = clean_file_name(name)
    if not isinstance(size, int) or size <= 0:
        raise TenderError(_("La taille du fichier chiffré doit être un nombre d'octets positif."), code="invalid_size")
    with transaction.atomic():
        locked = Bid.objects.select_for_update(of=("self",)).select_related("consultation").get(pk=bid.pk)
        _draft(locked)
        with scopes_disabled():
            _check_accepting(locked.consultation)
        if BidFile.objects.filter(bid=locked).count() >= MAX_FILES_PER_BID:
            raise TenderError(
                _("Un pli compte au plus %(max)d fichiers.") % {"max": MAX_FILES_PER_BID}, code="too_many_files"
            )
        limit = locked.consultation.bid_size_limit
        total = bid_total(locked)
        if total + size > limit:
            raise TenderError(
                _(
                    "Ce fichier ferait dépasser la taille maximale d'un pli pour cette consultation (%(limit)s, "
                    "fichiers chiffrés compris ; déjà annoncés : %(used)s). Rien n'a été enregistré."
                )
                % {"limit": human_size(limit), "used": human_size(total)},
                code="too_large",
            )
        bid_file = BidFile(bid=locked, envelope=envelope, name=name, size=size)
        bid_file.storage_name = uploads.storage_name_for(bid_file)
        bid_file.save()
        log_event(
            action="tenders.file.announced",
            actor=acting_user,
            organisation=company,
            obj=locked,
            data={"file": str(bid_file.upload_id), "envelope": envelope, "name": name, "size": size},
            request=request,
        )
    return bid_file


def file_remove(*, acting_user: Any, company: Organisation, bid_file: BidFile, request: Any = None) -> None:
    _require(acting_user, company)
    with transaction.atomic():
        locked = Bid.objects.select_for_update().get(pk=bid_file.bid_id, company=company)
        _draft(locked)
        deleted, _rows = BidFile.objects.filter(pk=bid_file.pk).delete()
        if not deleted:
            raise NotFound(_("Fichier introuvable."))
        log_event(
            action="tenders.file.removed",
            actor=acting_user,
            organisation=company,
            obj=locked,
            data={"file": str(bid_file.upload_id), "name": bid_file.name},
            request=request,
        )
        transaction.on_commit(lambda: uploads.remove(bid_file))


# --- Uploads -----------------------------------------------------------------------------------------


def _parse_checksum(header: str | None) -> bytes | None:
    if not header:
        return None
    algorithm, _sep, value = header.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise TenderError(
            _("Somme de contrôle non prise en charge : utilisez « sha256 <base64> »."), code="checksum_unsupported"
        )
    try:
        expected = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        expected = b""
    if len(expected) != 32:
        raise TenderError(
            _("En-tête Upload-Checksum invalide : attendu « sha256 <base64 de 32 octets> »."), code="checksum_invalid"
        )
    return expected


def _refuse_header(
    bid_file: BidFile, error: agecheck.HeaderError, acting_user: Any, company: Organisation, request: Any
):
    """Reset the upload (nothing of it is kept) and say why."""
    path = uploads.path_of(bid_file)
    if path.exists():
        with path.open("r+b") as handle:
            handle.truncate(0)
    with transaction.atomic():
        BidFile.objects.filter(pk=bid_file.pk).update(received=0)
        log_event(
            action="tenders.upload.refused",
            actor=acting_user,
            organisation=company,
            obj=bid_file.bid,
            data={"file": str(bid_file.upload_id), "reason": error.code},
            request=request,
        )
    return TenderError(error.message, code=error.code, offset=0)


def upload_chunk(
    *,
    acting_user: Any,
    company: Organisation,
    bid_file: BidFile,
    offset: Any,
    stream: Any,
    content_length: Any,
    checksum: str | None = None,
    request: Any = None,
) -> BidFile:
    """Append one chunk (`content_length` bytes read from `stream`) at `offset`. Returns the file, updated."""
    _require(acting_user, company)
    if bid_file.bid.company_id != company.pk:
        raise NotFound(_("Fichier introuvable."))
    _draft(bid_file.bid)
    try:
        offset = int(offset)
        if offset < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise TenderError(
            _("En-tête Upload-Offset absent ou invalide : donnez la position de ce morceau en octets."),
            code="offset_invalid",
        ) from None
    try:
        length = int(content_length) if content_length not in (None, "") else None
    except (TypeError, ValueError):
        length = None
    if length is None or length < 0:
        raise TenderError(
            _("En-tête Content-Length absent ou invalide : envoyez la longueur du morceau."), code="length_required"
        )
    if length > CHUNK_SIZE:
        raise TenderError(
            _("Morceau trop grand : %(size)s au plus par envoi.") % {"size": human_size(CHUNK_SIZE)},
            code="chunk_too_large",
        )
    expected_digest = _parse_checksum(checksum)
    path = uploads.path_of(bid_file)
    try:
        with uploads.locked_file(path) as handle:
            return _write_chunk(
                handle, bid_file, offset, stream, length, expected_digest, acting_user, company, request
            )
    except uploads.Busy:
        raise TenderError(
            _("Un autre envoi de ce fichier est en cours : attendez sa fin, puis reprenez à la position indiquée."),
            code="upload_busy",
        ) from None


def _write_chunk(handle, bid_file, offset, stream, length, expected_digest, acting_user, company, request) -> BidFile:
    fresh = BidFile.objects.select_related("bid").filter(pk=bid_file.pk).first()
    if fresh is None:
        raise NotFound(_("Fichier introuvable."))
    _draft(fresh.bid)
    received = fresh.received
    on_disk = os.fstat(handle.fileno()).st_size
    if on_disk < received:  # should not happen (each chunk is flushed before it is counted): resume from disk
        BidFile.objects.filter(pk=fresh.pk, received=received).update(received=on_disk)
        received = on_disk
    if fresh.state == FileState.COMPLETE and offset == received and length == 0:
        return fresh
    if offset != received:
        raise TenderError(
            _("Position inattendue : la plateforme a reçu %(offset)d octets de ce fichier ; reprenez à partir de là.")
            % {"offset": received},
            code="offset_mismatch",
            offset=received,
        )
    if received + length > fresh.size:
        raise TenderError(
            _("Ce morceau dépasse la taille annoncée du fichier (%(size)d octets) : rien n'a été ajouté.")
            % {"size": fresh.size},
            code="beyond_size",
            offset=received,
        )
    digest = hashlib.sha256() if expected_digest is not None else None
    running = uploads.running_hash(fresh.pk, received, handle.fileno())  # before truncate changes the stamp
    handle.truncate(received)
    handle.seek(received)
    written = 0
    header_pending = received < agecheck.HEADER_MAX and _header_pending(handle, received)
    try:
        if header_pending:
            wanted = min(length, agecheck.HEADER_MAX - received)
            head = _read_exactly(stream, wanted)
            if len(head) < wanted:
                raise _Truncated
            handle.seek(0)
            prefix = handle.read(received) + head
            try:
                agecheck.check_header(prefix, final=received + len(head) >= fresh.size)
            except agecheck.HeaderError as error:
                raise _refuse_header(fresh, error, acting_user, company, request) from None
            handle.seek(received)
            handle.write(head)
            written += len(head)
            if digest is not None:
                digest.update(head)
            if running is not None:
                running.update(head)
        while written < length:
            block = _read(stream, min(uploads.BLOCK, length - written))
            if not block:
                raise _Truncated
            handle.write(block)
            written += len(block)
            if digest is not None:
                digest.update(block)
            if running is not None:
                running.update(block)
    except _Truncated:
        handle.truncate(received)
        raise TenderError(
            _("Morceau incomplet : %(got)d octets reçus sur %(length)d annoncés. Renvoyez-le à partir de %(offset)d.")
            % {"got": written, "length": length, "offset": received},
            code="truncated_chunk",
            offset=received,
        ) from None
    if digest is not None and digest.digest() != expected_digest:
        handle.truncate(received)
        raise TenderError(
            _("La somme de contrôle du morceau ne correspond pas : il a été abîmé en route. Renvoyez-le."),
            code="checksum_mismatch",
            offset=received,
        )
    handle.flush()
    os.fdatasync(handle.fileno())
    new = received + written
    fields: dict[str, Any] = {"received": new}
    complete = new == fresh.size
    if complete:
        uploads.fsync_dir(uploads.path_of(fresh).parent)
        fields.update(
            state=FileState.COMPLETE,
            sha256=running.hexdigest() if running is not None else uploads.sha256_of_path(uploads.path_of(fresh)),
            completed_at=clock.now(),
            storage_name=uploads.storage_name_for(fresh),
        )
    with transaction.atomic():
        updated = BidFile.objects.filter(pk=fresh.pk, received=received, bid__state=BidState.DRAFT).update(**fields)
        if not updated:
            raise TenderError(
                _("Ce fichier a changé pendant l'envoi (retiré, ou pli déposé) : rechargez la page."),
                code="offset_mismatch",
            )
        if received == 0 and written:
            Bid.objects.filter(pk=fresh.bid_id, upload_started_at__isnull=True).update(upload_started_at=clock.now())
        if complete:
            log_event(
                action="tenders.file.received",
                actor=acting_user,
                organisation=company,
                obj=fresh.bid,
                data={"file": str(fresh.upload_id), "size": fresh.size, "sha256": fields["sha256"]},
                request=request,
            )
    if complete:
        uploads.forget_hash(fresh.pk)
    elif running is not None:
        uploads.remember_hash(fresh.pk, new, handle.fileno(), running)
    for name, value in fields.items():  # what the update above stored (no reading it back)
        setattr(fresh, name, value)
    return fresh


class _Truncated(Exception):
    pass


def _read(stream: Any, size: int) -> bytes:
    """A block of the request body; a connection that broke reads as the end of the body (truncated)."""
    try:
        return stream.read(size)
    except Exception:  # noqa: BLE001 - the server's own error for a client gone (gunicorn: NoMoreData, OSError)
        return b""


def _read_exactly(stream: Any, length: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < length:
        block = _read(stream, length - got)
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)


def _header_pending(handle: Any, received: int) -> bool:
    """True while the stored bytes do not yet hold a complete, valid age header."""
    handle.seek(0)
    prefix = handle.read(received)
    try:
        return agecheck.check_header(prefix) is not None
    except agecheck.HeaderError:
        return True


# --- Deposit -----------------------------------------------------------------------------------------


def _lots_of(bid: Bid) -> list[Lot]:
    with scopes_disabled():
        return list(bid.lots.all())


def _lot_set(bid: Bid) -> frozenset[int]:
    with scopes_disabled():
        return frozenset(bid.lots.values_list("pk", flat=True))


def bid_deposit(
    *, acting_user: Any, company: Organisation, bid: Bid, physical_backup: bool = False, request: Any = None
) -> Bid:
    """Deposit `bid`: files flushed, deposit time read, bid numbered, earlier ones superseded, receipt issued."""
    from ebourgogne.tenders.receipts import issue_receipt

    _require(acting_user, company)
    if bid.company_id != company.pk:
        raise NotFound(_("Pli introuvable."))
    _draft(bid)
    files = list(BidFile.objects.filter(bid=bid))
    if not files:
        raise TenderError(_("Ajoutez au moins un fichier avant de déposer le pli."), code="no_files")
    incomplete = [bid_file.name for bid_file in files if bid_file.state != FileState.COMPLETE]
    if incomplete:
        raise TenderError(
            _("L'envoi de ces fichiers n'est pas terminé : %(names)s. Reprenez-le avant de déposer.")
            % {"names": ", ".join(incomplete)},
            code="files_incomplete",
        )
    for bid_file in files:
        path = uploads.path_of(bid_file)
        if uploads.size_on_disk(bid_file) != bid_file.size:
            raise TenderError(
                _("Le fichier « %(name)s » n'est pas entier sur la plateforme : retirez-le et envoyez-le de nouveau.")
                % {"name": bid_file.name},
                code="file_damaged",
            )
        uploads.fsync_path(path)  # the last byte is on disk before the deposit time is read
    # Read before the lock what the lock does not protect (a draft's lots do not change; the files are
    # read again under the lock), so that the consultation's lock is held for as few queries as possible.
    lots = _lots_of(bid)
    with transaction.atomic(), scopes_disabled():
        consultation = (
            Consultation.objects.select_for_update(no_key=True, of=("self",))
            .select_related("organisation", "opening_key")
            .get(pk=bid.consultation_id)
        )
        _check_accepting(consultation)
        locked = Bid.objects.select_for_update().get(pk=bid.pk)
        _draft(locked)
        current = list(BidFile.objects.filter(bid=locked))
        if {(f.pk, f.state, f.sha256) for f in current} != {(f.pk, FileState.COMPLETE, f.sha256) for f in files}:
            raise TenderError(
                _("Les fichiers du pli ont changé pendant le dépôt : vérifiez-les et recommencez."),
                code="files_changed",
            )
        locked.consultation = consultation
        locked.company = company
        now = clock.now()
        late = consultation.bids_deadline is None or now >= consultation.bids_deadline
        highest = Bid.objects.filter(consultation=consultation).aggregate(n=Max("number"))["n"] or 0
        locked.state = BidState.DEPOSITED
        locked.deposited_at = now
        locked.deposited_by = acting_user
        locked.number = highest + 1
        locked.is_late = late
        locked.physical_backup_declared = bool(physical_backup)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:  # a writer that did not lock took the number: say so, nothing is deposited
            raise TenderError(
                _("Trop de dépôts arrivent en même temps : réessayez dans un instant."), code="busy"
            ) from None
        superseded: list[int] = []
        if not late:
            lot_set = frozenset(lot.pk for lot in lots)
            earlier = Bid.objects.filter(
                consultation=consultation,
                company=company,
                kind=locked.kind,
                state=BidState.DEPOSITED,
                is_late=False,
                superseded_by__isnull=True,
            ).exclude(pk=locked.pk)
            superseded = [other.pk for other in earlier if _lot_set(other) == lot_set]
            if superseded:
                Bid.objects.filter(pk__in=superseded).update(superseded_by=locked)
        # The RFC 3161 token is signed right after the commit, outside this lock (issue_receipt): a
        # deposit whose process dies in between keeps its receipt, pending, stamped by `stamp_pending`.
        receipt = issue_receipt(locked, after_commit=True, lots=lots, files=current)
        log_event(
            action="tenders.bid.deposited",
            actor=acting_user,
            organisation=company,
            obj=locked,
            data={
                "consultation": consultation.pk,
                "number": locked.number,
                "late": late,
                "kind": locked.kind,
                "receipt": receipt.number,
                "digest": receipt.digest,
                "superseded": superseded,
                "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in files],
            },
            request=request,
        )
    return locked
