"""Helpers of the receipts tests: a deposited bid written directly with the models (as the deposit
service leaves it), with real age ciphertext on disk so that files can be checked against the receipt."""

from __future__ import annotations

import hashlib
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.tenders.models import Bid, BidFile, BidKind, BidState, FileState, Receipt
from ebourgogne.testing.factories import ConsultationFactory, LotFactory
from ebourgogne.testing.sealing import encrypt_to, give_test_key


def consultation_with_key(buyer: Any, **fields: Any):
    consultation = ConsultationFactory(organisation=buyer, published=True, **fields)
    give_test_key(consultation)
    with scopes_disabled():
        consultation.refresh_from_db()
        recipient = consultation.opening_key.recipient
    return consultation, recipient


def deposited_bid(
    company: Any,
    user: Any,
    consultation: Any,
    *,
    files: dict[str, bytes] | None = None,
    late: bool = False,
    kind: str = BidKind.BID,
    lots: int = 0,
    number: int | None = None,
) -> tuple[Bid, dict[str, bytes]]:
    """A deposited bid (no receipt yet) and its files' ciphertext by name."""
    with scopes_disabled():
        recipient = consultation.opening_key.recipient
        ciphertexts = {
            name: encrypt_to(recipient, content)
            for name, content in (
                files or {"candidature.pdf": b"%PDF-1.7 DC1 DC2", "offre.pdf": b"%PDF-1.7 prix"}
            ).items()
        }
        now = clock.now()
        numbered = number or (Bid.objects.filter(consultation=consultation).count() + 1)
        bid = Bid.objects.create(
            consultation=consultation,
            company=company,
            kind=kind,
            state=BidState.DEPOSITED,
            created_by=user,
            upload_started_at=now,
            deposited_at=now,
            deposited_by=user,
            number=numbered,
            is_late=late,
        )
        for index in range(lots):
            bid.lots.add(LotFactory(consultation=consultation, number=index + 1, title=f"Lot n° {index + 1}"))
        for name, data in ciphertexts.items():
            BidFile.objects.create(
                bid=bid,
                envelope="application" if name.startswith("candidature") else "offer",
                name=name,
                size=len(data),
                received=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                state=FileState.COMPLETE,
                completed_at=now,
            )
    return bid, ciphertexts


def issue(bid: Bid) -> Receipt:
    from ebourgogne.tenders.receipts import issue_receipt

    with scopes_disabled():
        return issue_receipt(bid)
