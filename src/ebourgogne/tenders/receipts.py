"""Receipts (accusés de réception) of deposited bids.

`issue_receipt(bid)` is called by `tenders.services.bid_deposit` inside the deposit's transaction, once
every file is stored durably. The payload is canonical JSON (sorted keys, UTF-8, no spaces): its SHA-256
is what the RFC 3161 timestamp token covers.

SKELETON: payload and digest only; the timestamp token, PDF, e-mail and verification come next.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ebourgogne.core import clock
from ebourgogne.tenders.models import Bid, Receipt


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def build_payload(bid: Bid) -> dict[str, Any]:
    consultation = bid.consultation
    key = getattr(consultation, "opening_key", None)
    return {
        "version": 1,
        "bid": bid.pk,
        "deposit_number": bid.number,
        "kind": bid.kind,
        "bidder": {"name": bid.company.name, "siret": bid.company.siret, "siren": bid.company.siren},
        "buyer": {"name": consultation.organisation.name, "siret": consultation.organisation.siret},
        "consultation": {"id": consultation.pk, "reference": consultation.reference, "title": consultation.title},
        "lots": sorted(lot.number for lot in bid.lots.all()),
        "deposited_at": bid.deposited_at.isoformat(),
        "late": bid.is_late,
        "recipient": key.recipient if key else None,
        "recipient_fingerprint": key.fingerprint if key else None,
        "files": [
            {"envelope": f.envelope, "name": f.name, "size": f.size, "sha256": f.sha256}
            for f in bid.files.order_by("envelope", "id")
        ],
    }


def issue_receipt(bid: Bid) -> Receipt:
    payload = canonical(build_payload(bid))
    return Receipt.objects.create(
        bid=bid,
        number=f"EB-{bid.consultation_id}-{bid.number}",
        issued_at=clock.now(),
        payload=payload,
        digest=hashlib.sha256(payload).hexdigest(),
        is_late=bid.is_late,
    )
