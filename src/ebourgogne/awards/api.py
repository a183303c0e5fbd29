"""The awards API, under /api/v1/awards (personal API tokens or the browser session):

- GET /{org_slug}/consultations/{id}/ranking   (buyers, `awards.view`) each evaluation's criteria,
  ranking (consolidated marks, totals, flags) and decision.
- GET /{org_slug}/letters                      (companies, `letters.view`) the company's letters, with
  their SHA-256, sending time and first reading.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.awards import rules, selectors
from ebourgogne.core.access import organisation_api

router = Router(tags=["awards"], auth=api_auth)


class CriterionOut(Schema):
    id: int
    name: str
    kind: str
    weight: str
    parent: int | None


class RankedOut(Schema):
    bid_number: int | None
    company: str
    price: str | None
    marks: dict[str, str | None]
    total: str | None
    rank: int | None
    abnormally_low: bool
    low_outcome: str
    excluded: bool


class EvaluationOut(Schema):
    id: int
    lot: int | None
    scale_max: int
    criteria: list[CriterionOut]
    ranking: list[RankedOut]
    outcome: str | None
    winner: str | None
    reason: str
    letters_sent_at: str | None
    signing_allowed_from: str | None


class LetterOut(Schema):
    id: int
    kind: str
    subject: str
    buyer: str
    consultation: int
    sha256: str
    sent_at: str | None
    first_read_at: str | None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


@router.get(
    "/{org_slug}/consultations/{int:consultation_id}/ranking",
    response=list[EvaluationOut],
    summary="Criteria, ranking and decision of each evaluation (lot) of an opened consultation",
)
@organisation_api("awards.view")
def ranking(request: HttpRequest, organisation: Any, consultation_id: int) -> list[dict[str, Any]]:
    consultation = selectors.consultation_of(organisation=organisation, pk=consultation_id)
    if consultation is None or not organisation.is_buyer:
        raise HttpError(404, "Consultation introuvable.")
    result = []
    for evaluation in selectors.evaluations_of(consultation):
        view = selectors.evaluation_view(evaluation)
        award = view.award
        criteria = [
            {"id": row.pk, "name": row.name, "kind": row.kind, "weight": str(row.weight), "parent": row.parent_id}
            for parent, children in view.tree
            for row in [parent, *children]
        ]
        result.append(
            {
                "id": evaluation.pk,
                "lot": evaluation.lot.number if evaluation.lot_id else None,
                "scale_max": evaluation.scale_max,
                "criteria": criteria,
                "ranking": [
                    {
                        "bid_number": row.offer.bid.number,
                        "company": row.company_name,
                        "price": _text(row.offer.price),
                        "marks": {str(key): _text(value) for key, value in row.marks.items()},
                        "total": _text(rules.two(row.total)),
                        "rank": row.rank,
                        "abnormally_low": row.low_flag is not None,
                        "low_outcome": row.offer.low_outcome,
                        "excluded": row.excluded,
                    }
                    for row in view.rows
                ],
                "outcome": award.outcome if award else None,
                "winner": award.winner.bid.company.name if award and award.winner else None,
                "reason": award.reason if award else "",
                "letters_sent_at": _iso(award.letters_sent_at) if award else None,
                "signing_allowed_from": _iso(award.standstill_ends_at) if award else None,
            }
        )
    return result


@router.get("/{org_slug}/letters", response=list[LetterOut], summary="The company's letters from buyers")
@organisation_api("letters.view")
def company_letters(request: HttpRequest, organisation: Any) -> list[dict[str, Any]]:
    if not organisation.is_company:
        raise HttpError(404, "Organisation introuvable.")
    return [
        {
            "id": letter.pk,
            "kind": letter.kind,
            "subject": letter.subject,
            "buyer": letter.consultation.organisation.name,
            "consultation": letter.consultation_id,
            "sha256": letter.sha256,
            "sent_at": _iso(letter.sent_at),
            "first_read_at": _iso(letter.first_read_at),
        }
        for letter in selectors.letters_of(company=organisation)
    ]
