"""Retention periods of the contract's documents and of the procedure's documents (R2184-12, R2184-13),
and the purge that only deletes what is past its period.

The rules (../shared/docs/rules.md, "Event log and retention"):
- R2184-13: the contract's documents (acte d'engagement, modifications, order forms, subcontracting acts,
  other pieces) are kept 5 years after the end of execution for supplies and services, 10 years for
  works. `on_contract_end` records that date on every `ContractDocument` (`retain_until`) when the
  execution ends or the contract is terminated.
- R2184-12: applications, bids and procedure documents are kept at least 5 years from the signature of
  the contract. The reading taken here:
  * a consultation whose awards led to contracts: 5 years from the latest signature of its contracts
    (one per awarded lot), once every awarded lot has a signed contract; while one of them is not
    signed (or not recorded on the platform), the date is unknown and everything is kept;
  * a consultation that ended without a contract (unsuccessful, abandoned, cancelled): no signature
    will ever come, so 5 years from the day its outcome was declared (`Consultation.ended_at`);
  * anything else (a procedure still running, a practice consultation, a date missing): unknown, kept.
  The date is computed (`bids_retain_until`), never stored: no field records it.
- The purge (`purge`, run daily by `tasks_retention` and by `ebourgogne retention_purge`) deletes from
  the storage only what is strictly past its date (the date itself is still a day of retention):
  * a `ContractDocument` whose `retain_until` has passed: the file is deleted, the row kept with an
    empty `storage_name` and `purged_at` (its download then says the file was deleted at the end of its
    retention period: `documents.content` raises DomainError("purged"), see also `ensure_stored`);
  * the bids of a consultation past its date: the ciphertext of every file (tenders' bids folder) and
    the plaintext the opening decrypted (`OpenedFile`, default storage); the rows stay (the deposit
    register, the receipts with their digests and timestamps), each bid marked `destroyed_at`, each
    file's `storage_name` emptied.
  * the tender files (DCE) of that consultation and the ZIP of each version: files deleted, rows kept
    with an empty `storage_name` / `archive_name`; the public page lists them as deleted and their
    downloads answer 410 Gone with the reason (dce/views.py `_purged`).
  * the letters (`awards.Letter`): those of the procedure (award, rejection, unsuccessful, abandoned)
    are procedure documents and follow the bids' date (R2184-12); those that notify the contract, a
    modification, an order or a subcontracting decision are contract documents and follow the contract's
    (R2184-13: 5 years after the end of execution, 10 for works, from `Contract.ended_at`; unknown while it
    runs). The PDF is deleted, the row kept with an empty `storage_name` (the letters page still lists it,
    with its digest, its proofs of sending and reading); a download answers "deleted at the end of its
    retention period" (`awards.services.letter_content`).
  * the commission's minutes (`meetings.Minutes`): procedure documents (R2184-12), kept until the latest
    date of the consultations on the meeting's agenda; while one of them is unknown, or when the agenda
    names no consultation (the rules give no period for it), they are kept. Same pattern: PDF deleted, row
    kept (its SHA-256 and the signatures stay), a download answers the same message
    (`meetings.minutes.read_current`).
  * the opening reports (`tenders.Opening.report`) are not files: the PDF is built on demand from the
    opening's record, which is the register of the opening and is kept, like the deposit register.
  One audit event "contracts.purged" per contract and per consultation, with the counts (and one per
  consultation for its letters, one per meeting for its minutes). A failure to
  delete a file leaves its row as it was (the next run tries again); running twice deletes nothing more.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.contracts.models import Contract, ContractDocument
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError

logger = logging.getLogger("ebourgogne.contracts.retention")

PROCEDURE_YEARS = 5  # R2184-12: applications, bids, procedure documents, from the signature
CONTRACT_YEARS = 5  # R2184-13: supplies and services, after the end of execution
WORKS_YEARS = 10  # R2184-13: works
BATCH = 200  # contracts or consultations handled per query batch

# Consultation states that end a procedure (tenders.opening.FINAL_STATES).
_AWARDED = "awarded"
_WITHOUT_CONTRACT = ("unsuccessful", "abandoned", "cancelled")


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` plus `years` years; 29 February gives 28 February in a year that has none."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _local_date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(PARIS).date()


def contract_years(contract: Contract) -> int:
    return WORKS_YEARS if contract.is_works else CONTRACT_YEARS


def contract_retain_until(contract: Contract, ended_on: dt.date) -> dt.date:
    """The last day the contract's documents are kept: 5 years after the end of execution, 10 for works."""
    return add_years(ended_on, contract_years(contract))


