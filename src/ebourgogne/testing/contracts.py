"""Contracts written straight to the database, for the contracts, DECP, OCDS and indicators tests.

`awarded(buyer, holder, rivals=[...])` gives an opened consultation whose evaluation is awarded to
`holder` (the award letters not sent); `contract(buyer, holder, state=...)` adds the `Contract` in the
state asked, without documents or letters: the services have their own tests from the award onwards.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.testing.awards import opened_consultation


def awarded(
    buyer: Any, holder: Any, *, rivals: list[Any] | None = None, price: Decimal = Decimal("120000"), **fields: Any
) -> Any:
    """The `awards.Award` of an opened consultation of `buyer` (no lots) won by `holder` at `price` € HT."""
    from ebourgogne.awards.models import Award, Evaluation, Offer, Outcome

    opened = opened_consultation(buyer, companies=[holder, *(rivals or [])], **fields)
    now = clock.now()
    with scopes_disabled():
        evaluation = Evaluation.objects.create(consultation=opened.consultation, criteria_set_at=now)
        offers = [
            Offer.objects.create(evaluation=evaluation, bid=bid, price=price + 1000 * index)
            for index, bid in enumerate(opened.bids)
        ]
        return Award.objects.create(
            evaluation=evaluation,
            outcome=Outcome.AWARDED,
            winner=offers[0],
            winner_total=Decimal("18.50"),
            reason="Offre économiquement la plus avantageuse",
            decided_at=now - dt.timedelta(days=15),
            letters_sent_at=now - dt.timedelta(days=14),
            standstill_ends_at=now - dt.timedelta(days=3),
        )


def contract(
    buyer: Any,
    holder: Any,
    *,
    state: str = "notified",
    amount: Decimal = Decimal("120000"),
    number: str = "2026-001",
    contract_type: str = "services",
    notified_days_ago: int = 10,
    **fields: Any,
) -> Any:
    """A `Contract` of `buyer` held by `holder`, in `state` (preparing, signed, notified, ended)."""
    from ebourgogne.contracts.models import Contract

    award = awarded(buyer, holder, price=amount, contract_type=contract_type)
    consultation = award.evaluation.consultation
    now = clock.now()
    signed = state in {"signed", "notified", "ended", "terminated"}
    notified = state in {"notified", "ended", "terminated"}
    notified_at = now - dt.timedelta(days=notified_days_ago) if notified else None
    values: dict[str, Any] = {
        "organisation": buyer,
        "consultation": consultation,
        "award": award,
        "holder": holder,
        "bid": award.winner.bid,
        "number": number,
        "title": consultation.title,
        "object": consultation.object or consultation.title,
        "contract_type": contract_type,
        "procedure": consultation.procedure,
        "cpv_code": consultation.main_cpv_id or "45000000",
        "place_code": consultation.department or "21",
        "place_code_type": "Code département",
        "amount": amount,
        "duration_months": consultation.duration_months or 12,
        "price_types": ["Définitif ferme"],
        "techniques": ["Sans objet"],
        "execution_modes": ["Sans objet"],
        "social_considerations": ["Pas de considération sociale"],
        "environmental_considerations": ["Pas de considération environnementale"],
        "bids_received": 1,
        "state": state,
        "created_at": now - dt.timedelta(days=notified_days_ago + 5),
        "signed_at": (now - dt.timedelta(days=notified_days_ago + 1)) if signed else None,
        "notified_at": notified_at,
        "starts_on": notified_at.date() if notified_at else None,
        "ended_at": now if state in {"ended", "terminated"} else None,
    }
    values.update(fields)
    with scopes_disabled():
        return Contract.objects.create(**values)
