"""Opened consultations with opened bids, written straight to the database, for the awards tests.

The opening itself (real key shares, decryption) has its own tests in tenders/tests; the awards tests
start from its result: a consultation in state "opened" whose in-time bids carry `opened_at`, and late
bids that stayed sealed. `opened_consultation(buyer, companies=[...], late=[...], lots=2)`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.core import clock


@dataclass
class Opened:
    consultation: Any
    bids: list[Any] = field(default_factory=list)  # opened in time, in the order of `companies`
    late: list[Any] = field(default_factory=list)
    lots: list[Any] = field(default_factory=list)


def opened_consultation(
    buyer: Any,
    *,
    companies: list[Any],
    late: list[Any] | None = None,
    superseded: list[Any] | None = None,
    lots: int = 0,
    bid_lots: dict[int, list[int]] | None = None,
    **fields: Any,
) -> Opened:
    """`companies` each deposit one bid in time (opened); `late` companies one after the deadline (sealed);
    `superseded` companies an earlier in-time deposit replaced by their bid in `companies`.
    `bid_lots`: {index in companies: [lot numbers]} (default: the bid names no lot, i.e. all lots)."""
    from ebourgogne.tenders.models import Bid, BidState
    from ebourgogne.testing.factories import ConsultationFactory, LotFactory

    now = clock.now()
    deadline = now - dt.timedelta(days=2)
    with scopes_disabled():
        consultation = ConsultationFactory(
            organisation=buyer,
            state="opened",
            published_at=now - dt.timedelta(days=40),
            questions_deadline=now - dt.timedelta(days=10),
            bids_deadline=deadline,
            closed_at=deadline,
            opened_at=now - dt.timedelta(days=1),
            **fields,
        )
        made = Opened(consultation=consultation)
        for number in range(1, lots + 1):
            made.lots.append(LotFactory(consultation=consultation, number=number, title=f"Lot {number}"))
        counter = 0

        def deposit(company: Any, *, at: dt.datetime, is_late: bool, opened: bool) -> Any:
            nonlocal counter
            counter += 1
            return Bid.objects.create(
                consultation=consultation,
                company=company,
                state=BidState.DEPOSITED,
                upload_started_at=at - dt.timedelta(minutes=2),
                deposited_at=at,
                number=counter,
                is_late=is_late,
                opened_at=(now - dt.timedelta(days=1)) if opened else None,
            )

        for company in superseded or []:
            deposit(company, at=deadline - dt.timedelta(days=3), is_late=False, opened=False)
        for index, company in enumerate(companies):
            bid = deposit(company, at=deadline - dt.timedelta(hours=5 - index % 5), is_late=False, opened=True)
            numbers = (bid_lots or {}).get(index)
            if numbers:
                bid.lots.set([lot for lot in made.lots if lot.number in numbers])
            made.bids.append(bid)
        for company in late or []:
            made.late.append(deposit(company, at=deadline + dt.timedelta(minutes=3), is_late=True, opened=False))
    return made


def criteria(*, price: int = 40, quality: list[dict] | None = None) -> dict[str, Any]:
    """Arguments of `awards.services.criteria_set`: price 40, technical value 60 (method 35, means 25)."""
    return {
        "scale_max": 20,
        "price_weight": price,
        "quality": quality
        if quality is not None
        else [
            {
                "name": "Valeur technique",
                "weight": 100 - price,
                "children": [
                    {"name": "Méthodologie", "weight": (100 - price) * 35 // 60},
                    {"name": "Moyens", "weight": (100 - price) - (100 - price) * 35 // 60},
                ],
            }
        ],
    }
