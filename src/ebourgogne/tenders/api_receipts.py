"""A deposited bid's receipt in the API: GET /companies/{org}/bids/{id}/receipt (JSON) and receipt.pdf."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.apitokens.errors import ApiError
from ebourgogne.apitokens.schemas import ErrorOut
from ebourgogne.core.access import organisation_api
from ebourgogne.tenders.models import Receipt
from ebourgogne.tenders.receipts import receipt_document, receipt_pdf

router = Router(tags=["tenders"], auth=api_auth)

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _receipt(organisation: Any, bid_id: int) -> Receipt:
    receipt = (
        Receipt.objects.select_related("bid__consultation__organisation", "bid__company")
        .filter(bid__pk=bid_id, bid__company=organisation)
        .first()
    )
    if receipt is None:
        raise ApiError(
            404,
            _("Aucun accusé de réception pour ce pli : il n'existe pas ou n'est pas encore déposé."),
            "receipt_not_found",
        )
    return receipt


@router.get(
    "/{org_slug}/bids/{int:bid_id}/receipt",
    response={200: dict, **ERRORS},
    summary="The receipt of a deposited bid (JSON, with its RFC 3161 timestamp token and the TSA certificates)",
)
@organisation_api("bids.submit")
def bid_receipt(request: HttpRequest, organisation: Any, bid_id: int) -> dict[str, Any]:
    return receipt_document(_receipt(organisation, bid_id))


@router.get(
    "/{org_slug}/bids/{int:bid_id}/receipt.pdf",
    response={200: None, **ERRORS},
    summary="The receipt of a deposited bid as a PDF",
)
@organisation_api("bids.submit")
def bid_receipt_pdf(request: HttpRequest, organisation: Any, bid_id: int) -> HttpResponse:
    receipt = _receipt(organisation, bid_id)
    response = HttpResponse(receipt_pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="accuse-{receipt.number}.pdf"'
    return response
