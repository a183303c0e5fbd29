"""The receipt downloads (guarded reads), for the authorisation matrix: only the members of the company
that deposited the bid, holding bids.submit, get its receipt."""

from __future__ import annotations

from django.urls import reverse

from ebourgogne.tenders.models import Receipt
from ebourgogne.testing.authorisation import Operation, World


def _bid(world: World):
    if "receipts.bid" not in world.extra:
        from ebourgogne.tenders.tests.receipts_support import consultation_with_key, deposited_bid, issue

        consultation, _recipient = consultation_with_key(world.buyer)
        bid, _files = deposited_bid(world.company, world.company_admin, consultation)
        issue(bid)
        world.extra["receipts.bid"] = bid
    return world.extra["receipts.bid"]


def _receipts(world: World):
    _bid(world)  # made before the first snapshot
    return sorted(Receipt.objects.values_list("number", "digest"))


def _read(name: str, target: str, url, api: bool) -> Operation:
    return Operation(
        name=name,
        target=target,
        method="GET",
        api=api,
        permission="bids.submit",
        organisation=lambda w: w.company,
        url=url,
        snapshot=_receipts,
        changes=False,
    )


COMPANIES = "/api/v1/companies"
OPERATIONS = [
    _read(
        "tenders.receipt_pdf",
        "tenders_receipts:pdf",
        lambda w: reverse("tenders_receipts:pdf", args=[w.company.slug, _bid(w).pk]),
        api=False,
    ),
    _read(
        "tenders.receipt_json",
        "tenders_receipts:json",
        lambda w: reverse("tenders_receipts:json", args=[w.company.slug, _bid(w).pk]),
        api=False,
    ),
    _read(
        "api.bid_receipt",
        "api GET /api/v1/companies/{org_slug}/bids/{int:bid_id}/receipt",
        lambda w: f"{COMPANIES}/{w.company.slug}/bids/{_bid(w).pk}/receipt",
        api=True,
    ),
    _read(
        "api.bid_receipt_pdf",
        "api GET /api/v1/companies/{org_slug}/bids/{int:bid_id}/receipt.pdf",
        lambda w: f"{COMPANIES}/{w.company.slug}/bids/{_bid(w).pk}/receipt.pdf",
        api=True,
    ),
]
