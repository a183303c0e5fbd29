"""Properties of the Paris local-time rules, over many dates (hypothesis)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from ebourgogne.consultations.forms import paris_instant
from ebourgogne.consultations.services import ANSWER_DELAY_DAYS, last_answer_date

PARIS = ZoneInfo("Europe/Paris")
local_times = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31)).map(
    lambda moment: moment.replace(second=0, microsecond=0)
)


@settings(max_examples=400, deadline=None)
@given(local=local_times, offset=st.sampled_from(["", "summer", "winter"]))
def test_a_local_time_is_refused_or_read_back_exactly(local, offset):
    try:
        instant = paris_instant(local.date(), local.time(), offset)
    except ValidationError as refused:
        assert refused.code in {"nonexistent", "ambiguous"}
        # Refused only in the hour of a change, on the last Sunday of March or October.
        assert local.month in (3, 10) and local.weekday() == 6 and local.day > 24 and local.hour == 2
        return
    assert instant.tzinfo is not None
    assert instant.astimezone(PARIS).replace(tzinfo=None) == local
    if offset == "summer" and local.month == 10 and local.hour == 2 and local.weekday() == 6 and local.day > 24:
        assert instant.astimezone(PARIS).utcoffset() == dt.timedelta(hours=2)


@settings(max_examples=400, deadline=None)
@given(
    deadline=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31)).map(
        lambda moment: moment.replace(tzinfo=dt.UTC)
    ),
    urgency=st.booleans(),
)
def test_last_answer_date_is_never_looser_than_the_rule(deadline, urgency):
    consultation = SimpleNamespace(is_formalised=True, urgency=urgency, bids_deadline=deadline)
    days = 4 if urgency else ANSWER_DELAY_DAYS
    last = last_answer_date(consultation)
    assert last <= deadline - dt.timedelta(days=days)
    # At most one hour stricter (a daylight-saving change inside the delay).
    assert last >= deadline - dt.timedelta(days=days, hours=1)
    # Never after the same wall-clock time `days` days earlier on the Paris calendar.
    calendar = (deadline.astimezone(PARIS).replace(tzinfo=None) - dt.timedelta(days=days)).replace(tzinfo=PARIS)
    assert last <= calendar.astimezone(dt.UTC) or calendar.replace(fold=1).astimezone(dt.UTC) >= last


def test_mapa_has_no_answer_delay():
    consultation = SimpleNamespace(
        is_formalised=False, urgency=False, bids_deadline=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    assert last_answer_date(consultation) is None
