"""Evidence of convocations: every send, delivery attempt, delivery, delivery failure, opening of the secure
link, acknowledgement and answer is a `ConvocationEvent`, with its time and an RFC 3161 timestamp token.

What is proved, and how:

- The event's canonical JSON (sorted keys, UTF-8, no spaces, the same writer as the bid receipts):
  `{"at": <time, UTC, ISO 8601 with microseconds>, "convocation": <id>, "detail": {...}, "email":
  <the member's address at that time>, "kind": <kind>, "meeting": <the meeting's iCalendar UID>}`.
  `digest` is its SHA-256; `timestamp_token` the DER TimeStampToken over that digest from the platform's
  authority (`ebourgogne.timestamping.authority`, the one of the bid receipts). The address is kept in
  the row's `detail` (key "email") so that the JSON can be rebuilt from the row alone, even after the
  member changes address: `canonical_payload(event)` rebuilds it and `verify_event(event)` checks digest
  and token.
- The time is `core.clock.now()` when the event is recorded; the token's genTime is the authority's
  (the same instant with the embedded authority, a little later with an external one).
- No event is lost because of the authority: the row is written first. The embedded authority signs at
  once (milliseconds, in the caller's transaction); an external one is asked after the commit, and if it
  does not answer the periodic job `meetings.stamp_pending_events` (meetings/tasks.py) asks again every
  five minutes until every event has its token, like the receipts' sweep.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ebourgogne.core import clock
from ebourgogne.meetings.models import Convocation, ConvocationEvent
from ebourgogne.timestamping import authority as tsa

logger = logging.getLogger("ebourgogne.meetings.evidence")


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_payload(event: ConvocationEvent, *, meeting_uid: str | None = None) -> dict[str, Any]:
    detail = dict(event.detail or {})
    email = detail.pop("email", "")
    uid = meeting_uid or event.convocation.meeting.uid
    return {
        "at": iso_utc(event.at),
        "convocation": event.convocation_id,
        "detail": detail,
        "email": email,
        "kind": event.kind,
        "meeting": uid,
    }


def record(
    convocation: Convocation, kind: str, detail: dict[str, Any] | None = None, *, stamp: bool = True
) -> ConvocationEvent:
    """Record one event of `convocation` now, with its digest; timestamp it (now with the embedded
    authority, after the commit otherwise; the periodic job catches up with any failure)."""
    at = clock.now()  # kept to the microsecond by SQLite and PostgreSQL: the digest is rebuilt identically
    full_detail = {**(detail or {}), "email": convocation.user.email}
    event = ConvocationEvent(convocation=convocation, kind=kind, at=at, detail=full_detail, digest="")
    event.digest = hashlib.sha256(canonical(canonical_payload(event, meeting_uid=convocation.meeting.uid))).hexdigest()
    event.save()
    if stamp:
        _stamp_soon(event)
    return event


def _stamp_soon(event: ConvocationEvent) -> None:
    try:
        authority = tsa.get_authority()
    except Exception:  # a misconfigured authority must not lose the event
        logger.exception("Convocation event %s: the timestamp authority could not be loaded", event.pk)
        return
    if isinstance(authority, tsa.EmbeddedAuthority):
        store_token(event, authority)
    else:
        # Never wait for a remote server inside the caller's transaction.
        event_id = event.pk
        transaction.on_commit(lambda: _stamp_by_id(event_id))


def _stamp_by_id(event_id: int) -> None:
    try:
        event = ConvocationEvent.objects.filter(pk=event_id, timestamp_token__isnull=True).first()
        if event is not None:
            store_token(event)
    except Exception:  # after the commit nothing may fail the caller: the periodic job catches up
        logger.exception("Convocation event %s: timestamping after commit failed", event_id)


def store_token(event: ConvocationEvent, authority: tsa.Authority | None = None) -> bool:
    """Ask for the event's token; True when stored. The event stands either way."""
    try:
        authority = authority or tsa.get_authority()
        token = authority.timestamp(bytes.fromhex(event.digest))
        gen_time = tsa.token_info(token)["gen_time"].native
    except tsa.TimestampError as error:
        logger.warning("Convocation event %s: no timestamp token yet (%s)", event.pk, error)
        return False
    except Exception:
        logger.exception("Convocation event %s: timestamping failed", event.pk)
        return False
    event.timestamp_token = token
    event.timestamped_at = gen_time
    ConvocationEvent.objects.filter(pk=event.pk, timestamp_token__isnull=True).update(
        timestamp_token=token, timestamped_at=gen_time
    )
    return True


def stamp_pending(limit: int = 500) -> int:
    """Timestamp the events still without a token, oldest first; the number stamped. Stops at the first
    failure (the authority is still down: the next run tries again)."""
    stamped = 0
    pending = ConvocationEvent.objects.filter(timestamp_token__isnull=True).order_by("id")[:limit]
    for event in pending:
        if not store_token(event):
            break
        stamped += 1
    return stamped


def verify_event(event: ConvocationEvent) -> tsa.Verified:
    """Check an event's evidence: the digest is the SHA-256 of the JSON rebuilt from the row, and the token
    timestamps that digest (signature and chain, `timestamping.authority.verify`). Raises
    `timestamping.authority.TimestampInvalid` with the reason."""
    expected = hashlib.sha256(canonical(canonical_payload(event))).hexdigest()
    if expected != event.digest:
        raise tsa.TimestampInvalid(_("Le contenu de la trace ne correspond plus à son empreinte."))
    if not event.timestamp_token:
        raise tsa.TimestampInvalid(_("La trace n'a pas encore de jeton d'horodatage."))
    return tsa.verify(bytes(event.timestamp_token), bytes.fromhex(event.digest))
