"""Reads of evaluations, awards and letters, always scoped to the caller's tenant.

Buyer side: `consultation_of(organisation, pk)` (the buyer's own, opened or later), then
`evaluation_view(evaluation)` computes criteria, marks, totals, ranking and the abnormally-low flags
from the rows (`awards.rules` holds the formulas). Company side: `letters_of(company)`,
`letter_of(company, pk)`, `document_requests_of(company)`: a company only ever reads its own.
Public side: `public_outcomes(consultation)` for the public consultation page (per lot outcome, reason,
winner's name once the letters are sent).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.awards import rules
from ebourgogne.awards.models import (
    Admission,
    AdmissionDecision,
    Award,
    Criterion,
    CriterionKind,
    DocumentRequest,
    Evaluation,
    Letter,
    LowOutcome,
    Offer,
    Score,
)
from ebourgogne.consultations.models import Consultation, State
from ebourgogne.tenders.models import Bid
from ebourgogne.tenders.opening import bid_situation

# States in which the award pages exist.
AWARD_STATES = frozenset({State.OPENED, State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED})


def consultation_of(*, organisation: Any, pk: int) -> Consultation | None:
    """The buyer's consultation `pk` once its bids are opened (None otherwise: the page does not exist)."""
    with scopes_disabled():
        return (
            Consultation.objects.filter(organisation=organisation, pk=pk, state__in=AWARD_STATES)
            .select_related("organisation")
            .first()
        )


def evaluations_of(consultation: Consultation) -> list[Evaluation]:
    with scopes_disabled():
        return list(
            Evaluation.objects.filter(consultation=consultation).select_related("lot").order_by("lot__number", "id")
        )


def evaluation_of(consultation: Consultation, pk: int) -> Evaluation | None:
    with scopes_disabled():
        return Evaluation.objects.filter(consultation=consultation, pk=pk).select_related("lot", "consultation").first()


def opened_bids(consultation: Consultation) -> list[Bid]:
    """The bids opened in time (the last in-time deposit of each company, or its opened backup copy):
    the only ones that can be admitted, scored and awarded."""
    situation = bid_situation(consultation)
    opened = [bid for bid in situation.to_open + situation.backups if bid.opened_at is not None and not bid.is_late]
    return sorted(opened, key=lambda bid: (bid.number or 0, bid.pk))


def late_bids(consultation: Consultation) -> list[Bid]:
    return bid_situation(consultation).late


def bid_in_evaluation(bid: Bid, evaluation: Evaluation) -> bool:
    """A bid concerns a lot when it names it, or names no lot at all (then it covers every lot)."""
    if evaluation.lot_id is None:
        return True
    with scopes_disabled():
        lot_ids = set(bid.lots.values_list("pk", flat=True))
    return not lot_ids or evaluation.lot_id in lot_ids


def admissions_of(consultation: Consultation) -> dict[int, Admission]:
    with scopes_disabled():
        return {row.bid_id: row for row in Admission.objects.filter(consultation=consultation)}


def criteria_tree(evaluation: Evaluation) -> list[tuple[Criterion, list[Criterion]]]:
    with scopes_disabled():
        rows = list(Criterion.objects.filter(evaluation=evaluation))
    children: dict[int, list[Criterion]] = defaultdict(list)
    for row in rows:
        if row.parent_id:
            children[row.parent_id].append(row)
    return [(row, children.get(row.pk, [])) for row in rows if row.parent_id is None]


def leaves_of(tree: list[tuple[Criterion, list[Criterion]]]) -> list[Criterion]:
    leaves: list[Criterion] = []
    for parent, children in tree:
        leaves.extend(children or [parent])
    return leaves


@dataclass
class OfferRow:
    offer: Offer
    company_name: str
    marks: dict[int, Decimal | None]
    by_evaluator: dict[int, dict[int, Decimal]]  # criterion id -> evaluator id -> mark
    total: Decimal | None
    rank: int | None
    low_flag: Decimal | None  # the mean of the others' prices when flagged
    excluded: bool  # rejected as abnormally low


