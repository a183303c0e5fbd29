"""Essential data of contracts (DECP, 2024 format, schema v2.0.3): built, published append-only, exported.

The contract and execution services call the `publish_*` functions at notification; each appends one
`DecpRecord` holding the exact JSON object published, sets the source's `decp_published_at` and writes the
audit event "contracts.decp_published". Nothing is published for a contract below `models.DECP_THRESHOLD`
(40,000 € HT) nor for a practice consultation (`Consultation.is_practice`); calling a `publish_*` twice
appends nothing (the existing record is returned). A record is never rewritten: the export (`marche`,
`document`, `to_xml`) repeats the published payloads, the initial `marche` object followed by the appended
arrays `modifications`, `actesSousTraitance` and `modificationsActesSousTraitance`.

What each record holds (the schema's definitions):

- initial: the `marche` object (without the appended arrays);
- modification: the `modification` object: `id` (the modification's number, 1..), `dateNotificationModification`,
  `datePublicationDonneesModification`, `dureeMois` and `montant` (the contract's duration and amount after the
  modification: the published initial values plus every notified change up to this one), `titulaires` when
  the holder is no longer the one last published: a modification with a new holder (R2194-6,
  `Modification.new_holder_siret`) gives it, as `[{"titulaire": {"typeIdentifiant": "SIRET", "id": ...}}]`;
- subcontract: the `acteSousTraitance` object (only for an accepted act);
- subcontract change: the `modificationActeSousTraitance` object (`id` is the act's number, as the schema says).

Mapping of our fields:

| DECP | e-bourgogne |
|---|---|
| `id` | `Contract.number` (1–16 characters, unique per buyer) |
| `acheteur.id` | the buyer's SIRET |
| `nature` | always "Marché" (works, supplies and services alike; partnership and defence contracts are not made here) |
| `objet` | `Contract.object` (or the title), 1,000 characters at most |
| `codeCPV` | `Contract.cpv_code`, the 8 digits without the check digit |
| `procedure` | see the table below |
| `techniques` | `Contract.techniques`, plus "Accord-cadre" for a framework and "Concours" after a design contest |
| `modalitesExecution` | `Contract.execution_modes`, plus "Bons de commande" for a framework |
| `lieuExecution` | `place_code` / `place_code_type` (default: the buyer's department, "Code département") |
| `dureeMois`, `montant` | `duration_months`, `amount` (€ HT) |
| `formePrix`, `typesPrix`, `ccag` | `price_form`, `price_types`, `ccag` |
| `considerationsSociales` / `Environnementales` | `social_considerations` / `environmental_considerations` |
| `offresRecues` | `bids_received` (at least 1) |
| `attributionAvance`, `tauxAvance` | `has_advance`, `advance_rate` (the rate only when an advance is granted) |
| `typeGroupementOperateurs`, `sousTraitanceDeclaree` | `grouping`, `subcontracting_declared` |
| `marcheInnovant` | `innovative` |
| `titulaires` | `[{"titulaire": {"typeIdentifiant": "SIRET", "id": <holder's SIRET>}}]` |
| `dateNotification`, `datePublicationDonnees` | the notification's date, the publication's date (Europe/Paris) |

Values outside the schema's lists are left out (logged); an empty list becomes the schema's "nothing" value
("Sans objet", "Pas de considération sociale"...; "Définitif ferme" for an unset price type), so that what
is published is always valid.

Procedures (consultations `Procedure` → DECP `procedure`):

| e-bourgogne | DECP |
|---|---|
| mapa | Procédure adaptée |
| open | Appel d'offres ouvert |
| restricted | Appel d'offres restreint |
| negotiated | Procédure avec négociation |
| competitive_dialogue | Dialogue compétitif |
| negotiated_without_notice | Marché passé sans publicité ni mise en concurrence préalable |
| design_contest | Marché passé sans publicité ni mise en concurrence préalable, technique "Concours" (the contract that follows a contest is negotiated without notice with its winner, R2122-6) |

The publication deadline (`deadline`) is two months after the notification (end of month clamped: a
contract notified on 31 December is due on the last day of February).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import xml.etree.ElementTree as ET  # noqa: S405 - building XML only, never parsing
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.contracts.models import (
    DECP_THRESHOLD,
    ChangeState,
    Contract,
    DecpKind,
    DecpRecord,
    Modification,
    Subcontract,
    SubcontractChange,
    SubcontractState,
)
from ebourgogne.core import clock

logger = logging.getLogger("ebourgogne.contracts.decp")

SCHEMA_VERSION = "2.0.3"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas" / "decp"
JSON_SCHEMA = SCHEMA_DIR / "schema_decp_v2.0.3.json"
XML_SCHEMA = SCHEMA_DIR / "schema_decp_v2.0.2.xsd"

PROCEDURES = {
    "mapa": "Procédure adaptée",
    "open": "Appel d'offres ouvert",
    "restricted": "Appel d'offres restreint",
    "negotiated": "Procédure avec négociation",
    "competitive_dialogue": "Dialogue compétitif",
    "negotiated_without_notice": "Marché passé sans publicité ni mise en concurrence préalable",
    "design_contest": "Marché passé sans publicité ni mise en concurrence préalable",
}
TECHNIQUES = (
    "Accord-cadre",
    "Concours",
    "Système de qualification",
    "Système d'acquisition dynamique",
    "Catalogue électronique",
    "Enchère électronique",
)
EXECUTION_MODES = ("Tranches", "Bons de commande", "Marchés subséquents")
PRICE_TYPES = ("Définitif ferme", "Définitif actualisable", "Définitif révisable", "Provisoire")
SOCIAL = ("Clause sociale", "Critère social", "Marché réservé")
ENVIRONMENTAL = ("Clause environnementale", "Critère environnemental")
PLACE_CODE_TYPES = (
    "Code postal",
    "Code commune",
    "Code arrondissement",
    "Code canton",
    "Code département",
    "Code région",
    "Code pays",
)
NOTHING = "Sans objet"
NO_SOCIAL = "Pas de considération sociale"
NO_ENVIRONMENTAL = "Pas de considération environnementale"
DEFAULT_PRICE_TYPE = "Définitif ferme"

# The buyer's identifier (`acheteur.id`): a SIRET of 14 digits, the schema's pattern.
SIRET_RE = re.compile(r"^[0-9]{14}$")

# XML element names that differ from the JSON keys (the XSD 2.0.2 spelling).
XML_NAMES = {"modificationActeSousTraitance": "modificationActesSousTraitance"}


# --- Small conversions -----------------------------------------------------------------------------------


def _local_date(moment: dt.datetime) -> str:
    return timezone.localtime(moment, clock.PARIS).date().isoformat()


def _number(value: Any) -> int | float:
    """A JSON number: an integer when the amount has no cents."""
    amount = Decimal(str(value))
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _kept(values: Any, allowed: Iterable[str], field: str, contract: Contract) -> list[str]:
    allowed = tuple(allowed)
    kept: list[str] = []
    for value in values or []:
        if value in allowed and value not in kept:
            kept.append(value)
        elif value not in allowed and value not in {NOTHING, NO_SOCIAL, NO_ENVIRONMENTAL}:
            logger.warning("DECP: %s value %r of contract %s is not in the schema: left out", field, value, contract.pk)
    return kept


def _cpv(code: str) -> str:
    digits = "".join(character for character in (code or "") if character.isdigit())
    return digits[:8].ljust(8, "0")


def _holders(contract: Contract) -> list[dict[str, Any]]:
    holder = contract.holder
    return [{"titulaire": {"typeIdentifiant": "SIRET", "id": holder.siret or holder.siren}}]


def _place(contract: Contract) -> dict[str, str]:
    if contract.place_code:
        kind = contract.place_code_type if contract.place_code_type in PLACE_CODE_TYPES else "Code département"
        return {"code": contract.place_code, "typeCode": kind}
    department = contract.organisation.department
    if department:
        return {"code": department, "typeCode": "Code département"}
    return {"code": "FR", "typeCode": "Code pays"}


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def _is_practice(contract: Contract) -> bool:
    return bool(contract.consultation.is_practice)


def valid_siret(value: str | None) -> bool:
    return bool(SIRET_RE.match(value or ""))


def buyer_ready(contract: Contract) -> bool:
    """The buyer has the SIRET that identifies it in the essential data (`acheteur.id`, 14 digits). Without
    it nothing is published (a record would be invalid): the data stay due, shown to the buyer with what to
    fill in, and are published once the SIRET is set (the daily job, or "publish now")."""
    return valid_siret(contract.organisation.siret)


def publishable(contract: Contract) -> bool:
    """The contract's essential data must be published: from the threshold, never for a practice consultation."""
    return contract.amount >= DECP_THRESHOLD and not _is_practice(contract)


