"""OCDS 1.1 `award` and `contract` stages of a consultation's release (see consultations/ocds.py).

What is published, and when (only what is public anyway: the award notice, the DECP):

- Nothing before the consultation's outcome is recorded (state awarded, unsuccessful or abandoned, i.e.
  every lot decided: the public page shows the outcomes from then on), nothing of the practice
  consultation.
- `awards`: one per `awards.Award` (the consultation without lots, or one per lot, `relatedLots`), id
  `attribution-<pk>`. Status `active` for an awarded lot once the letters are sent (the bidders learn
  the winner first, as on the public page), `pending` before, and then without supplier nor value;
  `unsuccessful` for infructueux; `cancelled` for sans suite. `date` is the decision, `description`
  the outcome and its reason, `value` the winning offer's price (€ HT), `suppliers` the winner as a
  party with role `supplier` (same id scheme as the buyer: `FR-RCS-<siret>`). Never another bidder's
  price, mark or name. The award notice is the public consultation page (`documents`, `awardNotice`).
- `contracts`: one per `contracts.Contract` once notified (preparing and signed contracts are not in
  force yet: not published, like the DECP), id = the buyer's contract number (the DECP `id`), status
  `active` when notified, `terminated` when ended or terminated (résilié, the reason is not published).
  `value` is the current amount (initial + notified modifications), `period` from the start of
  execution for the initial duration plus the notified changes (the actual end once ended),
  `amendments` one per notified modification (`modification-<number>`: date of notification,
  rationale = its object, description = legal ground and changes), `documents` the signed acte
  d'engagement (`contractSigned`) without URL: contract documents are not published online.
- Tags: `award` when awards are present, `contract` when contracts are, `contractAmendment` with a
  notified modification, `contractTermination` with an ended or terminated contract.

Everything is read in bulk by `outcomes_of` (at most three queries for any number of consultations,
none when none of them is decided). `outcome_changed_since(since)` finds the consultations whose award or
contract stage changed since a moment (for an `updated_since` filter).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ebourgogne.consultations.models import Consultation, State

DECIDED_STATES = frozenset({State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED})
PUBLISHED_CONTRACT_STATES = frozenset({"notified", "ended", "terminated"})
ENDED_CONTRACT_STATES = frozenset({"ended", "terminated"})
AWARD_STATUS = {"awarded": "active", "unsuccessful": "unsuccessful", "abandoned": "cancelled"}
LOT_STATUS = {"awarded": "complete", "unsuccessful": "unsuccessful", "abandoned": "cancelled"}


@dataclass
class Outcomes:
    """The decided awards, their published contracts, notified modifications and signed actes d'engagement."""

    awards: dict[int, list[Any]] = field(default_factory=dict)  # consultation id → awards
    modifications: dict[int, list[Any]] = field(default_factory=dict)  # contract id → notified modifications
    engagements: dict[int, Any] = field(default_factory=dict)  # contract id → its signed acte d'engagement


def publishes_outcome(consultation: Consultation) -> bool:
    return consultation.state in DECIDED_STATES and not consultation.is_practice


def published_contract(award: Any) -> Any | None:
    """The award's contract if it is notified (or ended), else None (read by `outcomes_of`'s join)."""
    try:
        contract = award.contract
    except ObjectDoesNotExist:  # no contract yet (the join found none: no query)
        return None
    return contract if contract is not None and contract.state in PUBLISHED_CONTRACT_STATES else None


