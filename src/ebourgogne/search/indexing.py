"""Writes to the search index. Called by the receivers of the consultations' signals (in the service's
transaction, so the index changes with the consultation or not at all), by the seed, and by
`ebourgogne search_index --rebuild` (after an upgrade, or to repair).

A consultation is in the index exactly when it is public (PUBLIC_STATES, with its dates): indexing a
draft removes it instead.
"""

from __future__ import annotations

from django.db import connection, transaction

from ebourgogne.core import clock
from ebourgogne.search.backends import backend


def _bump(cursor) -> None:
    """A new version of the index (the stamp of the kept results pages): same transaction as the write."""
    cursor.execute(
        "INSERT INTO search_indexversion (id, version) VALUES (1, 1) "
        "ON CONFLICT (id) DO UPDATE SET version = search_indexversion.version + 1"
    )


def _now_param():
    return connection.ops.adapt_datetimefield_value(clock.now())


def index_consultation(consultation_id: int) -> bool:
    """(Re)index one consultation from the database; True if it is now in the index."""
    engine = backend()
    with transaction.atomic(), connection.cursor() as cursor:
        engine.remove(cursor, "consultation_id = %s", (consultation_id,))
        _bump(cursor)
        return engine.index(cursor, "c.id = %s", (consultation_id,), _now_param()) > 0


def remove_consultation(consultation_id: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        backend().remove(cursor, "consultation_id = %s", (consultation_id,))
        _bump(cursor)


def index_from(first_id: int) -> int:
    """(Re)index every consultation whose id is at least `first_id` (the seed's new ones); returns how many
    are in the index afterwards among them."""
    engine = backend()
    with transaction.atomic(), connection.cursor() as cursor:
        engine.remove(cursor, "consultation_id >= %s", (first_id,))
        _bump(cursor)
        return engine.index(cursor, "c.id >= %s", (first_id,), _now_param())


def rebuild() -> int:
    """Empty the index and index every public consultation again; returns how many."""
    engine = backend()
    with transaction.atomic(), connection.cursor() as cursor:
        engine.clear(cursor)
        _bump(cursor)
        count = engine.index(cursor, "1 = 1", (), _now_param())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_searchentry")
    return count