# --- The payloads ------------------------------------------------------------------------------------------


def initial_payload(contract: Contract, *, now: dt.datetime) -> dict[str, Any]:
    """The `marche` object of a notified contract, as published at `now` (without the appended arrays)."""
    techniques = _kept(contract.techniques, TECHNIQUES, "technique", contract)
    modes = _kept(contract.execution_modes, EXECUTION_MODES, "modaliteExecution", contract)
    if contract.is_framework:
        techniques = list(dict.fromkeys([*techniques, "Accord-cadre"]))
        modes = list(dict.fromkeys([*modes, "Bons de commande"]))
    if contract.procedure == "design_contest":
        techniques = list(dict.fromkeys([*techniques, "Concours"]))
    payload: dict[str, Any] = {
        "id": contract.number,
        "acheteur": {"id": contract.organisation.siret},
        "nature": "Marché",
        "objet": (contract.object or contract.title)[:1000],
        "codeCPV": _cpv(contract.cpv_code),
        "procedure": PROCEDURES.get(contract.procedure, "Procédure adaptée"),
        "techniques": {"technique": techniques or [NOTHING]},
        "modalitesExecution": {"modaliteExecution": modes or [NOTHING]},
        "lieuExecution": _place(contract),
        "dureeMois": max(1, contract.duration_months),
        "dateNotification": _local_date(contract.notified_at),
        "datePublicationDonnees": _local_date(now),
        "montant": _number(contract.amount),
        "formePrix": contract.price_form,
        "typesPrix": {
            "typePrix": _kept(contract.price_types, PRICE_TYPES, "typePrix", contract) or [DEFAULT_PRICE_TYPE]
        },
        "ccag": contract.ccag,
        "offresRecues": max(1, contract.bids_received),
        "marcheInnovant": bool(contract.innovative),
        "attributionAvance": bool(contract.has_advance),
        "typeGroupementOperateurs": contract.grouping,
        "sousTraitanceDeclaree": bool(contract.subcontracting_declared),
        "titulaires": _holders(contract),
        "considerationsSociales": {
            "considerationSociale": _kept(contract.social_considerations, SOCIAL, "considerationSociale", contract)
            or [NO_SOCIAL]
        },
        "considerationsEnvironnementales": {
            "considerationEnvironnementale": _kept(
                contract.environmental_considerations, ENVIRONMENTAL, "considerationEnvironnementale", contract
            )
            or [NO_ENVIRONMENTAL]
        },
    }
    if contract.has_advance:
        payload["tauxAvance"] = _number(min(max(contract.advance_rate, Decimal(0)), Decimal(1)))
    return payload


