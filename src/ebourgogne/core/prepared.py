"""Queries that every signed-in request runs, compiled by the ORM once instead of on each call.

Turning a queryset into SQL (filters, joins, lookups, compiler) costs Django about 0.1 ms; running the
SQL of a primary-key lookup costs a few hundredths of that. For the handful of reads that every request
of a signed-in person makes, `PreparedQuery` lets the ORM write the SQL once per database connection
alias, with placeholder values for the arguments, then runs that SQL with the real arguments and passes
the rows through the same converters as the ORM (booleans, dates...).

    members_of = PreparedQuery(
        lambda user_id: Membership.objects.filter(user_id=user_id).values_list("organisation_id", "role")
    )
    members_of.rows(user.pk)  # [(12, "company_member"), ...]

Rules: the builder returns a queryset that ends in `values_list()` (plain rows), each argument is an
integer or a string (`kinds`), appears exactly once among the query's parameters and is used as given (no
conversion by the field), and the queryset is built from the arguments only (no clock, no setting read).
The result is always the same as evaluating the builder's queryset (tests compare them).

On PostgreSQL the SQL is also prepared by the server, once per connection (psycopg's protocol-level
prepared statements, for these queries only: Django's own queries are not prepared): PostgreSQL plans a
statement each time it receives it as text, and for the joined read of the session and the person
planning cost about 0.3 ms of the database server's CPU against 0.05 ms for running it. Behind a pooler
in transaction mode this needs one that keeps prepared statements (PgBouncer 1.21 or later with
`max_prepared_statements`).

And there the read of a request's first statement is its connection's health check: with
`CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before the first query of each request to find a
connection the server has dropped. When that first query is one of these reads (outside any
transaction, reading only), it is sent at once instead; if it fails because the connection is dead, the
connection is closed and the read is run once more on a new one. One round trip less per request, the
same outcome: the request never sees the dead connection.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable

# Placeholders that no real argument can equal: they are found back among the compiled parameters.
_PLACEHOLDERS = {
    int: (-8_146_391_277_501, -8_146_391_277_502, -8_146_391_277_503),
    str: tuple(f"prepared-{secrets.token_hex(8)}-{n}" for n in range(3)),
}
MAX_ARGUMENTS = 3

_all: list[PreparedQuery] = []


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], *, kinds: tuple[type, ...] = (int,)) -> None:
        if not 1 <= len(kinds) <= MAX_ARGUMENTS or any(kind not in _PLACEHOLDERS for kind in kinds):
            raise ValueError(f"PreparedQuery takes 1 to {MAX_ARGUMENTS} arguments, each int or str")
        self._build = build
        self._arguments = len(kinds)
        self._placeholders = tuple(_PLACEHOLDERS[kind][index] for index, kind in enumerate(kinds))
        # Per thread, as Django's connections are: the compiler keeps the connection it was made for.
        self._local = threading.local()
        _all.append(self)

    def queryset(self, *args: Any) -> QuerySet:
        """The queryset itself, for the same arguments (what the prepared SQL stands for)."""
        return self._build(*args)

    def _compile(self, alias: str) -> tuple[str, tuple, list[int], Any, dict]:
        compiled = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = self._local.compiled = {}
        connection = connections[alias]
        found = compiled.get(alias)
        if found is not None and found[3].connection is connection:
            return found
        placeholders = self._placeholders
        queryset = self._build(*placeholders)
        if queryset._iterable_class is not ValuesListIterable or queryset._fields is None:
            raise TypeError("PreparedQuery needs a queryset ending in values_list()")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        positions = []
        for placeholder in placeholders:
            where = [index for index, value in enumerate(params) if value == placeholder]
            if len(where) != 1:
                raise TypeError("each argument of a PreparedQuery must appear once among its parameters")
            positions.append(where[0])
        fields = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise TypeError("PreparedQuery does not read composite primary keys")
        # What results_iter() would work out on each call, worked out once.
        converters = compiler.get_converters(fields)
        found = compiled[alias] = (sql, tuple(params), positions, compiler, converters)
        return found

    def rows(self, *args: Any, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
        """The rows of the query for `args`, as `list(queryset.values_list(...))` would give them."""
        if len(args) != self._arguments:
            raise TypeError(f"expected {self._arguments} arguments, got {len(args)}")
        sql, template, positions, compiler, converters = self._compile(using)
        params = list(template)
        for position, value in zip(positions, args, strict=True):
            params[position] = value
        connection = connections[using]
        if connection.vendor == "postgresql" and not connection.execute_wrappers:
            fetched = _postgresql_rows(connection, sql, params)
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                fetched = cursor.fetchall()
        if not converters:
            return [tuple(row) for row in fetched]
        return [tuple(row) for row in compiler.apply_converters(fetched, converters)]

    def clear(self) -> None:
        self._local = threading.local()


def sql_rows(sql: str, params: list | tuple, *, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """The rows of a fixed, hand-written read (`sql` a constant, `params` the only values; no converters
    applied: what a cursor returns), on PostgreSQL prepared by the server and standing as the request's
    health check as `PreparedQuery.rows` does. For a read every request of a page makes, too simple for the
    ORM to be worth it (the search index's stamp)."""
    connection = connections[using]
    if connection.vendor == "postgresql" and not connection.execute_wrappers:
        return _postgresql_rows(connection, sql, list(params))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# psycopg prepares a statement when asked only if the connection's prepare_threshold is set; Django leaves
# it unset (nothing prepared automatically). It is set for the duration of our own statements, so high that
# nothing else is ever prepared automatically.
_ONLY_WHEN_ASKED = 2**31


def _postgresql_rows(connection, sql: str, params: list) -> list[tuple]:
    first_of_request = (
        connection.health_check_enabled
        and not connection.health_check_done
        and connection.connection is not None
        and not connection.in_atomic_block
    )
    if first_of_request:
        # This read is the health check: run it; a dead connection is replaced and the read run again.
        connection.health_check_done = True
        try:
            return _postgresql_execute(connection, sql, params)
        except (OperationalError, InterfaceError):
            if connection.is_usable():
                raise  # the statement failed, not the connection
            connection.close()
    return _postgresql_execute(connection, sql, params)


# The SQL of each statement in PostgreSQL's own form ($1, $2...), worked out once. psycopg converts Django's
# %s placeholders on every execution, and keeps the result only for statements under 4 kB: the joined reads
# here are longer (their columns), and converting them again cost a quarter of the client's time of a read.
_NUMBERED: dict[str, bytes] = {}
_PLACEHOLDER = re.compile(r"%([s%])")


def _numbered(sql: str, count: int) -> bytes:
    found = _NUMBERED.get(sql)
    if found is None:
        numbers = itertools.count(1)
        converted = _PLACEHOLDER.sub(lambda match: f"${next(numbers)}" if match[1] == "s" else "%", sql)
        if next(numbers) != count + 1:
            raise ValueError("the statement's placeholders and its parameters do not match")
        found = _NUMBERED[sql] = converted.encode()
    return found


def _postgresql_execute(connection, sql: str, params: list) -> list[tuple]:
    """Run `sql` as a server-side prepared statement, with Django's checks around it as its cursors do."""
    import psycopg

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    raw = connection.connection
    started = time.monotonic()
    with connection.wrap_database_errors:
        threshold = raw.prepare_threshold
        if threshold is None:
            raw.prepare_threshold = _ONLY_WHEN_ASKED
        try:
            with psycopg.RawCursor(raw) as cursor:
                cursor.execute(_numbered(sql, len(params)), params, prepare=True)
                rows = cursor.fetchall()
        finally:
            raw.prepare_threshold = threshold
    if connection.queries_logged:
        connection.queries_log.append({"sql": f"{sql} -- {params!r}", "time": f"{time.monotonic() - started:.3f}"})
    return rows


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "DATABASES":
        for query in _all:
            query.clear()


setting_changed.connect(_settings_changed, dispatch_uid="ebourgogne_prepared_settings_changed")