def on_contract_end(contract: Contract, *, ended_on: dt.date) -> None:
    """Record `retain_until` on every document of the contract (5 years after the end of execution,
    10 for works) and on the procedure's documents it governs. Called by the end/termination service.

    The procedure's documents (bids) have no stored date: theirs is computed from the contracts'
    signatures (`bids_retain_until`). Documents already purged are left as they are."""
    until = contract_retain_until(contract, ended_on)
    with scopes_disabled():
        ContractDocument.objects.filter(contract=contract, purged_at__isnull=True).update(retain_until=until)


def ensure_stored(document: ContractDocument) -> None:
    """DomainError("purged") with a clear message when the purge deleted the document's file."""
    if document.purged_at is not None or not document.storage_name:
        when = document.purged_at or clock.now()
        raise DomainError(
            _("Ce fichier a été supprimé au terme de sa durée de conservation (le %(day)s).")
            % {"day": date_format(_local_date(when), "j F Y")},
            code="purged",
        )


# --- Retention date of a consultation's bids (selector) ---------------------------------------------


def bids_retain_until_many(consultation_ids: Iterable[int]) -> dict[int, dt.date | None]:
    """The last day the bids and procedure documents of each consultation are kept (see the module's
    docstring), or None when it is not known yet (kept). A few queries for the whole batch."""
    from ebourgogne.awards.models import Award, Outcome
    from ebourgogne.consultations.models import Consultation

    ids = list(consultation_ids)
    result: dict[int, dt.date | None] = dict.fromkeys(ids)
    with scopes_disabled():
        rows = list(Consultation.objects.filter(pk__in=ids, is_practice=False).values_list("pk", "state", "ended_at"))
        awarded = dict(
            Award.objects.filter(evaluation__consultation_id__in=ids, outcome=Outcome.AWARDED)
            .values("evaluation__consultation_id")
            .annotate(n=Count("pk"))
            .values_list("evaluation__consultation_id", "n")
        )
        contracts = {
            row["consultation_id"]: row
            for row in Contract.objects.filter(consultation_id__in=ids)
            .values("consultation_id")
            .annotate(
                n=Count("pk"),
                signed=Count("pk", filter=Q(signed_at__isnull=False)),
                last=Max("signed_at"),
            )
        }
    for pk, state, ended_at in rows:
        signed = contracts.get(pk)
        if state == _AWARDED:
            if signed is None or not awarded.get(pk):
                continue  # awarded but no contract recorded: unknown
            if signed["signed"] < max(signed["n"], awarded[pk]) or signed["last"] is None:
                continue  # a contract not signed yet
            result[pk] = add_years(_local_date(signed["last"]), PROCEDURE_YEARS)
        elif state in _WITHOUT_CONTRACT and ended_at is not None and signed is None:
            result[pk] = add_years(_local_date(ended_at), PROCEDURE_YEARS)
    return result


def bids_retain_until(consultation) -> dt.date | None:
    """The last day the consultation's bids and procedure documents are kept, or None (not known yet)."""
    return bids_retain_until_many([consultation.pk])[consultation.pk]


# --- The purge ----------------------------------------------------------------------------------------


@dataclass
class PurgedContract:
    contract_id: int
    number: str
    organisation: str
    retain_until: dt.date
    documents: list[str] = field(default_factory=list)  # "title (filename)"
    bytes: int = 0


@dataclass
class PurgedConsultation:
    consultation_id: int
    reference: str
    organisation: str
    retain_until: dt.date
    bids: int = 0
    files: int = 0
    opened_files: int = 0
    dce_files: int = 0  # the tender files (DCE) and the ZIPs of its versions


@dataclass
class PurgedFiles:
    """Letters of one consultation (`kind` "letters") or the minutes of one meeting (`kind` "minutes")."""

    kind: str
    label: str  # the consultation's reference, or the meeting's title and date
    organisation: str
    retain_until: dt.date
    files: list[str] = field(default_factory=list)
    bytes: int = 0


