"""Reading the journal: one organisation only, date ranges, times that never go back, constant query counts."""

from __future__ import annotations

import datetime as dt

import pytest

from ebourgogne.audit.selectors import EventFilters, all_events, iterate, organisation_events, page_of
from ebourgogne.audit.services import log_event, log_events

pytestmark = pytest.mark.django_db

DAY = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def days(buyer, other_buyer):
    """Ten events a day for five days, alternately for each buyer."""
    log_events(
        {
            "action": "consultation.document.downloaded",
            "organisation": buyer if n % 2 else other_buyer,
            "occurred_at": DAY + dt.timedelta(days=n // 10, minutes=n % 10),
            "data": {"n": n},
        }
        for n in range(50)
    )


def test_an_organisation_sees_only_its_own_events(days, buyer, other_buyer):
    mine = list(organisation_events(organisation=buyer))
    assert len(mine) == 25
    assert {event.organisation_id for event in mine} == {buyer.pk}
    # The organisation filter of EventFilters is for operators; members always get their own.
    assert organisation_events(organisation=buyer, filters=EventFilters(organisation_id=other_buyer.pk)).count() == 25
    assert all_events(filters=EventFilters(organisation_id=other_buyer.pk)).count() == 25
    assert all_events().count() == 50


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2), list(range(10, 20))),
        (DAY + dt.timedelta(days=3, minutes=5), None, list(range(35, 50))),
        (None, DAY + dt.timedelta(minutes=3), [0, 1, 2]),
        (DAY + dt.timedelta(days=9), None, []),
        (None, DAY - dt.timedelta(days=1), []),
        (DAY - dt.timedelta(days=9), DAY + dt.timedelta(days=99), list(range(50))),
    ],
)
def test_date_ranges(days, since, until, expected):
    found = all_events(filters=EventFilters(since=since, until=until))
    assert sorted(event.data["n"] for event in found) == expected


def test_times_never_go_back(time_machine):
    time_machine.move_to(DAY, tick=False)
    first = log_event(action="test.clock")
    time_machine.move_to(DAY - dt.timedelta(seconds=5), tick=False)  # the clock is set back
    second = log_event(action="test.clock")
    assert second.occurred_at == first.occurred_at
    time_machine.move_to(DAY + dt.timedelta(seconds=1), tick=False)
    assert log_event(action="test.clock").occurred_at == DAY + dt.timedelta(seconds=1)
    log_events([{"action": "test.clock", "occurred_at": DAY - dt.timedelta(days=1)}])
    assert all_events().first().occurred_at == DAY + dt.timedelta(seconds=1)


def test_a_page_costs_the_same_number_of_queries_at_any_depth(days, buyer, django_assert_num_queries):
    queryset = organisation_events(organisation=buyer, filters=EventFilters(action="consultation"))
    with django_assert_num_queries(1):
        first = page_of(queryset, size=5)
    with django_assert_num_queries(2):
        middle = page_of(queryset, before=first.older, size=5)
    with django_assert_num_queries(2):
        back = page_of(queryset, after=middle.newer, size=5)
    assert [event.seq for event in back.events] == [event.seq for event in first.events]
    filtered = EventFilters(since=DAY + dt.timedelta(days=1), until=DAY + dt.timedelta(days=3))
    with django_assert_num_queries(3):  # two lookups of the date bounds, one page
        page_of(organisation_events(organisation=buyer, filters=filtered), size=5)


def test_iterate_reads_in_batches(days, django_assert_num_queries):
    with django_assert_num_queries(6):  # 50 events by 10, and the empty read that ends it
        seqs = [event.seq for event in iterate(all_events(), batch_size=10)]
    assert seqs == list(range(50, 0, -1))
