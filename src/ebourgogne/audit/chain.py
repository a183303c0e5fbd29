"""The hash chain of the audit trail: what is hashed, how, and how secrets are kept out of it.

Each event's hash is the SHA-256 of a canonical JSON document holding every stored field of the event
and the hash of the event before it (`prev_hash`). Changing any field of any event, removing one or
slipping one in breaks the chain from that point; `ebourgogne audit verify` recomputes it.

The canonical form must give the same bytes from the values written and from the values read back,
on SQLite and on PostgreSQL. So `data` is normalised before it is stored (see `normalise_data`), and
the hash is always computed from normalised values.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import ipaddress
import json
import math
import re
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

# The `prev_hash` of the first event.
GENESIS_HASH = "0" * 64

# Any key containing one of these words (case-insensitive) has its value replaced by MASK, at any depth.
SECRET_KEY_PATTERN = re.compile(
    r"password|passwd|token|secret|code|otp|key|recovery|credential|authorization|cookie|csrf", re.IGNORECASE
)
MASK = "***"

# The fields that go into an event's hash, in the order of the model. `hash` itself is not one of them.
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "organisation_id",
    "organisation_label",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "data",
    "ip_address",
    "user_agent",
    "prev_hash",
)

_NUL = "\x00"


def clean_text(value: Any, max_length: int | None = None) -> str:
    """A string both databases store unchanged: no NUL character, no lone surrogate, at most max_length."""
    if value is None:
        return ""
    text = str(value)
    if _NUL in text:
        text = text.replace(_NUL, "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    if max_length is not None and len(text) > max_length:
        text = text[:max_length]
    return text


def mask_secrets(value: Any) -> Any:
    """A copy of `value` where every dictionary entry whose key looks secret is replaced by MASK."""
    if isinstance(value, dict):
        return {
            str(key): (MASK if SECRET_KEY_PATTERN.search(str(key)) else mask_secrets(item))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_secrets(item) for item in value]
    return value


class _Encoder(DjangoJSONEncoder):
    """Dates, decimals, UUIDs as DjangoJSONEncoder does; anything else by its text."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {clean_text(key): _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        # PostgreSQL's jsonb refuses NaN and reads 2.0 or 1.5e300 back as the integers 2 and 15 followed by
        # 299 zeros (the decimal it was written as): store what both databases give back.
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            return int(decimal.Decimal(repr(value)))
    return value


def normalise_data(data: Any) -> dict[str, Any]:
    """The JSON document that is stored and hashed for `data`: secrets masked, JSON types only."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        data = {"value": data}
    masked = mask_secrets(data)
    as_json = json.loads(json.dumps(masked, cls=_Encoder, allow_nan=True))
    return _normalise(as_json)


def normalise_ip(value: Any) -> str:
    """The compressed text form of an IP address, or "" when it is not one."""
    if not value:
        return ""
    try:
        return ipaddress.ip_address(str(value).strip()).compressed
    except ValueError:
        return ""


def format_instant(value: dt.datetime) -> str:
    """An aware datetime in UTC, to the microsecond, as both databases keep it."""
    if value.tzinfo is None:
        raise ValueError("audit events need aware datetimes")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """The canonical JSON document of one event (the HASHED_FIELDS of `fields`).

    `data` must already be normalised (`normalise_data`): it is hashed as stored and as read back.
    """
    document = {name: fields[name] for name in HASHED_FIELDS}
    document["occurred_at"] = format_instant(document["occurred_at"])
    if document["data"] is None:
        document["data"] = {}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def compute_hash(fields: dict[str, Any]) -> str:
    """The SHA-256 (hex) of the canonical document of one event."""
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()