def outcomes_of(consultations: list[Consultation]) -> Outcomes:
    from ebourgogne.awards.models import Award
    from ebourgogne.contracts.models import ChangeState, ContractDocument, DocumentKind, Modification

    ids = [consultation.pk for consultation in consultations if publishes_outcome(consultation)]
    outcomes = Outcomes()
    if not ids:
        return outcomes
    grouped: dict[int, list[Any]] = defaultdict(list)
    for award in (
        Award.objects.filter(evaluation__consultation_id__in=ids)
        .select_related("evaluation__lot", "winner__bid__company", "contract")
        .order_by("evaluation__lot__number", "pk")
    ):
        grouped[award.evaluation.consultation_id].append(award)
    outcomes.awards = dict(grouped)
    contract_ids = [
        contract.pk
        for awards in grouped.values()
        for award in awards
        if (contract := published_contract(award)) is not None
    ]
    if not contract_ids:
        return outcomes
    modifications: dict[int, list[Any]] = defaultdict(list)
    for modification in Modification.objects.filter(
        contract_id__in=contract_ids, state=ChangeState.NOTIFIED, notified_at__isnull=False
    ).order_by("contract_id", "number"):
        modifications[modification.contract_id].append(modification)
    outcomes.modifications = dict(modifications)
    for document in ContractDocument.objects.filter(
        contract_id__in=contract_ids,
        kind=DocumentKind.CONTRACT,
        buyer_signed_at__isnull=False,
        holder_signed_at__isnull=False,
    ).order_by("contract_id", "created_at", "pk"):
        outcomes.engagements[document.contract_id] = document  # the latest signed one wins
    return outcomes


def outcome_changed_since(since: dt.datetime) -> Q:
    """Consultations whose award or contract stage changed at or after `since` (an award decided or its
    letters sent, a contract notified or ended, a modification notified): to be OR-ed with the tender's
    own changes in an `updated_since` filter, so that a client polling the OCDS feed sees them. Build the
    queryset inside `scopes_disabled()`."""
    from ebourgogne.awards.models import Award
    from ebourgogne.contracts.models import ChangeState, Contract, Modification

    decided = Q(state__in=DECIDED_STATES, is_practice=False)
    return decided & (
        Exists(
            Award.objects.filter(evaluation__consultation=OuterRef("pk")).filter(
                Q(decided_at__gte=since) | Q(letters_sent_at__gte=since)
            )
        )
        | Exists(
            Contract.objects.filter(consultation=OuterRef("pk"), state__in=PUBLISHED_CONTRACT_STATES).filter(
                Q(notified_at__gte=since) | Q(ended_at__gte=since)
            )
        )
        | Exists(
            Modification.objects.filter(
                contract__consultation=OuterRef("pk"),
                contract__state__in=PUBLISHED_CONTRACT_STATES,
                state=ChangeState.NOTIFIED,
                notified_at__gte=since,
            )
        )
    )


# --- Helpers ----------------------------------------------------------------------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _at(day: dt.date, moment: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, moment), timezone.get_default_timezone())


def _euros(value: Decimal) -> str:
    """+12 000,00 € HT (French format, sign always shown)."""
    text = f"{value:+,.2f}".replace(",", " ").replace(".", ",")
    return f"{text} € HT"


