"""The formulas of `awards.rules`, with hand-computed values (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from ebourgogne.awards import rules
from ebourgogne.core.clock import PARIS


def test_price_mark_is_proportional_to_the_lowest_price():
    assert rules.price_mark(D(90000), D(90000), 20) == 20
    assert rules.price_mark(D(120000), D(90000), 20) == 15  # 90/120 × 20
    assert rules.price_mark(D(180000), D(90000), 10) == 5  # twice the lowest: half the mark
    with pytest.raises(ValueError):
        rules.price_mark(D(0), D(90000), 20)


def test_totals_and_ranking_by_hand():
    # Price 40 points, technical 60 points split into method 35 and means 25, marks on 20.
    leaves = [rules.Leaf(1, D(40), True), rules.Leaf(2, D(35), False), rules.Leaf(3, D(25), False)]
    a = rules.Row(offer_id=10, price=D(100000), number=1, marks={2: D(16), 3: D(12)})
    b = rules.Row(offer_id=11, price=D(80000), number=2, marks={2: D(10), 3: D(10)})
    c = rules.Row(offer_id=12, price=D(125000), number=3, marks={2: D(20), 3: D(20)})
    rows = [a, b, c]
    rules.compute_totals(rows, leaves, 20)
    # a: price 80000/100000×20 = 16 → 16/20×40 = 32; method 16/20×35 = 28; means 12/20×25 = 15 → 75
    assert a.total == D(75)
    # b: price 20 → 40; 10/20×35 = 17.5; 10/20×25 = 12.5 → 70
    assert b.total == D(70)
    # c: price 80000/125000×20 = 12.8 → 25.6; 35; 25 → 85.6
    assert rules.two(c.total) == D("85.60")
    ranked = rules.rank(rows)
    assert [(row.offer_id, row.rank) for row in ranked] == [(12, 1), (10, 2), (11, 3)]


def test_equal_totals_share_a_rank_and_missing_marks_leave_the_ranking():
    leaves = [rules.Leaf(1, D(100), True)]
    rows = [
        rules.Row(offer_id=1, price=D(100), number=2),
        rules.Row(offer_id=2, price=D(100), number=1),
        rules.Row(offer_id=3, price=D(200), number=3),
        rules.Row(offer_id=4, price=None, number=4),
    ]
    rules.compute_totals(rows, leaves, 10)
    ranked = rules.rank(rows)
    assert [(row.offer_id, row.rank) for row in ranked] == [(2, 1), (1, 1), (3, 3), (4, None)]
    assert ranked[-1].total is None


def test_a_missing_quality_mark_leaves_no_total():
    leaves = [rules.Leaf(1, D(50), True), rules.Leaf(2, D(50), False)]
    row = rules.Row(offer_id=1, price=D(10), number=1, marks={2: None})
    rules.compute_totals([row], leaves, 20)
    assert row.total is None


def test_abnormally_low_flag_against_the_mean_of_the_others():
    prices = {1: D(100000), 2: D(110000), 3: D(60000)}
    flags = rules.low_flags(prices, D("0.80"))
    # 3: others' mean 105000, 0.8 × 105000 = 84000 > 60000 → flagged; 1: mean 85000 × 0.8 = 68000 < 100000
    assert flags == {3: D(105000)}
    assert rules.low_flags(prices, D("0.50")) == {}
    assert rules.low_flags({1: D(10)}, D("0.8")) == {}  # nobody to compare with


def test_standstill_days_by_procedure():
    assert rules.standstill_days(formalised=True, configured=None) == 11
    assert rules.standstill_days(formalised=False, configured=None) is None  # MAPA
    assert rules.standstill_days(formalised=False, configured=5) == 5
    assert rules.standstill_days(formalised=True, configured=0) is None
    assert rules.STANDSTILL_DAYS_NOT_ELECTRONIC == 16


def test_signing_allowed_from_across_a_month_end_and_the_autumn_clock_change():
    # Sent on Tuesday 20 October 2026 at 18:30 Paris (summer time): D+1 … D+11 = 21 … 31 October;
    # signing from 1 November 00:00 Paris, winter time since 25 October: 31 October 23:00 UTC.
    sent = dt.datetime(2026, 10, 20, 16, 30, tzinfo=dt.UTC)
    first = rules.signing_allowed_from(sent, 11)
    assert first == dt.datetime(2026, 11, 1, 0, 0, tzinfo=PARIS)
    assert first.astimezone(dt.UTC) == dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.UTC)
    assert rules.standstill_last_day(sent, 11) == dt.date(2026, 10, 31)


def test_the_paris_day_of_sending_counts_not_the_utc_one():
    # 23:30 UTC on 27 February is already 28 February in Paris: the 11 days run 1 … 11 March.
    sent = dt.datetime(2026, 2, 27, 23, 30, tzinfo=dt.UTC)
    assert rules.standstill_last_day(sent, 11) == dt.date(2026, 3, 11)
    assert rules.signing_allowed_from(sent, 11) == dt.datetime(2026, 3, 12, tzinfo=PARIS)
