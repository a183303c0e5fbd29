"""A deposited bid's receipt in the API: GET /companies/{org}/bids/{id}/receipt (JSON) and receipt.pdf."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["tenders"])
