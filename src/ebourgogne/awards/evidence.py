"""Proof of sending and of reading of letters: each is a `LetterEvent` with an RFC 3161 timestamp token.

What is proved, and how (the pattern of the convocations' evidence, meetings/evidence.py):

- The event's canonical JSON (sorted keys, UTF-8, no spaces):
  `{"at": <UTC ISO 8601 with microseconds>, "detail": {...}, "kind": "sent"|"read", "letter": <uid>,
  "sha256": <the letter PDF's SHA-256>}`. For a sending, `detail` holds the recipients' addresses, the
  subject and the link; for a reading, the reader's id and address. `digest` is the JSON's SHA-256 and
  `timestamp_token` the authority's token over it: the token therefore binds the time, the letter's exact
  content (its hash) and the send or read details.
- "Sent" is when the platform issued the letter and handed its e-mail to the mail queue (the letter is on
  the company's page from that instant); "read" is the first opening of the letter's page or PDF by each
  member of the recipient company.
- The row is written first; the embedded authority stamps at once, an external one after the commit, and
  the periodic job `awards.stamp_pending_events` catches up (no event is lost to an unavailable authority).
- `verify_event(event)` rebuilds the JSON from the row, checks the digest and the token
  (`timestamping.authority.verify`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.awards.models import Letter, LetterEvent
from ebourgogne.core import clock
from ebourgogne.timestamping import authority as tsa

logger = logging.getLogger("ebourgogne.awards.evidence")


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def canonical_payload(event: LetterEvent, letter: Letter | None = None) -> dict[str, Any]:
    letter = letter or event.letter
    return {
        "at": event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "detail": event.detail or {},
        "kind": event.kind,
        "letter": str(letter.uid),
        "sha256": letter.sha256,
    }


def record(letter: Letter, kind: str, detail: dict[str, Any]) -> LetterEvent:
    event = LetterEvent(letter=letter, kind=kind, at=clock.now(), detail=detail, digest="")
    event.digest = hashlib.sha256(canonical(canonical_payload(event, letter))).hexdigest()
    event.save()
    try:
        authority = tsa.get_authority()
    except Exception:
        logger.exception("Letter event %s: the timestamp authority could not be loaded", event.pk)
        return event
    if isinstance(authority, tsa.EmbeddedAuthority):
        store_token(event, authority)
    else:
        event_id = event.pk
        transaction.on_commit(lambda: _stamp_by_id(event_id))
    return event


def _stamp_by_id(event_id: int) -> None:
    try:
        with scopes_disabled():
            event = LetterEvent.objects.filter(pk=event_id, timestamp_token__isnull=True).first()
        if event is not None:
            store_token(event)
    except Exception:
        logger.exception("Letter event %s: timestamping after commit failed", event_id)


def store_token(event: LetterEvent, authority: tsa.Authority | None = None) -> bool:
    try:
        authority = authority or tsa.get_authority()
        token = authority.timestamp(bytes.fromhex(event.digest))
        gen_time = tsa.token_info(token)["gen_time"].native
    except tsa.TimestampError as error:
        logger.warning("Letter event %s: no timestamp token yet (%s)", event.pk, error)
        return False
    except Exception:
        logger.exception("Letter event %s: timestamping failed", event.pk)
        return False
    event.timestamp_token = token
    event.timestamped_at = gen_time
    with scopes_disabled():
        LetterEvent.objects.filter(pk=event.pk, timestamp_token__isnull=True).update(
            timestamp_token=token, timestamped_at=gen_time
        )
    return True


def stamp_pending(limit: int = 500) -> int:
    stamped = 0
    with scopes_disabled():
        pending = list(
            LetterEvent.objects.filter(timestamp_token__isnull=True).select_related("letter").order_by("id")[:limit]
        )
    for event in pending:
        if not store_token(event):
            break
        stamped += 1
    return stamped


def verify_event(event: LetterEvent) -> tsa.Verified:
    """Digest rebuilt from the row, then the token over it; raises `TimestampInvalid` with the reason."""
    expected = hashlib.sha256(canonical(canonical_payload(event))).hexdigest()
    if expected != event.digest:
        raise tsa.TimestampInvalid(_("Le contenu de la trace ne correspond plus à son empreinte."))
    if not event.timestamp_token:
        raise tsa.TimestampInvalid(_("La trace n'a pas encore de jeton d'horodatage."))
    return tsa.verify(bytes(event.timestamp_token), bytes.fromhex(event.digest))


def first_reading(letter: Letter) -> datetime | None:
    return letter.first_read_at
