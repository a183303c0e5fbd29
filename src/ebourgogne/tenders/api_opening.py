"""Openings in the API, for the buyer (bids.open), under /api/v1/buyers:

- GET /{org_slug}/consultations/{id}/opening   the openings of the consultation: state, times and, once
  done, the opening report (PV d'ouverture) as JSON. Before the deadline: the number of deposits only.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.apitokens.errors import consultation_not_found
from ebourgogne.apitokens.schemas import ErrorOut
from ebourgogne.consultations.api_common import own_consultation
from ebourgogne.core.access import organisation_api
from ebourgogne.core.errors import NotFound
from ebourgogne.tenders.models import Bid, BidState, Opening

router = Router(tags=["tenders (buyers)"], auth=api_auth)

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class OpeningOut(Schema):
    id: int
    state: str
    started_at: str
    finished_at: str | None
    error: str
    report: dict[str, Any] | None


class OpeningsOut(Schema):
    consultation: int
    deadline_passed: bool
    deposits: int | None
    openings: list[OpeningOut]


@router.get(
    "/{org_slug}/consultations/{int:consultation_id}/opening",
    response={200: OpeningsOut, **ERRORS},
    summary="The openings of one of the buyer's consultations and their reports",
)
@organisation_api("bids.open")
def consultation_openings(request: HttpRequest, organisation: Any, consultation_id: int) -> dict[str, Any]:
    consultation = own_consultation(organisation, consultation_id)
    if consultation.is_practice:
        raise NotFound(consultation_not_found())
    passed = consultation.deadline_passed
    openings = (
        []
        if not passed
        else list(Opening.objects.filter(consultation=consultation, is_practice=False).order_by("started_at", "pk"))
    )
    return {
        "consultation": consultation.pk,
        "deadline_passed": passed,
        "deposits": None if passed else Bid.objects.filter(consultation=consultation, state=BidState.DEPOSITED).count(),
        "openings": [
            {
                "id": item.pk,
                "state": item.state,
                "started_at": item.started_at.isoformat(),
                "finished_at": item.finished_at.isoformat() if item.finished_at else None,
                "error": item.error,
                "report": {k: v for k, v in item.report.items() if k != "plan"} if item.state == "done" else None,
            }
            for item in openings
        ],
    }
