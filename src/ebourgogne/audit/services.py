"""Writing to the audit trail.

`log_event` is the one way in: it appends one event, chained to the one before, inside the caller's
transaction (so an action that rolls back leaves no event, and an event never exists without its action).

Appends are serialised on the chain head row (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite every
transaction already holds the write lock from its start). The lock is held until the caller's
transaction ends, so log the event near the end of a long transaction rather than at its start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, connections, transaction

from ebourgogne.audit.chain import GENESIS_HASH, clean_text, compute_hash, normalise_data, normalise_ip
from ebourgogne.audit.models import AuditChainHead, AuditEvent
from ebourgogne.config import env_bool
from ebourgogne.core import clock

ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
USER_AGENT_MAX = AuditEvent._meta.get_field("user_agent").max_length


class ChainForkError(RuntimeError):
    """The chain head moved while an event was being appended (should never happen: the head is locked)."""


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", True):
        return None, ""
    label = getattr(actor, "email", "") or str(actor)
    return actor.pk, clean_text(label, 254)


def _organisation_fields(organisation: Any) -> tuple[int | None, str]:
    if organisation is None:
        return None, ""
    return organisation.pk, clean_text(str(organisation), 255)


def _object_fields(obj: Any) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    meta = getattr(obj, "_meta", None)
    object_type = meta.label_lower if meta is not None else type(obj).__name__.lower()
    pk = getattr(obj, "pk", None)
    return clean_text(object_type, 100), clean_text("" if pk is None else pk, 64), clean_text(str(obj), 255)


def client_ip(request: Any) -> str:
    """The client's address: the socket's, or behind our reverse proxy the last X-Forwarded-For entry
    (the one our proxy appended; earlier entries are whatever the client chose to send)."""
    if request is None:
        return ""
    meta = getattr(request, "META", {})
    if env_bool("EBOURGOGNE_BEHIND_PROXY"):
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return normalise_ip(forwarded[-1])
    return normalise_ip(meta.get("REMOTE_ADDR", ""))


def _request_fields(request: Any) -> tuple[str, str]:
    if request is None:
        return "", ""
    user_agent = clean_text(getattr(request, "META", {}).get("HTTP_USER_AGENT", ""), USER_AGENT_MAX)
    return client_ip(request), user_agent


def _locked_head() -> AuditChainHead:
    """The chain head, locked for this transaction; created on first use (and after a flush)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash", "occurred_at").first()
    created = False
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(
                pk=1,
                last_seq=last["seq"] if last else 0,
                last_hash=last["hash"] if last else GENESIS_HASH,
                last_occurred_at=last["occurred_at"] if last else None,
            )
            created = True
    except IntegrityError:
        pass  # another transaction created it first; wait for its lock below
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    if created and last is not None:
        # The head row was missing while events existed: record it, so that it shows in the log.
        _append(head, {"action": "audit.chain.head_restored", "data": {"last_seq": last["seq"]}})
    return head


def _not_before(head: AuditChainHead, instant: Any) -> Any:
    """`instant`, or the time of the previous event if the clock went back: times follow the numbers,
    which lets the journal turn a date range into a range of numbers (see selectors)."""
    instant = instant or clock.now()
    if head.last_occurred_at is not None and instant < head.last_occurred_at:
        return head.last_occurred_at
    return instant


def _append(head: AuditChainHead, fields: dict[str, Any]) -> AuditEvent:
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=_not_before(head, fields.get("occurred_at")),
        actor_id=fields.get("actor_id"),
        actor_label=fields.get("actor_label", ""),
        organisation_id=fields.get("organisation_id"),
        organisation_label=fields.get("organisation_label", ""),
        action=fields["action"],
        object_type=fields.get("object_type", ""),
        object_id=fields.get("object_id", ""),
        object_label=fields.get("object_label", ""),
        data=normalise_data(fields.get("data")),
        ip_address=fields.get("ip_address", ""),
        user_agent=fields.get("user_agent", ""),
        prev_hash=head.last_hash,
    )
    event.hash = compute_hash(event.hashed_fields())
    event._chained = True  # type: ignore[attr-defined]
    connection = connections[AuditEvent.objects.db]
    if connection.vendor == "postgresql":
        moved = _insert_and_move_head(connection, head, event)
    else:
        event.save()
        moved = AuditChainHead.objects.filter(pk=1, last_seq=head.last_seq, last_hash=head.last_hash).update(
            last_seq=event.seq, last_hash=event.hash, last_occurred_at=event.occurred_at
        )
    if moved != 1:
        raise ChainForkError("The audit chain head moved during an append.")
    head.last_seq, head.last_hash, head.last_occurred_at = event.seq, event.hash, event.occurred_at
    return event