def _published_holders(records: list[DecpRecord]) -> list[dict[str, Any]]:
    holders: list[dict[str, Any]] = []
    for record in records:
        if record.kind in {DecpKind.INITIAL, DecpKind.MODIFICATION} and record.payload.get("titulaires"):
            holders = record.payload["titulaires"]
    return holders


def modification_payload(
    modification: Modification, initial: DecpRecord, earlier: list[Modification], records: list[DecpRecord], *, now
) -> dict[str, Any]:
    contract = modification.contract
    changes = [*earlier, modification]
    amount = Decimal(str(initial.payload["montant"])) + sum((item.amount_change for item in changes), Decimal(0))
    months = int(initial.payload["dureeMois"]) + sum(item.duration_change_months for item in changes)
    payload: dict[str, Any] = {
        "id": modification.number,
        "dateNotificationModification": _local_date(modification.notified_at),
        "datePublicationDonneesModification": _local_date(now),
        "dureeMois": max(1, months),
        "montant": _number(max(amount, Decimal(1))),
    }
    if modification.new_holder_siret:  # a new holder (R2194-6): who holds the contract from now on
        holders = [{"titulaire": {"typeIdentifiant": "SIRET", "id": modification.new_holder_siret}}]
    elif any(item.new_holder_siret for item in earlier):
        holders = _published_holders(records)  # unchanged since the last new holder
    else:
        holders = _holders(contract)
    if holders != _published_holders(records):
        payload["titulaires"] = holders
    return payload


