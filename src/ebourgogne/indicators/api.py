"""The indicators API: the same figures as the dashboards, as JSON.

- GET /api/v1/indicators/region and /api/v1/indicators/departments/{code}: public (open figures);
- GET /api/v1/indicators/organisations/{org_slug}: a buyer's own figures (indicators.view).
Query: `du` and `au` (YYYY-MM, included), as on the pages; 400 with a message when they are wrong.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.core.access import organisation_api, public
from ebourgogne.indicators import selectors
from ebourgogne.indicators.forms import period_from
from ebourgogne.indicators.models import REGION, buyer_key, department_key
from ebourgogne.organisations.seed_data import DEPARTMENTS

router = Router(tags=["indicators"])


class FigureOut(Schema):
    key: str
    title: str
    available: bool
    summary: str
    note: str
    columns: list[str]
    rows: list[list[Any]]


class DashboardOut(Schema):
    scope: str
    period_from: str
    period_to: str
    as_of: str | None
    totals: dict[str, int]
    figures: list[FigureOut]


class ErrorOut(Schema):
    detail: str


def _dashboard(request: HttpRequest, scope_key: str) -> dict:
    form, period, valid = period_from(request.GET)
    if not valid:
        raise HttpError(400, "; ".join(str(error) for errors in form.errors.values() for error in errors))
    board = selectors.dashboard(scope_key, period)
    return {
        "scope": scope_key,
        "period_from": f"{period.start:%Y-%m}",
        "period_to": f"{period.end:%Y-%m}",
        "as_of": board.as_of.isoformat() if board.as_of else None,
        "totals": board.totals,
        "figures": [
            {
                "key": figure.key,
                "title": figure.title,
                "available": figure.available,
                "summary": figure.summary,
                "note": figure.note,
                "columns": figure.columns,
                "rows": figure.rows,
            }
            for figure in board.figures
        ],
    }


@router.get("/region", response={200: DashboardOut, 400: ErrorOut}, summary="Open figures of the region", auth=None)
@public(reason="open figures of the region: sums over every buyer, no per-company data")
def region(request: HttpRequest) -> dict:
    return _dashboard(request, REGION)


@router.get(
    "/departments/{code}",
    response={200: DashboardOut, 400: ErrorOut, 404: ErrorOut},
    summary="Open figures of a department",
    auth=None,
)
@public(reason="open figures of a department: sums over its buyers, no per-company data")
def department(request: HttpRequest, code: str) -> dict:
    if code not in DEPARTMENTS:
        raise HttpError(404, _("Département inconnu."))
    return _dashboard(request, department_key(code))


@router.get(
    "/organisations/{org_slug}",
    response={200: DashboardOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="A buyer's own figures",
    auth=api_auth,
)
@organisation_api("indicators.view")
def buyer(request: HttpRequest, organisation) -> dict:
    if not organisation.is_buyer:
        raise HttpError(404, _("Organisation introuvable."))
    return _dashboard(request, buyer_key(organisation.pk))