def _insert_and_move_head(connection: Any, head: AuditChainHead, event: AuditEvent) -> int:
    """PostgreSQL: move the head and insert the event in one statement (one round trip fewer while the
    head is locked, which every append of the platform waits for). The event is inserted only if the head
    was still where `head` says; the number of events inserted (1, or 0: the chain would fork)."""
    fields = AuditEvent._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(f"%s::{field.db_type(connection)}" for field in fields)
    head_table = quote(AuditChainHead._meta.db_table)
    # Only the models' own table and column names are interpolated; every value is a parameter.
    sql = (
        f"WITH moved AS (UPDATE {head_table} SET last_seq = %s, last_hash = %s, last_occurred_at = %s "  # noqa: S608
        f"WHERE id = 1 AND last_seq = %s AND last_hash = %s RETURNING id) "
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) SELECT {values} FROM moved"
    )
    params = [event.seq, event.hash, event.occurred_at, head.last_seq, head.last_hash]
    params += [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.rowcount
    event._state.adding, event._state.db = False, connection.alias  # as after save(): stored, never saved again
    return inserted


def _event_fields(
    *,
    action: str,
    actor: Any = None,
    organisation: Any = None,
    obj: Any = None,
    data: Mapping[str, Any] | None = None,
    request: Any = None,
    occurred_at: Any = None,
) -> dict[str, Any]:
    if not isinstance(action, str) or len(action) > 100 or not ACTION_PATTERN.match(action):
        raise ValueError(f"Invalid audit action code {action!r}: expected a dotted code like 'account.login'.")
    actor_id, actor_label = _actor_fields(actor)
    organisation_id, organisation_label = _organisation_fields(organisation)
    object_type, object_id, object_label = _object_fields(obj)
    ip_address, user_agent = _request_fields(request)
    return {
        "action": action,
        "occurred_at": occurred_at,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "organisation_id": organisation_id,
        "organisation_label": organisation_label,
        "object_type": object_type,
        "object_id": object_id,
        "object_label": object_label,
        "data": dict(data) if data is not None else None,
        "ip_address": ip_address,
        "user_agent": user_agent,
    }


def log_event(
    *,
    action: str,
    actor: Any | None = None,
    organisation: Any | None = None,
    obj: Any | None = None,
    data: dict[str, Any] | None = None,
    request: Any | None = None,
) -> AuditEvent:
    """Append one event to the audit trail, in the caller's transaction.

    action: namespaced code, e.g. "org.member.invited"; actor: the user (None for the system);
    organisation: the tenant the event belongs to; obj: the model instance acted upon (its label is
    str(obj) at this moment); data: details (keys that look secret are masked, at any depth);
    request: to record the IP address and user agent.
    """
    fields = _event_fields(action=action, actor=actor, organisation=organisation, obj=obj, data=data, request=request)
    # No savepoint inside the caller's transaction: its release would be one more round trip while the
    # head is locked. An error here fails the caller's whole transaction, as it must (no action without
    # its event).
    with transaction.atomic(savepoint=False):
        return _append(_locked_head(), fields)


def log_events(entries: Iterable[Mapping[str, Any]], *, batch_size: int = 1000) -> int:
    """Append many events in one transaction (seeding, imports, benchmarks): one head lock, bulk inserts.

    Each entry takes the keyword arguments of `log_event`, plus an optional `occurred_at` (an event
    dated before the previous one is dated like the previous one: times never go back).
    Returns the number of events appended.
    """
    count = 0
    with transaction.atomic():
        head = _locked_head()
        first_seq, first_hash = head.last_seq, head.last_hash
        seq, prev_hash = first_seq, first_hash
        last_occurred_at = head.last_occurred_at
        batch: list[AuditEvent] = []
        for entry in entries:
            fields = _event_fields(**entry)
            seq += 1
            occurred_at = fields["occurred_at"] or clock.now()
            if last_occurred_at is not None and occurred_at < last_occurred_at:
                occurred_at = last_occurred_at
            last_occurred_at = occurred_at
            event = AuditEvent(
                seq=seq,
                occurred_at=occurred_at,
                actor_id=fields["actor_id"],
                actor_label=fields["actor_label"],
                organisation_id=fields["organisation_id"],
                organisation_label=fields["organisation_label"],
                action=fields["action"],
                object_type=fields["object_type"],
                object_id=fields["object_id"],
                object_label=fields["object_label"],
                data=normalise_data(fields["data"]),
                ip_address=fields["ip_address"],
                user_agent=fields["user_agent"],
                prev_hash=prev_hash,
            )
            event.hash = prev_hash = compute_hash(event.hashed_fields())
            event._chained = True  # type: ignore[attr-defined]
            batch.append(event)
            if len(batch) >= batch_size:
                AuditEvent.objects.bulk_create(batch)
                count += len(batch)
                batch = []
        if batch:
            AuditEvent.objects.bulk_create(batch)
            count += len(batch)
        if count:
            moved = AuditChainHead.objects.filter(pk=1, last_seq=first_seq, last_hash=first_hash).update(
                last_seq=seq, last_hash=prev_hash, last_occurred_at=last_occurred_at
            )
            if moved != 1:
                raise ChainForkError("The audit chain head moved during an append.")
    return count
