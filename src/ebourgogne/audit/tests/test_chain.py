"""What goes into an event's hash, and how secrets are kept out of the log."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest

from ebourgogne.audit.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    MASK,
    clean_text,
    compute_hash,
    mask_secrets,
    normalise_data,
    normalise_ip,
)


def fields(**changes):
    base = {
        "seq": 3,
        "occurred_at": dt.datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC),
        "actor_id": 7,
        "actor_label": "alice@beaune.test",
        "organisation_id": 2,
        "organisation_label": "Commune de Beaune",
        "action": "org.member.invited",
        "object_type": "organisations.invitation",
        "object_id": "12",
        "object_label": "bruno@beaune.test → Commune de Beaune",
        "data": {"role": "buyer_agent"},
        "ip_address": "192.0.2.1",
        "user_agent": "Firefox",
        "prev_hash": GENESIS_HASH,
    }
    base.update(changes)
    return base


def test_masks_secret_keys_at_any_depth():
    data = {
        "email": "alice@beaune.test",
        "password": "hunter2",
        "NewPassword": "x",
        "api_token": "t",
        "client_secret": "s",
        "totp_code": "123456",
        "otp": "1",
        "signing_key": "k",
        "recovery_codes": ["a", "b"],
        "profile": {"name": "Alice", "credentials": {"user": "a"}, "session_cookie": "c"},
        "history": [{"old_password": "p", "at": "hier"}],
    }
    masked = mask_secrets(data)
    assert masked == {
        "email": "alice@beaune.test",
        "password": MASK,
        "NewPassword": MASK,
        "api_token": MASK,
        "client_secret": MASK,
        "totp_code": MASK,
        "otp": MASK,
        "signing_key": MASK,
        "recovery_codes": MASK,
        "profile": {"name": "Alice", "credentials": MASK, "session_cookie": MASK},
        "history": [{"old_password": MASK, "at": "hier"}],
    }
    assert data["password"] == "hunter2", "the caller's dictionary is left alone"


def test_data_is_normalised_to_what_both_databases_give_back():
    data = normalise_data(
        {
            "when": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "day": dt.date(2025, 1, 2),
            "amount": decimal.Decimal("12.50"),
            "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "ratio": 2.0,
            "huge": 1.5e300,
            "small": 0.25,
            "nan": float("nan"),
            "text": "a\x00b\ud800c",
            1: "one",
            "nested": (1, 2.0),
        }
    )
    assert data == {
        "when": "2025-01-02T03:04:05Z",
        "day": "2025-01-02",
        "amount": "12.50",
        "id": "12345678-1234-5678-1234-567812345678",
        "ratio": 2,
        "huge": 15 * 10**299,
        "small": 0.25,
        "nan": "nan",
        "text": "ab?c",
        "1": "one",
        "nested": [1, 2],
    }
    assert normalise_data(None) == {}
    assert normalise_data(["not", "a", "dict"]) == {"value": ["not", "a", "dict"]}


def test_clean_text_and_ip():
    assert clean_text("x" * 500, 10) == "x" * 10
    assert clean_text(None) == ""
    assert normalise_ip("2001:0db8:0000:0000:0000:0000:0000:0001") == "2001:db8::1"
    assert normalise_ip(" 192.0.2.7 ") == "192.0.2.7"
    assert normalise_ip("not an address") == ""


def test_every_field_is_in_the_hash():
    reference = compute_hash(fields())
    changed = {
        "seq": 4,
        "occurred_at": dt.datetime(2025, 3, 1, 9, 30, 15, 123457, tzinfo=dt.UTC),
        "actor_id": 8,
        "actor_label": "mallory@exemple.test",
        "organisation_id": None,
        "organisation_label": "",
        "action": "org.member.removed",
        "object_type": "accounts.user",
        "object_id": "13",
        "object_label": "autre",
        "data": {"role": "buyer_admin"},
        "ip_address": "192.0.2.2",
        "user_agent": "Chromium",
        "prev_hash": "1" * 64,
    }
    assert set(changed) == set(HASHED_FIELDS)
    for name, value in changed.items():
        assert compute_hash(fields(**{name: value})) != reference, name


def test_hash_does_not_depend_on_key_order_or_time_zone():
    paris = dt.timezone(dt.timedelta(hours=1))
    same_instant = dt.datetime(2025, 3, 1, 10, 30, 15, 123456, tzinfo=paris)
    assert compute_hash(fields(occurred_at=same_instant)) == compute_hash(fields())
    assert compute_hash(fields(data={"b": 1, "a": 2})) == compute_hash(fields(data={"a": 2, "b": 1}))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        compute_hash(fields(occurred_at=dt.datetime(2025, 1, 1)))  # noqa: DTZ001
