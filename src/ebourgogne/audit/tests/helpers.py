# ruff: noqa: S608 -- raw SQL on purpose: these helpers tamper with the tables as a DBA could.
"""Helpers of the audit tests: a small chain of events, and raw SQL behind the application's back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

from ebourgogne.audit.chain import compute_hash
from ebourgogne.audit.models import AuditEvent
from ebourgogne.audit.services import log_event

EVENT_TABLE = "audit_auditevent"
HEAD_TABLE = "audit_auditchainhead"


def make_events(count: int, *, organisation: Any = None, actor: Any = None) -> list[AuditEvent]:
    return [
        log_event(
            action="test.event.recorded",
            actor=actor,
            organisation=organisation,
            data={"n": n, "label": f"événement {n}", "nested": {"values": [n, n * 2]}},
        )
        for n in range(count)
    ]


@contextmanager
def behind_the_back() -> Iterator[Any]:
    """A raw cursor, as a DBA would use: on PostgreSQL the append-only triggers are disabled first,
    exactly as docs/guide/journal.md tells a DBA to do (ALTER TABLE ... DISABLE TRIGGER)."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"ALTER TABLE {EVENT_TABLE} DISABLE TRIGGER audit_event_append_only")
            cursor.execute(f"ALTER TABLE {HEAD_TABLE} DISABLE TRIGGER audit_chain_head_keep")
        try:
            yield cursor
        finally:
            if postgres:
                cursor.execute(f"ALTER TABLE {EVENT_TABLE} ENABLE TRIGGER audit_event_append_only")
                cursor.execute(f"ALTER TABLE {HEAD_TABLE} ENABLE TRIGGER audit_chain_head_keep")


def row_fields(seq: int) -> dict[str, Any]:
    """The stored fields of one event, read as verify reads them."""
    return AuditEvent.objects.get(seq=seq).hashed_fields()


# --- Tampering, each as a DBA with write access could do it -----------------------------------------


def edit_data(seq: int, data_json: str = '{"n": 999}') -> None:
    with behind_the_back() as cursor:
        cursor.execute(f"UPDATE {EVENT_TABLE} SET data = '{data_json}' WHERE seq = %s", [seq])


def edit_column(seq: int, column: str, value: Any) -> None:
    with behind_the_back() as cursor:
        cursor.execute(f"UPDATE {EVENT_TABLE} SET {column} = %s WHERE seq = %s", [value, seq])


def replace_with_recomputed_hash(seq: int, actor_label: str) -> None:
    """Edit an event and recompute its own hash (but not the chain after it)."""
    fields = row_fields(seq)
    fields["actor_label"] = actor_label
    with behind_the_back() as cursor:
        cursor.execute(
            f"UPDATE {EVENT_TABLE} SET actor_label = %s, hash = %s WHERE seq = %s",
            [actor_label, compute_hash(fields), seq],
        )


def delete_event(seq: int) -> None:
    with behind_the_back() as cursor:
        cursor.execute(f"DELETE FROM {EVENT_TABLE} WHERE seq = %s", [seq])


def _renumber(cursor: Any, where: str, shift: int) -> None:
    # Two steps through negative numbers: the primary key is checked row by row.
    cursor.execute(f"UPDATE {EVENT_TABLE} SET seq = -(seq + %s) WHERE {where}", [shift])
    cursor.execute(f"UPDATE {EVENT_TABLE} SET seq = -seq WHERE seq < 0")


def swap_events(first: int, second: int) -> None:
    with behind_the_back() as cursor:
        cursor.execute(f"UPDATE {EVENT_TABLE} SET seq = -1 WHERE seq = %s", [first])
        cursor.execute(f"UPDATE {EVENT_TABLE} SET seq = %s WHERE seq = %s", [first, second])
        cursor.execute(f"UPDATE {EVENT_TABLE} SET seq = %s WHERE seq = -1", [second])


def delete_and_renumber(seq: int) -> None:
    with behind_the_back() as cursor:
        cursor.execute(f"DELETE FROM {EVENT_TABLE} WHERE seq = %s", [seq])
        _renumber(cursor, f"seq > {int(seq)}", -1)


def insert_forged(seq: int, *, chained: bool = True, action: str = "test.event.forged") -> None:
    """Insert a forged event at `seq`, copied from the event before it with another action.

    chained=True: the forger knows the algorithm: prev_hash and hash are right for the position.
    When `seq` is taken, the events from `seq` on are first renumbered one up.
    """
    base_seq = max(seq - 1, 1)
    base = row_fields(base_seq)
    forged = dict(base, seq=seq, action=action)
    forged["prev_hash"] = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else base["prev_hash"]
    forged_hash = compute_hash(forged) if chained else "f" * 64
    columns = [name for name in forged if name not in ("seq", "action", "prev_hash")]
    source_seq = base_seq
    with behind_the_back() as cursor:
        if AuditEvent.objects.filter(seq=seq).exists():
            _renumber(cursor, f"seq >= {int(seq)}", 1)
            if base_seq >= seq:
                source_seq = base_seq + 1
        cursor.execute(
            f"INSERT INTO {EVENT_TABLE} (seq, action, prev_hash, hash, {', '.join(columns)}) "
            f"SELECT %s, %s, %s, %s, {', '.join(columns)} FROM {EVENT_TABLE} WHERE seq = %s",
            [seq, action, forged["prev_hash"], forged_hash, source_seq],
        )


def edit_head(*, last_seq: int | None = None, last_hash: str | None = None) -> None:
    with behind_the_back() as cursor:
        if last_seq is not None:
            cursor.execute(f"UPDATE {HEAD_TABLE} SET last_seq = %s", [last_seq])
        if last_hash is not None:
            cursor.execute(f"UPDATE {HEAD_TABLE} SET last_hash = %s", [last_hash])


def delete_head() -> None:
    with behind_the_back() as cursor:
        cursor.execute(f"DELETE FROM {HEAD_TABLE}")