@dataclass
class EvaluationView:
    evaluation: Evaluation
    tree: list[tuple[Criterion, list[Criterion]]]
    leaves: list[Criterion]
    rows: list[OfferRow] = field(default_factory=list)  # ranked first, then incomplete, then excluded
    evaluators: list[Any] = field(default_factory=list)
    award: Award | None = None

    @property
    def has_criteria(self) -> bool:
        return bool(self.tree)

    @property
    def ranked(self) -> list[OfferRow]:
        return [row for row in self.rows if row.rank is not None]

    @property
    def complete(self) -> bool:
        """Every offer still in the ranking has a total."""
        active = [row for row in self.rows if not row.excluded]
        return bool(active) and all(row.total is not None for row in active)

    @property
    def best(self) -> OfferRow | None:
        ranked = self.ranked
        return ranked[0] if ranked else None

    def row_for_offer(self, offer_id: int) -> OfferRow | None:
        return next((row for row in self.rows if row.offer.pk == offer_id), None)

    def row_for_bid(self, bid_id: int) -> OfferRow | None:
        return next((row for row in self.rows if row.offer.bid_id == bid_id), None)


def evaluation_view(evaluation: Evaluation) -> EvaluationView:
    """Criteria, each offer's marks (per evaluator and consolidated), totals, ranking and flags."""
    tree = criteria_tree(evaluation)
    leaves = leaves_of(tree)
    view = EvaluationView(evaluation=evaluation, tree=tree, leaves=leaves)
    with scopes_disabled():
        offers = list(
            Offer.objects.filter(evaluation=evaluation).select_related("bid", "bid__company").order_by("bid__number")
        )
        scores = list(Score.objects.filter(offer__evaluation=evaluation).select_related("evaluator"))
        view.award = Award.objects.filter(evaluation=evaluation).select_related("winner__bid__company").first()
    per_offer: dict[int, dict[int, dict[int, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    evaluators: dict[int, Any] = {}
    for score in scores:
        per_offer[score.offer_id][score.criterion_id][score.evaluator_id] = score.value
        evaluators[score.evaluator_id] = score.evaluator
    view.evaluators = sorted(evaluators.values(), key=lambda user: user.full_name or user.email)
    excluded = {offer.pk for offer in offers if offer.low_outcome == LowOutcome.REJECTED}
    active = [offer for offer in offers if offer.pk not in excluded]
    flags = rules.low_flags(
        {offer.pk: offer.price for offer in offers if offer.price is not None and offer.price > 0},
        Decimal(evaluation.low_ratio),
    )
    rule_rows = []
    for offer in active:
        row = rules.Row(offer_id=offer.pk, price=offer.price, number=offer.bid.number or 0)
        for leaf in leaves:
            if leaf.kind == CriterionKind.QUALITY:
                row.marks[leaf.pk] = rules.mean(list(per_offer[offer.pk][leaf.pk].values()))
        rule_rows.append(row)
    rules.compute_totals(
        rule_rows,
        [rules.Leaf(id=leaf.pk, weight=leaf.weight, is_price=leaf.kind == CriterionKind.PRICE) for leaf in leaves],
        evaluation.scale_max,
    )
    ordered = rules.rank(rule_rows)
    by_id = {offer.pk: offer for offer in offers}
    for row in ordered:
        offer = by_id[row.offer_id]
        view.rows.append(
            OfferRow(
                offer=offer,
                company_name=offer.bid.company.name,
                marks=row.marks,
                by_evaluator={key: dict(value) for key, value in per_offer[offer.pk].items()},
                total=row.total,
                rank=row.rank,
                low_flag=flags.get(offer.pk),
                excluded=False,
            )
        )
    for offer in offers:
        if offer.pk in excluded:
            view.rows.append(
                OfferRow(
                    offer=offer,
                    company_name=offer.bid.company.name,
                    marks={},
                    by_evaluator={key: dict(value) for key, value in per_offer[offer.pk].items()},
                    total=None,
                    rank=None,
                    low_flag=flags.get(offer.pk),
                    excluded=True,
                )
            )
    return view


def admitted(admissions: dict[int, Admission], bid: Bid) -> bool:
    row = admissions.get(bid.pk)
    return row is not None and row.decision == AdmissionDecision.ADMITTED


def letters_of_consultation(consultation: Consultation) -> list[Letter]:
    with scopes_disabled():
        return list(
            Letter.objects.filter(consultation=consultation)
            .select_related("company", "award__evaluation__lot", "first_read_by")
            .order_by("award__evaluation__lot__number", "company__name", "id")
        )


def letter_of_consultation(consultation: Consultation, pk: int) -> Letter | None:
    with scopes_disabled():
        return Letter.objects.filter(consultation=consultation, pk=pk).first()


# --- Company side ---------------------------------------------------------------------------------


def letters_of(*, company: Any) -> list[Letter]:
    with scopes_disabled():
        return list(
            Letter.objects.filter(company=company, sent_at__isnull=False)
            .select_related("consultation__organisation", "award__evaluation__lot")
            .order_by("-sent_at", "-id")
        )


def letter_of(*, company: Any, pk: int) -> Letter | None:
    with scopes_disabled():
        return (
            Letter.objects.filter(company=company, pk=pk, sent_at__isnull=False)
            .select_related("consultation__organisation", "award__evaluation__lot")
            .first()
        )


def _with_vault_grants(requests: list[DocumentRequest]) -> list[DocumentRequest]:
    """Sets `vault_grant` on each request: the company's active R2143-13 grant of its vault to the buyer
    for that consultation (the buyer reads the current versions there: no need to send them again), or
    None."""
    from ebourgogne.vault.models import VaultGrant

    if not requests:
        return requests
    with scopes_disabled():
        grants = VaultGrant.objects.filter(
            company_id__in={r.company_id for r in requests},
            consultation_id__in={r.award.evaluation.consultation_id for r in requests},
            revoked_at__isnull=True,
        ).order_by("granted_at", "pk")
        by_key = {(g.company_id, g.buyer_id, g.consultation_id): g for g in grants}
    for row in requests:
        consultation = row.award.evaluation.consultation
        row.vault_grant = by_key.get((row.company_id, consultation.organisation_id, consultation.pk))
    return requests


def document_requests_of(*, company: Any) -> list[DocumentRequest]:
    with scopes_disabled():
        rows = list(
            DocumentRequest.objects.filter(company=company).select_related(
                "award__evaluation__consultation__organisation", "award__evaluation__lot"
            )
        )
    return _with_vault_grants(rows)


def document_requests_of_evaluation(evaluation: Evaluation) -> list[DocumentRequest]:
    """The supporting documents asked of the winner of `evaluation` (buyer side), with the vault grant."""
    with scopes_disabled():
        rows = list(
            DocumentRequest.objects.filter(award__evaluation=evaluation).select_related(
                "company", "award__evaluation__consultation__organisation", "award__evaluation__lot"
            )
        )
    return _with_vault_grants(rows)


# --- Public page ----------------------------------------------------------------------------------


@dataclass
class PublicOutcome:
    lot: Any
    outcome: str
    outcome_label: str
    reason: str
    winner: str  # shown once the letters are sent


def public_outcomes(consultation: Consultation) -> list[PublicOutcome]:
    """The decided outcome of each lot (or of the consultation), for the public page. The winner's name
    is public once the letters have gone out (the bidders learn it first)."""
    if consultation.state not in AWARD_STATES:
        return []
    with scopes_disabled():
        awards = list(
            Award.objects.filter(evaluation__consultation=consultation)
            .select_related("evaluation__lot", "winner__bid__company")
            .order_by("evaluation__lot__number")
        )
    return [
        PublicOutcome(
            lot=award.evaluation.lot,
            outcome=award.outcome,
            outcome_label=str(award.get_outcome_display()),
            reason=award.reason,
            winner=award.winner.bid.company.name if award.winner and award.letters_sent_at else "",
        )
        for award in awards
    ]
