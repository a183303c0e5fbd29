"""A company's bids: create, resumable uploads of age-encrypted files, deposit, receipts."""

from __future__ import annotations

from ninja import Router

company_router = Router(tags=["tenders"])
buyer_router = Router(tags=["tenders"])