def subcontract_payload(subcontract: Subcontract, *, now: dt.datetime) -> dict[str, Any]:
    notified = subcontract.notified_at or subcontract.decided_at or now
    return {
        "id": subcontract.number,
        "sousTraitant": {"typeIdentifiant": "SIRET", "id": subcontract.subcontractor_siret},
        "dureeMois": max(1, subcontract.duration_months),
        "dateNotification": _local_date(notified),
        "datePublicationDonnees": _local_date(now),
        "montant": _number(max(subcontract.amount, Decimal(1))),
        "variationPrix": subcontract.price_variation,
    }


def subcontract_change_payload(change: SubcontractChange, *, now: dt.datetime) -> dict[str, Any]:
    notified = change.notified_at or now
    return {
        "id": change.subcontract.number,
        "dureeMois": max(1, change.new_duration_months),
        "dateNotificationModificationSousTraitance": _local_date(notified),
        "montant": _number(max(change.new_amount, Decimal(1))),
        "datePublicationDonnees": _local_date(now),
    }


# --- Publishing (append-only) -------------------------------------------------------------------------------


def _append(contract: Contract, kind: str, source: Any, payload: dict[str, Any], *, now: dt.datetime) -> DecpRecord:
    """Append one record (or return the one already there), stamp the source, write the audit event."""
    source_id = None if kind == DecpKind.INITIAL else source.pk
    existing = DecpRecord.objects.filter(contract=contract, kind=kind, source_id=source_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            record = DecpRecord.objects.create(
                contract=contract, kind=kind, source_id=source_id, payload=payload, published_at=now
            )
    except IntegrityError:  # published by a concurrent call meanwhile
        return DecpRecord.objects.get(contract=contract, kind=kind, source_id=source_id)
    source.decp_published_at = now
    source.save(update_fields=["decp_published_at"])
    log_event(
        action="contracts.decp_published",
        actor=None,
        organisation=contract.organisation,
        obj=contract,
        data={"number": contract.number, "kind": str(kind), "source_id": source_id, "schema": SCHEMA_VERSION},
    )
    return record


def _initial_record(contract: Contract) -> DecpRecord | None:
    return DecpRecord.objects.filter(contract=contract, kind=DecpKind.INITIAL).first()


def publish_initial(contract: Contract, *, now: dt.datetime | None = None) -> DecpRecord | None:
    """Publish the initial essential data of a notified contract (None: not notified, below the threshold,
    practice consultation, the buyer has no valid SIRET: see `buyer_ready`). Calling it again returns the record
    already published and appends nothing."""
    if contract.notified_at is None or not publishable(contract):
        return None
    moment = now or clock.now()
    with scopes_disabled(), transaction.atomic():
        existing = _initial_record(contract)
        if existing is not None:
            return existing
        if not buyer_ready(contract):
            logger.warning("DECP: contract %s not published: its buyer has no valid SIRET", contract.pk)
            return None
        return _append(contract, DecpKind.INITIAL, contract, initial_payload(contract, now=moment), now=moment)


def publish_modification(modification: Any, *, now: dt.datetime | None = None) -> DecpRecord | None:
    """Append a notified modification to its contract's essential data (the initial data are published first
    if they were not). None: the modification is not notified, or the contract is not published."""
    if modification.notified_at is None:
        return None
    contract = modification.contract
    moment = now or clock.now()
    with scopes_disabled(), transaction.atomic():
        initial = publish_initial(contract, now=moment)
        if initial is None:
            return None
        existing = DecpRecord.objects.filter(
            contract=contract, kind=DecpKind.MODIFICATION, source_id=modification.pk
        ).first()
        if existing is not None:
            return existing
        earlier = list(
            Modification.objects.filter(contract=contract, number__lt=modification.number)
            .filter(notified_at__isnull=False)
            .exclude(state=ChangeState.DRAFT)
        )
        records = list(contract.decp_records.order_by("published_at", "id"))
        payload = modification_payload(modification, initial, earlier, records, now=moment)
        return _append(contract, DecpKind.MODIFICATION, modification, payload, now=moment)


def publish_subcontract(subcontract: Any, *, now: dt.datetime | None = None) -> DecpRecord | None:
    """Append an accepted subcontracting act (None: not accepted, or the contract is not published)."""
    if subcontract.state != SubcontractState.ACCEPTED:
        return None
    contract = subcontract.contract
    moment = now or clock.now()
    with scopes_disabled(), transaction.atomic():
        if publish_initial(contract, now=moment) is None:
            return None
        return _append(
            contract, DecpKind.SUBCONTRACT, subcontract, subcontract_payload(subcontract, now=moment), now=moment
        )


def publish_subcontract_change(change: Any, *, now: dt.datetime | None = None) -> DecpRecord | None:
    """Append a change of a subcontracting act (its act is published first if it was not). None: the act is
    not accepted, or the contract is not published."""
    subcontract = change.subcontract
    contract = subcontract.contract
    moment = now or clock.now()
    with scopes_disabled(), transaction.atomic():
        if publish_subcontract(subcontract, now=moment) is None:
            return None
        return _append(
            contract, DecpKind.SUBCONTRACT_CHANGE, change, subcontract_change_payload(change, now=moment), now=moment
        )


# --- Deadline and status -----------------------------------------------------------------------------------


def deadline(contract: Contract) -> dt.date | None:
    """The last day to publish the essential data: notification + 2 months (None: not notified or below
    the threshold)."""
    if contract.notified_at is None or not publishable(contract):
        return None
    return _add_months(timezone.localtime(contract.notified_at, clock.PARIS).date(), 2)


@dataclass(frozen=True)
class Status:
    """What the buyer sees: `state` is not_required, not_notified, due, late or published."""

    state: str
    deadline: dt.date | None = None
    published_at: dt.datetime | None = None
    # due or late, and nothing can be published until the buyer sets its SIRET (see `buyer_ready`)
    buyer_siret_missing: bool = False

    @property
    def published_late(self) -> bool:
        return bool(
            self.published_at
            and self.deadline
            and timezone.localtime(self.published_at, clock.PARIS).date() > self.deadline
        )


def status(contract: Contract, *, today: dt.date | None = None) -> Status:
    if not publishable(contract):
        return Status("not_required")
    if contract.notified_at is None:
        return Status("not_notified")
    last_day = deadline(contract)
    if contract.decp_published_at is not None:
        return Status("published", last_day, contract.decp_published_at)
    missing = not buyer_ready(contract)
    if (today or clock.today_local()) > last_day:
        return Status("late", last_day, buyer_siret_missing=missing)
    return Status("due", last_day, buyer_siret_missing=missing)


def publish_missing(contract: Contract, *, now: dt.datetime | None = None) -> list[DecpRecord]:
    """Publish what is still missing of a notified contract: its initial data, then its notified
    modifications, accepted subcontracting acts and their changes, in that order (appends only). Empty when
    nothing can be published (not notified, not required, the buyer has no valid SIRET)."""
    moment = now or clock.now()
    with scopes_disabled(), transaction.atomic():
        initial = publish_initial(contract, now=moment)
        if initial is None:
            return []
        modifications = Modification.objects.filter(
            contract=contract, state=ChangeState.NOTIFIED, decp_published_at__isnull=True
        ).order_by("number")
        subcontracts = Subcontract.objects.filter(
            contract=contract, notified_at__isnull=False, decp_published_at__isnull=True
        ).order_by("number")
        changes = SubcontractChange.objects.filter(
            subcontract__contract=contract, notified_at__isnull=False, decp_published_at__isnull=True
        ).order_by("subcontract__number", "number")
        records = [initial]
        records += [publish_modification(item, now=moment) for item in modifications]
        records += [publish_subcontract(item, now=moment) for item in subcontracts]
        records += [publish_subcontract_change(item, now=moment) for item in changes]
    return [record for record in records if record is not None]


def publish_pending(*, now: dt.datetime | None = None) -> list[int]:
    """The daily catch-up: publish the contracts whose data are due although their buyer now has a valid
    SIRET (kept due while it was missing). The ids of the contracts published."""
    moment = now or clock.now()
    with scopes_disabled():
        candidates = list(
            Contract.objects.filter(
                amount__gte=DECP_THRESHOLD,
                notified_at__isnull=False,
                decp_published_at__isnull=True,
                consultation__is_practice=False,
                organisation__siret__regex=r"^[0-9]{14}$",
            )
            .select_related("organisation", "consultation", "holder")
            .order_by("pk")
        )
    published = []
    for contract in candidates:
        try:
            if publish_missing(contract, now=moment):
                published.append(contract.pk)
        except Exception:  # one contract's failure never stops the others
            logger.exception("DECP: publishing contract %s failed", contract.pk)
    return published


# --- Export --------------------------------------------------------------------------------------------------

_ARRAYS = (
    (DecpKind.MODIFICATION, "modifications", "modification"),
    (DecpKind.SUBCONTRACT, "actesSousTraitance", "acteSousTraitance"),
    (DecpKind.SUBCONTRACT_CHANGE, "modificationsActesSousTraitance", "modificationActeSousTraitance"),
)


def marche(contract: Contract | None, records: Iterable[DecpRecord]) -> dict[str, Any] | None:
    """The contract's `marche` object as exported now: the initial payload followed by the appended arrays,
    each payload repeated as published (None when the initial data are not published). The nested objects are
    the records' own (no copy, for speed): serialise the result, never change it."""
    ordered = sorted(records, key=lambda record: (record.published_at, record.pk or 0))
    initial = next((record for record in ordered if record.kind == DecpKind.INITIAL), None)
    if initial is None:
        return None
    result = dict(initial.payload)
    for kind, array, item in _ARRAYS:
        items = [{item: record.payload} for record in ordered if record.kind == kind]
        if items:
            result[array] = items
    return result


def marches(records: Iterable[DecpRecord]) -> list[dict[str, Any]]:
    """The `marche` objects of records of several contracts, in the order of their contracts' first record."""
    grouped: dict[int, list[DecpRecord]] = defaultdict(list)
    for record in records:
        grouped[record.contract_id].append(record)
    built = (marche(None, items) for items in grouped.values())
    return [item for item in built if item is not None and _buyer_valid(item)]


def _buyer_valid(item: dict[str, Any]) -> bool:
    """A record published before the buyer's SIRET was checked may carry an invalid `acheteur.id`: it is
    left out of the files and the API (logged), never exported invalid."""
    if valid_siret(str(item.get("acheteur", {}).get("id") or "")):
        return True
    logger.warning("DECP: contract %s left out of the export: invalid acheteur.id", item.get("id"))
    return False


def document(contracts: Iterable[Contract]) -> dict[str, Any]:
    """The schema's root form for `contracts` (prefetch their `decp_records`): {"marches": {"marche": [...]}}."""
    items = (marche(contract, contract.decp_records.all()) for contract in contracts)
    return wrap([item for item in items if item is not None and _buyer_valid(item)])


def wrap(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"marches": {"marche": items}}


def to_json(document_: dict[str, Any]) -> bytes:
    return json.dumps(document_, ensure_ascii=False, separators=(",", ":")).encode()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def _emit(parent: ET.Element, key: str, value: Any) -> None:
    name = XML_NAMES.get(key, key)
    if isinstance(value, dict):
        element = ET.SubElement(parent, name)
        for child_key, child in value.items():
            _emit(element, child_key, child)
    elif isinstance(value, list):
        if all(isinstance(item, dict) and len(item) == 1 for item in value):
            # The JSON wrapper form [{"titulaire": {...}}, ...] is one XML container of repeated elements.
            container = ET.SubElement(parent, name)
            for item in value:
                for child_key, child in item.items():
                    _emit(container, child_key, child)
        else:  # a list of plain values: the element repeated in its parent
            for item in value:
                _emit(parent, key, item)
    elif value is not None:
        ET.SubElement(parent, name).text = _text(value)


def to_xml(document_: dict[str, Any]) -> bytes:
    """The XML of a root-form document, per the XSD 2.0.2: <marches><marche>...</marche>...</marches>."""
    root = ET.Element("marches")
    for item in document_.get("marches", {}).get("marche", []):
        element = ET.SubElement(root, "marche")
        for key, value in item.items():
            _emit(element, key, value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# --- Validation against the copied schemas (tests, checks) --------------------------------------------------


@functools.cache
def _json_validator():
    import jsonschema  # development dependency: imported when validating only

    return jsonschema.Draft7Validator(json.loads(JSON_SCHEMA.read_text(encoding="utf-8")))


@functools.cache
def _xml_schema():
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(XML_SCHEMA)))


def json_errors(document_: dict[str, Any]) -> list[str]:
    """The schema v2.0.3 errors of a root-form document (empty: valid)."""
    return [
        f"{'/'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in _json_validator().iter_errors(document_)
    ]


def xml_errors(xml: bytes) -> list[str]:
    """The XSD 2.0.2 errors of an XML export (empty: valid)."""
    from lxml import etree

    schema = _xml_schema()
    tree = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    if schema.validate(tree):
        return []
    return [f"{error.line}: {error.message}" for error in schema.error_log]