@dataclass
class PurgeReport:
    today: dt.date
    dry_run: bool
    contracts: list[PurgedContract] = field(default_factory=list)
    consultations: list[PurgedConsultation] = field(default_factory=list)
    letters: list[PurgedFiles] = field(default_factory=list)
    minutes: list[PurgedFiles] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def documents(self) -> int:
        return sum(len(item.documents) for item in self.contracts)

    @property
    def bid_files(self) -> int:
        return sum(item.files for item in self.consultations)

    def as_dict(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "dry_run": self.dry_run,
            "contracts": len(self.contracts),
            "documents": self.documents,
            "consultations": len(self.consultations),
            "bids": sum(item.bids for item in self.consultations),
            "bid_files": self.bid_files,
            "opened_files": sum(item.opened_files for item in self.consultations),
            "dce_files": sum(item.dce_files for item in self.consultations),
            "letters": sum(len(item.files) for item in self.letters),
            "minutes": len(self.minutes),
            "errors": len(self.errors),
        }


def purge(*, now: dt.datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Delete from the storage the files past their retention period (see the module's docstring).
    `dry_run`: say what would be deleted, delete nothing. Idempotent."""
    today = _local_date(now or clock.now())
    report = PurgeReport(today=today, dry_run=dry_run)
    _purge_contract_documents(report, today)
    _purge_bids(report, today)
    _purge_letters(report, today)
    _purge_minutes(report, today)
    return report


def _batches(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _purge_contract_documents(report: PurgeReport, today: dt.date) -> None:
    with scopes_disabled():
        contract_ids = list(
            ContractDocument.objects.filter(retain_until__lt=today, purged_at__isnull=True)
            .values_list("contract_id", flat=True)
            .distinct()
            .order_by("contract_id")
        )
    for batch in _batches(contract_ids):
        with scopes_disabled():
            contracts = Contract.objects.filter(pk__in=batch).select_related("organisation").order_by("pk")
            for contract in contracts:
                try:
                    purged = _purge_contract(contract, today, dry_run=report.dry_run)
                except Exception as error:  # one contract's failure never stops the others
                    logger.exception("retention purge of contract %s failed", contract.pk)
                    report.errors.append(f"contract {contract.pk}: {error}")
                    continue
                if purged is not None:
                    report.contracts.append(purged)


def _purge_contract(contract: Contract, today: dt.date, *, dry_run: bool) -> PurgedContract | None:
    with transaction.atomic():
        documents = ContractDocument.objects.filter(contract=contract, retain_until__lt=today, purged_at__isnull=True)
        if not dry_run:
            documents = documents.select_for_update()
        documents = list(documents.order_by("pk"))
        if not documents:
            return None
        purged = PurgedContract(
            contract_id=contract.pk,
            number=contract.number,
            organisation=contract.organisation.name,
            retain_until=max(document.retain_until for document in documents),
        )
        for document in documents:
            purged.documents.append(f"{document.title} ({document.filename})")
            purged.bytes += document.size
        if dry_run:
            return purged
        _purge_files(
            ContractDocument.objects.filter(pk__in=[document.pk for document in documents]),
            [document.storage_name for document in documents],
            mark={"storage_name": "", "purged_at": clock.now()},
            organisation=contract.organisation,
            obj=contract,
            data={
                "number": contract.number,
                "documents": len(documents),
                "bytes": purged.bytes,
                "retain_until": purged.retain_until.isoformat(),
                "titles": [document.title for document in documents],
            },
        )
    return purged


def _purge_files(
    rows: QuerySet[Any],
    names: list[str],
    *,
    mark: dict[str, Any],
    organisation: Any,
    obj: Any,
    data: dict[str, Any],
) -> None:
    """Purge these files, inside the caller's transaction: mark their `rows` (`mark`: the emptied name, and
    so on), write the audit event "contracts.purged" on `obj` with `data`, then delete the files `names`,
    last: a failure to delete rolls the rows and the event back (tried again at the next run). A file
    already missing is not an error; an empty name has no file."""
    rows.update(**mark)
    log_event(action="contracts.purged", organisation=organisation, obj=obj, data=data)
    for name in names:
        if name:
            default_storage.delete(name)


def _purge_bids(report: PurgeReport, today: dt.date) -> None:
    from ebourgogne.consultations.models import Consultation
    from ebourgogne.dce.models import DceFile, DceVersion
    from ebourgogne.tenders.models import Bid

    ended = {"consultation__is_practice": False, "consultation__state__in": (_AWARDED, *_WITHOUT_CONTRACT)}
    with scopes_disabled():
        candidates = sorted(
            set(Bid.objects.filter(destroyed_at__isnull=True, **ended).values_list("consultation_id", flat=True))
            | set(DceFile.objects.filter(**ended).exclude(storage_name="").values_list("consultation_id", flat=True))
            | set(DceVersion.objects.filter(**ended).exclude(archive_name="").values_list("consultation_id", flat=True))
        )
    for batch in _batches(candidates):
        dates = bids_retain_until_many(batch)
        due = {pk: until for pk, until in dates.items() if until is not None and until < today}
        if not due:
            continue
        with scopes_disabled():
            consultations = Consultation.objects.filter(pk__in=due).select_related("organisation").order_by("pk")
            for consultation in consultations:
                try:
                    purged = _purge_consultation(consultation, due[consultation.pk], dry_run=report.dry_run)
                except Exception as error:
                    logger.exception("retention purge of consultation %s failed", consultation.pk)
                    report.errors.append(f"consultation {consultation.pk}: {error}")
                    continue
                if purged is not None:
                    report.consultations.append(purged)


def _purge_consultation(consultation, until: dt.date, *, dry_run: bool) -> PurgedConsultation | None:
    from ebourgogne.consultations.models import Consultation
    from ebourgogne.dce.models import DceFile, DceVersion
    from ebourgogne.tenders import uploads
    from ebourgogne.tenders.models import Bid, BidFile, OpenedFile

    with transaction.atomic():
        bids = Bid.objects.filter(consultation=consultation, destroyed_at__isnull=True)
        if not dry_run:
            bids = bids.select_for_update()
        bid_ids = list(bids.order_by("pk").values_list("pk", flat=True))
        dce_files = list(DceFile.objects.filter(consultation=consultation).exclude(storage_name=""))
        archives = list(DceVersion.objects.filter(consultation=consultation).exclude(archive_name=""))
        if not bid_ids and not dce_files and not archives:
            return None
        files = list(BidFile.objects.filter(bid_id__in=bid_ids).select_related("bid"))
        opened = list(OpenedFile.objects.filter(bid_file__bid_id__in=bid_ids).exclude(storage_name=""))
        purged = PurgedConsultation(
            consultation_id=consultation.pk,
            reference=consultation.reference,
            organisation=consultation.organisation.name,
            retain_until=until,
            bids=len(bid_ids),
            files=len(files),
            opened_files=len(opened),
            dce_files=len(dce_files) + len(archives),
        )
        if dry_run:
            return purged
        Bid.objects.filter(pk__in=bid_ids).update(destroyed_at=clock.now())
        BidFile.objects.filter(pk__in=[bid_file.pk for bid_file in files]).update(storage_name="")
        OpenedFile.objects.filter(pk__in=[item.pk for item in opened]).update(storage_name="")
        # The DCE rows stay (the public page lists the files as deleted; a download answers 410 Gone).
        DceFile.objects.filter(pk__in=[item.pk for item in dce_files]).update(storage_name="")
        DceVersion.objects.filter(pk__in=[item.pk for item in archives]).update(archive_name="")
        if dce_files or archives:
            Consultation.objects.filter(pk=consultation.pk).update(updated_at=clock.now())  # kept pages
        log_event(
            action="contracts.purged",
            organisation=consultation.organisation,
            obj=consultation,
            data={
                "reference": consultation.reference,
                "bids": purged.bids,
                "files": purged.files,
                "opened_files": purged.opened_files,
                "dce_files": purged.dce_files,
                "retain_until": until.isoformat(),
            },
        )
        for item in opened:
            default_storage.delete(item.storage_name)
        for bid_file in files:
            uploads.remove(bid_file)  # by its recorded name, or the name made from the ids
        for name in [item.storage_name for item in dce_files] + [item.archive_name for item in archives]:
            default_storage.delete(name)
    return purged


# --- Letters and minutes ------------------------------------------------------------------------------

PROCEDURE_LETTERS = ("award", "rejection", "unsuccessful", "abandoned")  # awards.LetterKind, R2184-12
CONTRACT_LETTERS = ("contract", "modification", "order", "subcontract")  # R2184-13


def contracts_retain_until_many(award_ids: Iterable[int]) -> dict[int, dt.date | None]:
    """The last day the documents of the contract of each award are kept (5 years after the end of
    execution, 10 for works), or None while the contract runs (or there is none)."""
    result: dict[int, dt.date | None] = dict.fromkeys(award_ids)
    with scopes_disabled():
        rows = Contract.objects.filter(award_id__in=list(result), ended_at__isnull=False).values_list(
            "award_id", "contract_type", "ended_at"
        )
        for award_id, contract_type, ended_at in rows:
            years = WORKS_YEARS if contract_type == "works" else CONTRACT_YEARS
            result[award_id] = add_years(_local_date(ended_at), years)
    return result


def letter_retain_until(letter) -> dt.date | None:
    """The last day a letter's PDF is kept (see the module's docstring), or None (not known yet: kept)."""
    if letter.kind in CONTRACT_LETTERS:
        return contracts_retain_until_many([letter.award_id])[letter.award_id]
    return bids_retain_until_many([letter.consultation_id])[letter.consultation_id]


def _purge_letters(report: PurgeReport, today: dt.date) -> None:
    from ebourgogne.awards.models import Letter

    with scopes_disabled():
        rows = list(
            Letter.objects.exclude(storage_name="")
            .filter(consultation__is_practice=False)
            .values_list("pk", "kind", "consultation_id", "award_id")
        )
    procedure = bids_retain_until_many({row[2] for row in rows if row[1] in PROCEDURE_LETTERS})
    contract = contracts_retain_until_many({row[3] for row in rows if row[1] in CONTRACT_LETTERS})
    due: dict[int, dict[int, dt.date]] = {}  # consultation -> letter -> date
    for pk, kind, consultation_id, award_id in rows:
        until = procedure.get(consultation_id) if kind in PROCEDURE_LETTERS else contract.get(award_id)
        if until is not None and until < today:
            due.setdefault(consultation_id, {})[pk] = until
    for consultation_id in sorted(due):
        try:
            purged = _purge_consultation_letters(consultation_id, due[consultation_id], dry_run=report.dry_run)
        except Exception as error:
            logger.exception("retention purge of the letters of consultation %s failed", consultation_id)
            report.errors.append(f"letters of consultation {consultation_id}: {error}")
            continue
        if purged is not None:
            report.letters.append(purged)


def _purge_consultation_letters(consultation_id: int, dates: dict[int, dt.date], *, dry_run: bool):
    from ebourgogne.awards.models import Letter
    from ebourgogne.consultations.models import Consultation

    with scopes_disabled(), transaction.atomic():
        consultation = Consultation.objects.select_related("organisation").get(pk=consultation_id)
        letters = Letter.objects.filter(pk__in=list(dates)).exclude(storage_name="")
        if not dry_run:
            letters = letters.select_for_update()
        letters = list(letters.select_related("company").order_by("pk"))
        if not letters:
            return None
        purged = PurgedFiles(
            kind="letters",
            label=consultation.reference,
            organisation=consultation.organisation.name,
            retain_until=max(dates[letter.pk] for letter in letters),
            files=[f"{letter.subject} ({letter.company.name})" for letter in letters],
            bytes=sum(letter.size for letter in letters),
        )
        if dry_run:
            return purged
        _purge_files(
            Letter.objects.filter(pk__in=[letter.pk for letter in letters]),
            [letter.storage_name for letter in letters],
            mark={"storage_name": ""},
            organisation=consultation.organisation,
            obj=consultation,
            data={
                "reference": consultation.reference,
                "letters": len(letters),
                "bytes": purged.bytes,
                "retain_until": purged.retain_until.isoformat(),
                "uids": [str(letter.uid) for letter in letters],
            },
        )
    return purged


def minutes_retain_until_many(meeting_ids: Iterable[int]) -> dict[int, dt.date | None]:
    """The last day the minutes of each meeting are kept: the latest date of the consultations on its
    agenda (R2184-12), or None when one is unknown or the agenda names none (kept)."""
    from ebourgogne.meetings.models import AgendaItem

    result: dict[int, dt.date | None] = dict.fromkeys(meeting_ids)
    with scopes_disabled():
        pairs = list(
            AgendaItem.objects.filter(meeting_id__in=list(result), consultation__isnull=False)
            .values_list("meeting_id", "consultation_id")
            .distinct()
        )
    dates = bids_retain_until_many({consultation for _meeting, consultation in pairs})
    by_meeting: dict[int, list[dt.date | None]] = {}
    for meeting, consultation in pairs:
        by_meeting.setdefault(meeting, []).append(dates.get(consultation))
    for meeting, values in by_meeting.items():
        if values and all(value is not None for value in values):
            result[meeting] = max(values)  # type: ignore[type-var]
    return result


def _purge_minutes(report: PurgeReport, today: dt.date) -> None:
    from ebourgogne.meetings.models import Minutes

    with scopes_disabled():
        meeting_ids = list(Minutes.objects.exclude(storage_name="").values_list("meeting_id", flat=True))
    for batch in _batches(sorted(meeting_ids)):
        dates = minutes_retain_until_many(batch)
        for meeting_id in batch:
            until = dates.get(meeting_id)
            if until is None or until >= today:
                continue
            try:
                purged = _purge_meeting_minutes(meeting_id, until, dry_run=report.dry_run)
            except Exception as error:
                logger.exception("retention purge of the minutes of meeting %s failed", meeting_id)
                report.errors.append(f"minutes of meeting {meeting_id}: {error}")
                continue
            if purged is not None:
                report.minutes.append(purged)


def _purge_meeting_minutes(meeting_id: int, until: dt.date, *, dry_run: bool):
    from ebourgogne.meetings.models import Minutes

    with scopes_disabled(), transaction.atomic():
        found = Minutes.objects.filter(meeting_id=meeting_id).exclude(storage_name="")
        if not dry_run:
            found = found.select_for_update(of=("self",))
        minutes = found.select_related("meeting__organisation").first()
        if minutes is None:
            return None
        meeting = minutes.meeting
        name = minutes.storage_name
        try:
            size = default_storage.size(name)
        except (OSError, NotImplementedError):
            size = 0
        purged = PurgedFiles(
            kind="minutes",
            label=f"{meeting.title} ({_local_date(meeting.starts_at).isoformat()})",
            organisation=meeting.organisation.name,
            retain_until=until,
            files=[_("Procès-verbal de la séance")],
            bytes=size,
        )
        if dry_run:
            return purged
        _purge_files(
            Minutes.objects.filter(pk=minutes.pk),
            [name],
            mark={"storage_name": ""},
            organisation=meeting.organisation,
            obj=meeting,
            data={"minutes": 1, "sha256": minutes.sha256, "retain_until": until.isoformat()},
        )
    return purged


def describe(report: PurgeReport) -> list[str]:
    """The report as lines of text (the management command prints them)."""
    lines: list[str] = []
    for item in report.contracts:
        lines.append(
            _("Marché %(number)s (%(buyer)s), conservé jusqu'au %(day)s : %(n)s pièce(s) : %(titles)s")
            % {
                "number": item.number,
                "buyer": item.organisation,
                "day": item.retain_until.isoformat(),
                "n": len(item.documents),
                "titles": ", ".join(item.documents),
            }
        )
    for item in report.consultations:
        lines.append(
            _(
                "Consultation %(reference)s (%(buyer)s), plis conservés jusqu'au %(day)s : %(bids)s pli(s), "
                "%(files)s fichier(s) chiffré(s), %(opened)s fichier(s) déchiffré(s), %(dce)s fichier(s) du DCE"
            )
            % {
                "reference": item.reference,
                "buyer": item.organisation,
                "day": item.retain_until.isoformat(),
                "bids": item.bids,
                "files": item.files,
                "opened": item.opened_files,
                "dce": item.dce_files,
            }
        )
    for item in report.letters:
        lines.append(
            _(
                "Courriers de la consultation %(reference)s (%(buyer)s), conservés jusqu'au %(day)s : %(n)s courrier(s) : %(titles)s"
            )
            % {
                "reference": item.label,
                "buyer": item.organisation,
                "day": item.retain_until.isoformat(),
                "n": len(item.files),
                "titles": ", ".join(item.files),
            }
        )
    for item in report.minutes:
        lines.append(
            _("Procès-verbal de la séance %(meeting)s (%(buyer)s), conservé jusqu'au %(day)s")
            % {"meeting": item.label, "buyer": item.organisation, "day": item.retain_until.isoformat()}
        )
    lines.extend(report.errors)
    return lines