def _day(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


@dataclass
class Stage:
    """The award and contract parts of one release."""

    awards: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    suppliers: list[dict[str, Any]] = field(default_factory=list)  # parties
    tags: list[str] = field(default_factory=list)
    lot_status: dict[int, str] = field(default_factory=dict)  # lot number → OCDS lot status
    moments: list[dt.datetime | None] = field(default_factory=list)


def stage_of(
    consultation: Consultation,
    outcomes: Outcomes,
    *,
    party_id: Any,
    date: Any,
    absolute: Any,
) -> Stage:
    """The awards and contracts of `consultation` (`party_id`, `date`, `absolute`: consultations.ocds's own
    helpers, given to keep one identifier scheme and one date format)."""
    stage = Stage()
    if not publishes_outcome(consultation):
        return stage
    suppliers: dict[str, dict[str, Any]] = {}
    for award in outcomes.awards.get(consultation.pk, []):
        lot = award.evaluation.lot
        public_winner = award.outcome == "awarded" and award.winner is not None and award.letters_sent_at is not None
        status = AWARD_STATUS[award.outcome]
        if award.outcome == "awarded" and not public_winner:
            status = "pending"
        if lot is not None:
            stage.lot_status[lot.number] = LOT_STATUS[award.outcome]
        item: dict[str, Any] = {
            "id": f"attribution-{award.pk}",
            "title": f"Lot {lot.number} : {lot.title}" if lot is not None else consultation.title,
            "description": f"{award.get_outcome_display()} : {award.reason}"
            if award.reason
            else str(award.get_outcome_display()),
            "status": status,
            "date": date(award.decided_at),
            "relatedLots": [str(lot.number)] if lot is not None else None,
            "documents": [
                {
                    "id": f"avis-attribution-{award.pk}",
                    "documentType": "awardNotice",
                    "title": f"Avis d'attribution : {consultation.title}",
                    "url": absolute(f"/consultations/{consultation.pk}/"),
                    "format": "text/html",
                    "language": "fr",
                    "datePublished": date(award.decided_at),
                    "dateModified": date(award.letters_sent_at) if public_winner else None,
                }
            ],
        }
        stage.moments += [award.decided_at, award.letters_sent_at]
        if public_winner:
            company = award.winner.bid.company
            reference = {"id": party_id(company), "name": company.name}
            item["value"] = (
                None if award.winner.price is None else {"amount": float(award.winner.price), "currency": "EUR"}
            )
            item["suppliers"] = [reference]
            suppliers.setdefault(
                reference["id"],
                {
                    **reference,
                    "identifier": {
                        "scheme": "FR-RCS" if company.siret else None,
                        "id": company.siret or None,
                        "legalName": company.name,
                    },
                    "roles": ["supplier"],
                },
            )
            contract = published_contract(award)
            if contract is not None:
                stage.contracts.append(_contract(contract, item["id"], outcomes, date=date, moments=stage.moments))
        stage.awards.append(item)
    stage.suppliers = list(suppliers.values())
    if stage.awards:
        stage.tags.append("award")
    if stage.contracts:
        stage.tags.append("contract")
    if any(contract.get("amendments") for contract in stage.contracts):
        stage.tags.append("contractAmendment")
    if any(contract["status"] == "terminated" for contract in stage.contracts):
        stage.tags.append("contractTermination")
    return stage


def _contract(contract: Any, award_id: str, outcomes: Outcomes, *, date: Any, moments: list) -> dict[str, Any]:
    modifications = outcomes.modifications.get(contract.pk, [])
    amount = contract.amount + sum((modification.amount_change for modification in modifications), Decimal(0))
    months = contract.duration_months + sum(modification.duration_change_months for modification in modifications)
    start = contract.starts_on or timezone.localdate(contract.notified_at)
    ended = contract.state in ENDED_CONTRACT_STATES
    if ended and contract.ended_at is not None:
        end = date(contract.ended_at)
    else:
        end = date(_at(_add_months(start, months) - dt.timedelta(days=1), dt.time(23, 59, 59)))
    description = contract.object
    if ended and contract.ended_at is not None:
        closing = "Marché résilié le" if contract.state == "terminated" else "Exécution terminée le"
        description = f"{description}\n{closing} {_day(timezone.localdate(contract.ended_at))}."
    moments += [contract.notified_at, contract.ended_at]
    moments += [modification.notified_at for modification in modifications]
    engagement = outcomes.engagements.get(contract.pk)
    return {
        "id": contract.number,
        "awardID": award_id,
        "title": contract.title,
        "description": description,
        "status": "terminated" if ended else "active",
        "period": {"startDate": date(_at(start, dt.time(0))), "endDate": end},
        "value": {"amount": float(amount), "currency": "EUR"},
        "dateSigned": date(contract.signed_at),
        "documents": [
            {
                # Contract documents are not published online: described, without URL.
                "id": f"acte-engagement-{engagement.pk}",
                "documentType": "contractSigned",
                "title": "Acte d'engagement signé",
                "description": "Signé électroniquement par l'acheteur et le titulaire ; non publié en ligne.",
                "format": "application/pdf",
                "language": "fr",
                "datePublished": date(contract.notified_at),
            }
        ]
        if engagement is not None
        else [],
        "amendments": [
            {
                "id": f"modification-{modification.number}",
                "date": date(modification.notified_at),
                "rationale": modification.object,
                "description": _amendment_description(modification),
            }
            for modification in modifications
        ],
    }


def _amendment_description(modification: Any) -> str:
    parts = [f"Modification n° {modification.number} — {modification.get_legal_ground_display()}"]
    if modification.amount_change:
        parts.append(f"montant : {_euros(modification.amount_change)}")
    if modification.duration_change_months:
        parts.append(f"durée : {modification.duration_change_months:+d} mois")
    parts.append(f"prend effet le {_day(modification.effective_on)}")
    return " ; ".join(parts)
