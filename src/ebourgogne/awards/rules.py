"""The rules of evaluation and notification, as pure functions (tested with hand-computed values).

Scoring
-------
- Every criterion has a weight in points out of 100; top-level weights sum to 100, and the weights of a
  criterion's sub-criteria sum to their parent's weight. Leaves (a criterion without sub-criteria, or a
  sub-criterion) are what is scored.
- Quality leaves are marked by each evaluator on the evaluation's scale (0 to `scale_max`, 10 or 20).
  The consolidated mark is the arithmetic mean of the evaluators' marks.
- The price is never marked by hand: the usual proportional formula gives
  `mark = lowest price / price × scale_max` (the lowest price among the offers still in the ranking gets
  the full mark; an offer twice as expensive gets half of it).
- An offer's weighted total, out of 100, is Σ over leaves of `mark / scale_max × leaf weight`, rounded to
  two decimals only for display (computed in `Decimal`).
- Ranking: by total, highest first; equal totals share the same rank (1, 1, 3); ties are listed by
  price, then deposit number.

Abnormally low offers (L2152-5, R2152-3 to R2152-5)
--------------------------------------------------
The code sets no threshold; the buyer must ask for justification when an offer *seems* abnormally low,
and may reject it only after that. The platform flags an offer whose price is below `ratio` × the mean
price of the other offers (default 0.80, configurable per evaluation); the flag only asks the buyer to
request a justification and to record the outcome. An offer rejected as abnormally low leaves the ranking
(and the lowest price used by the formula is taken among the remaining offers).

Standstill (délai de suspension, R2182-1)
----------------------------------------
In formalised procedures the contract cannot be signed before at least 11 days have run from the sending
of the rejection letters (16 days when they are not sent electronically: the platform always sends them
electronically). Days are Europe/Paris calendar days: letters sent on day D, the 11 days are D+1 … D+11,
and the contract may be signed from D+12 at 00:00 (Paris). The days are configurable per evaluation;
MAPA (procédure adaptée) has no standstill by default (R2182-1 does not apply to it), `None`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ebourgogne.core.clock import PARIS

STANDSTILL_DAYS_FORMALISED = 11
STANDSTILL_DAYS_NOT_ELECTRONIC = 16  # documented; the platform always sends electronically
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def two(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def price_mark(price: Decimal, lowest: Decimal, scale_max: int | Decimal) -> Decimal:
    """lowest / price × scale_max: the lowest price gets the full mark."""
    if price <= 0 or lowest <= 0:
        raise ValueError("prices must be positive")
    return lowest / price * Decimal(scale_max)


def mean(values: Sequence[Decimal]) -> Decimal | None:
    return (sum(values, Decimal(0)) / len(values)) if values else None


def low_flags(prices: dict[int, Decimal], ratio: Decimal) -> dict[int, Decimal]:
    """The offers whose price is below `ratio` × the mean of the others' prices: {offer id: that mean}.
    Needs at least one other priced offer."""
    flagged: dict[int, Decimal] = {}
    for key, price in prices.items():
        others = [value for other, value in prices.items() if other != key]
        if not others:
            continue
        others_mean = mean(others)
        if others_mean is not None and price < ratio * others_mean:
            flagged[key] = others_mean
    return flagged


@dataclass
class Leaf:
    id: int
    weight: Decimal
    is_price: bool


@dataclass
class Row:
    """One offer in the ranking."""

    offer_id: int
    price: Decimal | None
    number: int
    marks: dict[int, Decimal | None] = field(default_factory=dict)  # leaf id -> consolidated mark
    total: Decimal | None = None
    rank: int | None = None


def compute_totals(rows: list[Row], leaves: Iterable[Leaf], scale_max: int) -> None:
    """Fill each row's price mark and total (None when a mark is missing)."""
    leaves = list(leaves)
    scale = Decimal(scale_max)
    priced = [row.price for row in rows if row.price is not None and row.price > 0]
    lowest = min(priced) if priced else None
    for row in rows:
        total = Decimal(0)
        complete = True
        for leaf in leaves:
            if leaf.is_price:
                mark = price_mark(row.price, lowest, scale) if (row.price and lowest) else None
                row.marks[leaf.id] = mark
            else:
                mark = row.marks.get(leaf.id)
            if mark is None:
                complete = False
                continue
            total += mark / scale * leaf.weight
        row.total = total if complete and leaves else None


def rank(rows: list[Row]) -> list[Row]:
    """Sort by total (highest first), ties by price then deposit number; equal totals share a rank.
    Rows without a total come last, unranked."""
    complete = [row for row in rows if row.total is not None]
    incomplete = [row for row in rows if row.total is None]
    complete.sort(
        key=lambda row: (-two(row.total), row.price if row.price is not None else Decimal("Infinity"), row.number)
    )
    previous: Decimal | None = None
    for position, row in enumerate(complete, start=1):
        shown = two(row.total)
        row.rank = complete[position - 2].rank if position > 1 and shown == previous else position
        previous = shown
    for row in incomplete:
        row.rank = None
    return complete + sorted(incomplete, key=lambda row: row.number)


def standstill_days(*, formalised: bool, configured: int | None) -> int | None:
    """The standstill days that apply: the evaluation's own setting, else 11 for formalised procedures,
    else none (MAPA)."""
    if configured is not None:
        return configured or None
    return STANDSTILL_DAYS_FORMALISED if formalised else None


def signing_allowed_from(sent_at: dt.datetime, days: int) -> dt.datetime:
    """The first moment the contract may be signed: 00:00 Paris on the (days + 1)-th calendar day after the
    day of sending (the `days` full days D+1 … D+days must have run). An aware datetime (Paris)."""
    sent_day = sent_at.astimezone(PARIS).date()
    first_day = sent_day + dt.timedelta(days=days + 1)
    return dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=PARIS)


def standstill_last_day(sent_at: dt.datetime, days: int) -> dt.date:
    """The last day of the standstill period (Paris calendar)."""
    return sent_at.astimezone(PARIS).date() + dt.timedelta(days=days)
