"""Property: whatever the events, one tampering behind the application's back is always detected, at the
right place. Hypothesis draws the events (any text, numbers, nesting) and the tampering."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebourgogne.audit import integrity
from ebourgogne.audit.integrity import verify_chain
from ebourgogne.audit.services import log_event
from ebourgogne.audit.tests import helpers

pytestmark = pytest.mark.django_db

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.datetimes(timezones=st.just(dt.UTC)),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
event_specs = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["account.login", "org.member.invited", "consultation.document.downloaded"]),
        "data": st.dictionaries(st.text(max_size=10), json_values, max_size=4).filter(lambda d: "tampered" not in d),
        "user_agent": st.text(max_size=40),
        "ip": st.sampled_from(["192.0.2.1", "2001:db8::1", "", "not-an-ip"]),
    }
)

TAMPERINGS = [
    "edit_data",
    "edit_actor",
    "replace_recomputed",
    "delete_middle",
    "delete_last",
    "delete_and_renumber",
    "forge_after_last",
    "forge_in_middle",
    "swap",
    "edit_head",
]


class Rollback(Exception):
    pass


def record(specs):
    factory = RequestFactory()
    for spec in specs:
        request = factory.get("/", REMOTE_ADDR=spec["ip"], HTTP_USER_AGENT=spec["user_agent"])
        log_event(action=spec["action"], data=spec["data"], request=request)


def tamper(kind: str, n: int, draw) -> tuple[str, int]:
    """Apply one tampering to a chain of n events; returns the (kind, seq) verify must report."""
    if kind == "edit_data":
        seq = draw(st.integers(1, n))
        helpers.edit_data(seq, '{"tampered": true}')
        return integrity.MODIFIED, seq
    if kind == "edit_actor":
        seq = draw(st.integers(1, n))
        helpers.edit_column(seq, "actor_label", "mallory@exemple.test")
        return integrity.MODIFIED, seq
    if kind == "replace_recomputed":
        seq = draw(st.integers(1, n))
        helpers.replace_with_recomputed_hash(seq, "mallory@exemple.test")
        return (integrity.MODIFIED, seq) if seq < n else (integrity.HEAD, n)
    if kind == "delete_middle":
        seq = draw(st.integers(1, n - 1))
        helpers.delete_event(seq)
        return integrity.MISSING, seq
    if kind == "delete_last":
        helpers.delete_event(n)
        return integrity.MISSING, n
    if kind == "delete_and_renumber":
        seq = draw(st.integers(1, n - 1))
        helpers.delete_and_renumber(seq)
        return integrity.MISSING, seq
    if kind == "forge_after_last":
        helpers.insert_forged(n + 1, chained=draw(st.booleans()))
        return integrity.INSERTED, n + 1
    if kind == "forge_in_middle":
        seq = draw(st.integers(2, n))
        helpers.insert_forged(seq, chained=draw(st.booleans()))
        return integrity.INSERTED, seq
    if kind == "swap":
        first = draw(st.integers(1, n - 1))
        second = draw(st.integers(first + 1, n))
        helpers.swap_events(first, second)
        return integrity.REORDERED, first
    helpers.edit_head(last_hash="e" * 64)
    return integrity.HEAD, n


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(event_specs, min_size=3, max_size=12), kind=st.sampled_from(TAMPERINGS), data=st.data())
def test_any_single_tampering_is_detected_at_the_right_place(specs, kind, data):
    try:
        with transaction.atomic():
            record(specs)
            intact = verify_chain(batch_size=4)
            assert intact.ok, intact.problem
            assert intact.count == len(specs)
            expected = tamper(kind, len(specs), data.draw)
            result = verify_chain(batch_size=4)
            assert not result.ok, f"{kind} was not detected"
            assert (result.problem.kind, result.problem.seq) == expected
            raise Rollback
    except Rollback:
        pass
