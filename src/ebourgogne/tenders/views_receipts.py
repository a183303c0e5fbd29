"""Downloads of a deposited bid's receipt (PDF, JSON), for the members of the company that deposited it."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from ebourgogne.core.access import organisation_view
from ebourgogne.tenders.models import Receipt
from ebourgogne.tenders.receipts import receipt_json_bytes, receipt_pdf


def company_receipt(organisation: Any, bid_pk: int) -> Receipt:
    """The receipt of `bid_pk` if that bid is the company's own (404 otherwise: another company's bid,
    or a draft, does not exist for this caller)."""
    receipt = (
        Receipt.objects.select_related("bid__consultation__organisation", "bid__company")
        .filter(bid__pk=bid_pk, bid__company=organisation)
        .first()
    )
    if receipt is None:
        raise Http404
    return receipt


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@organisation_view("bids.submit")
def receipt_pdf_view(request: HttpRequest, organisation: Any, bid_pk: int) -> HttpResponse:
    receipt = company_receipt(organisation, bid_pk)
    return _download(receipt_pdf(receipt), "application/pdf", f"accuse-{receipt.number}.pdf")


@organisation_view("bids.submit")
def receipt_json_view(request: HttpRequest, organisation: Any, bid_pk: int) -> HttpResponse:
    receipt = company_receipt(organisation, bid_pk)
    return _download(receipt_json_bytes(receipt), "application/json", f"accuse-{receipt.number}.json")
