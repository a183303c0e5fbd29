"""The convocation delay in clear days (meetings/delays.py): the calendar reasoning is in each test's name.

2026 calendar used below: Monday 7 December; Sunday 29 March 2026 is the last Sunday of March (clocks go
forward at 02:00, the day lasts 23 hours); Sunday 25 October 2026 is the last Sunday of October (clocks go
back at 03:00, the day lasts 25 hours)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.meetings import delays

UTC = dt.UTC


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def test_monday_meeting_with_five_clear_days_is_convened_by_tuesday_of_the_week_before_weekend_counted():
    # Monday 7 December 2026 14:00: Wed 2, Thu 3, Fri 4, Sat 5, Sun 6 are the five clear days.
    meeting = paris(2026, 12, 7, 14, 0)
    assert delays.latest_send_day(meeting, 5) == dt.date(2026, 12, 1)
    assert delays.latest_send_time(meeting, 5) == paris(2026, 12, 1, 23, 59, 59)
    assert delays.is_in_time(paris(2026, 12, 1, 23, 59, 59), meeting, 5)
    assert not delays.is_in_time(paris(2026, 12, 2, 0, 0, 0), meeting, 5)
    assert delays.clear_days_between(paris(2026, 12, 1, 9, 0), meeting) == 5
    assert delays.clear_days_between(paris(2026, 12, 2, 9, 0), meeting) == 4


def test_sending_day_and_meeting_day_are_not_counted_whatever_the_hours():
    # Sent at 00:01 on Tuesday 1st or at 23:59 on that day: the same day, the same answer; a meeting at
    # 08:00 or 20:00 on Monday 7th: the same day too.
    for sent in (paris(2026, 12, 1, 0, 1), paris(2026, 12, 1, 23, 59)):
        for meeting in (paris(2026, 12, 7, 8, 0), paris(2026, 12, 7, 20, 0)):
            assert delays.is_in_time(sent, meeting, 5)
            assert delays.clear_days_between(sent, meeting) == 5


def test_saturday_meeting_needs_sending_by_sunday_of_the_week_before_no_working_day_postponement():
    # Saturday 12 December 2026: Mon 7 .. Fri 11 are the five clear days; latest day Sunday 6 December.
    meeting = paris(2026, 12, 12, 10, 0)
    assert delays.latest_send_day(meeting, 5) == dt.date(2026, 12, 6)
    assert delays.latest_send_day(meeting, 5).weekday() == 6


def test_paris_day_not_utc_day_meeting_at_half_past_midnight_paris_is_on_the_paris_day():
    # Monday 7 December 00:30 Paris = Sunday 6 December 23:30 UTC: still a Monday meeting.
    meeting = paris(2026, 12, 7, 0, 30).astimezone(UTC)
    assert meeting.date() == dt.date(2026, 12, 6)
    assert delays.latest_send_day(meeting, 5) == dt.date(2026, 12, 1)
    # Sent on Tuesday 1 December at 23:30 Paris = 22:30 UTC the same day; at 00:30 Paris on Wednesday 2
    # = 23:30 UTC on Tuesday 1: the Paris day decides, so that one is late.
    assert delays.is_in_time(paris(2026, 12, 1, 23, 30).astimezone(UTC), meeting, 5)
    assert not delays.is_in_time(paris(2026, 12, 2, 0, 30).astimezone(UTC), meeting, 5)


def test_spring_forward_sunday_of_23_hours_counts_as_a_whole_clear_day():
    # Tuesday 31 March 2026: Thu 26, Fri 27, Sat 28, Sun 29 (23 h), Mon 30 are the five clear days.
    meeting = paris(2026, 3, 31, 9, 0)
    assert delays.latest_send_day(meeting, 5) == dt.date(2026, 3, 25)
    latest = delays.latest_send_time(meeting, 5)
    assert latest == paris(2026, 3, 25, 23, 59, 59)
    assert latest.utcoffset() == dt.timedelta(hours=1)  # still winter time on the 25th
    # The five clear days hold only 119 hours (the 29th is short): the delay is met all the same, days are
    # counted on the calendar. One hour less than in any other week between the two moments:
    assert meeting.astimezone(UTC) - latest.astimezone(UTC) == dt.timedelta(days=5, hours=8, seconds=1)
    assert delays.clear_days_between(latest, meeting) == 5
    assert not delays.is_in_time(latest + dt.timedelta(seconds=1), meeting, 5)


def test_fall_back_sunday_of_25_hours_counts_as_one_clear_day_not_more():
    # Tuesday 27 October 2026: Thu 22, Fri 23, Sat 24, Sun 25 (25 h), Mon 26; latest day Wednesday 21.
    meeting = paris(2026, 10, 27, 9, 0)
    latest = delays.latest_send_time(meeting, 5)
    assert latest == paris(2026, 10, 21, 23, 59, 59)
    assert latest.utcoffset() == dt.timedelta(hours=2)  # summer time on the 21st, winter on the 27th
    # A convocation sent on Thursday 22 at 00:00 leaves more than 5 × 24 hours (the Sunday lasts 25), yet
    # only four clear days: late.
    sent = paris(2026, 10, 22, 0, 0)
    assert meeting.astimezone(UTC) - sent.astimezone(UTC) > dt.timedelta(days=5)
    assert delays.clear_days_between(sent, meeting) == 4
    assert not delays.is_in_time(sent, meeting, 5)


def test_meeting_on_the_day_clocks_go_forward_latest_day_is_in_winter_time():
    # Sunday 29 March 2026 at 10:00 (summer time already): latest day Monday 23 March.
    meeting = paris(2026, 3, 29, 10, 0)
    assert meeting.utcoffset() == dt.timedelta(hours=2)
    assert delays.latest_send_time(meeting, 5) == paris(2026, 3, 23, 23, 59, 59)


def test_configured_delay_of_zero_days_means_sending_the_day_before_at_the_latest():
    meeting = paris(2026, 12, 7, 14, 0)
    assert delays.latest_send_time(meeting, 0) == paris(2026, 12, 6, 23, 59, 59)
    assert not delays.is_in_time(paris(2026, 12, 7, 8, 0), meeting, 0)


def test_sent_after_the_meeting_or_the_same_day_has_no_clear_day():
    meeting = paris(2026, 12, 7, 14, 0)
    assert delays.clear_days_between(paris(2026, 12, 7, 8, 0), meeting) == 0
    assert delays.clear_days_between(paris(2026, 12, 9, 8, 0), meeting) == 0


def test_naive_datetimes_and_negative_delays_are_refused():
    with pytest.raises(ValueError):
        delays.latest_send_day(dt.datetime(2026, 12, 7, 14, 0), 5)  # noqa: DTZ001
    with pytest.raises(ValueError):
        delays.latest_send_day(paris(2026, 12, 7, 14, 0), -1)


@pytest.mark.parametrize(
    ("now", "in_time"),
    [
        (paris(2026, 3, 25, 23, 59, 59), True),  # the last second of Wednesday 25 March, winter time
        (paris(2026, 3, 26, 0, 0, 0), False),  # Thursday 26: only four clear days left
    ],
)
def test_convening_now_across_the_spring_change_with_the_platform_clock(now, in_time):
    meeting = paris(2026, 3, 31, 9, 0)
    with time_machine.travel(now, tick=False):
        assert delays.is_in_time(clock.now(), meeting, 5) is in_time


# --- Properties over any date, delay and time zone offset ---------------------------------------------

MEETINGS = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(PARIS)
).map(lambda local: local.astimezone(UTC))
DELAYS = st.integers(min_value=0, max_value=30)


@settings(max_examples=300, deadline=None)
@given(meeting=MEETINGS, days=DELAYS)
def test_the_latest_second_is_in_time_and_the_next_second_is_late_for_any_date(meeting, days):
    latest = delays.latest_send_time(meeting, days)
    assert latest.astimezone(PARIS).time() == dt.time(23, 59, 59)
    assert delays.is_in_time(latest, meeting, days)
    assert not delays.is_in_time(latest + dt.timedelta(seconds=1), meeting, days)
    assert delays.clear_days_between(latest, meeting) == days
    # Exactly `days` calendar days lie between the two Paris days, whatever the offsets on the way.
    between = meeting.astimezone(PARIS).date() - latest.date()
    assert between == dt.timedelta(days=days + 1)


@settings(max_examples=300, deadline=None)
@given(meeting=MEETINGS, sent=MEETINGS, days=DELAYS)
def test_in_time_exactly_when_enough_clear_days_lie_between(meeting, sent, days):
    gap = (meeting.astimezone(PARIS).date() - sent.astimezone(PARIS).date()).days
    assert delays.is_in_time(sent, meeting, days) == (gap - 1 >= days)
    if gap >= 1:
        assert delays.clear_days_between(sent, meeting) == gap - 1
