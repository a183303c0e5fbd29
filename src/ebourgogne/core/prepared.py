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
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
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
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        if not converters:
            return [tuple(row) for row in fetched]
        return [tuple(row) for row in compiler.apply_converters(fetched, converters)]

    def clear(self) -> None:
        self._local = threading.local()


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "DATABASES":
        for query in _all:
            query.clear()


setting_changed.connect(_settings_changed, dispatch_uid="ebourgogne_prepared_settings_changed")
