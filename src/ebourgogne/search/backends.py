"""The two full-text backends behind one interface (see search/models.py for what each stores).

`backend()` gives the one of the default database. Each knows how to
- write the index of some consultations (`index(cursor, where, params)`: every public consultation
  matching a SQL condition on `c`, the consultations table), in one statement on PostgreSQL, in
  batches stemmed in Python on SQLite;
- remove consultations from the index;
- turn the words of a query (already made safe by search.text.query_words) into a join, a condition
  and a relevance expression.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from ebourgogne.consultations.models import PUBLIC_STATES, Consultation, CpvCode, Lot
from ebourgogne.organisations.models import Organisation
from ebourgogne.search import text
from ebourgogne.search.models import SearchEntry

FTS_TABLE = "search_fts"
BATCH = 2000

T_ENTRY = SearchEntry._meta.db_table
T_CONSULTATION = Consultation._meta.db_table
T_ORGANISATION = Organisation._meta.db_table
T_LOT = Lot._meta.db_table
T_CPV = CpvCode._meta.db_table

_PUBLIC = ", ".join(f"'{state}'" for state in sorted(PUBLIC_STATES))

ENTRY_COLUMNS = (
    "consultation_id, organisation_id, buyer_name, buyer_slug, reference, title, procedure, contract_type, "
    "department, commune, main_cpv, estimated_value, state, published_at, bids_deadline, indexed_at"
)
ENTRY_VALUES = (
    "c.id, c.organisation_id, o.name, o.slug, c.reference, c.title, c.procedure, c.contract_type, "
    "c.department, c.commune, COALESCE(c.main_cpv_id, ''), c.estimated_value, c.state, c.published_at, "
    "c.bids_deadline, %s"
)
ENTRY_FROM = (
    f"FROM {T_CONSULTATION} c JOIN {T_ORGANISATION} o ON o.id = c.organisation_id "
    f"WHERE c.state IN ({_PUBLIC}) AND c.published_at IS NOT NULL AND c.bids_deadline IS NOT NULL "
    # A practice consultation (a permanent one where companies try the bid deposit) is never on the portal.
    "AND NOT c.is_practice"
)


@dataclass(frozen=True)
class Match:
    """What a keyword search adds to the search SQL."""

    source: str  # the FROM clause, naming the index table `e`
    where: str
    rank: str  # an ORDER BY term, best first
    params_source: tuple
    params_where: tuple


class PostgresBackend:
    vendor = "postgresql"

    def index(self, cursor, where: str, params: tuple, indexed_at) -> int:
        cursor.execute(
            f"""
            INSERT INTO {T_ENTRY} ({ENTRY_COLUMNS}, document)
            SELECT {ENTRY_VALUES},
                setweight(to_tsvector('ebourgogne_fr', search_fold(c.title)), 'A')
                || setweight(to_tsvector('ebourgogne_fr', search_fold(c.object)), 'B')
                || setweight(to_tsvector('ebourgogne_fr', search_fold(concat_ws(' ',
                    (SELECT string_agg(l.title || ' ' || l.description, ' ') FROM {T_LOT} l
                     WHERE l.consultation_id = c.id),
                    o.name, c.commune,
                    (SELECT cpv.label_fr FROM {T_CPV} cpv WHERE cpv.code = c.main_cpv_id)))), 'C')
            {ENTRY_FROM} AND ({where})
            """,  # noqa: S608
            (indexed_at, *params),
        )
        return cursor.rowcount

    def remove(self, cursor, where: str, params: tuple) -> None:
        cursor.execute(f"DELETE FROM {T_ENTRY} WHERE {where}", params)  # noqa: S608

    def clear(self, cursor) -> None:
        cursor.execute(f"DELETE FROM {T_ENTRY}")  # noqa: S608 (TRUNCATE fails with deferred constraints pending)

    def match(self, words: list[str], window: int | None = None) -> Match:
        query = " ".join(words)
        if window:
            source = (
                f"(SELECT w.consultation_id AS fts_id FROM {T_ENTRY} w "  # noqa: S608
                "WHERE w.document @@ plainto_tsquery('ebourgogne_fr', search_fold(%s)) "
                # PostgreSQL walks the primary key backwards and tests each row until the window is full
                # (measured faster at 1M than fetching every match from the GIN bitmap, docs/benchmarks.md).
                f"ORDER BY w.consultation_id DESC LIMIT {int(window)}) AS m "
                f"JOIN {T_ENTRY} e ON e.consultation_id = m.fts_id "
                "CROSS JOIN plainto_tsquery('ebourgogne_fr', search_fold(%s)) AS query"
            )
            return Match(
                source=source,
                where="",
                rank="ts_rank(e.document, query) DESC",
                params_source=(query, query),
                params_where=(),
            )
        return Match(
            source=f"{T_ENTRY} e CROSS JOIN plainto_tsquery('ebourgogne_fr', search_fold(%s)) AS query",
            where="e.document @@ query",
            rank="ts_rank(e.document, query) DESC",
            params_source=(query,),
            params_where=(),
        )


class SqliteBackend:
    vendor = "sqlite"

    def index(self, cursor, where: str, params: tuple, indexed_at) -> int:
        cursor.execute(
            f"INSERT INTO {T_ENTRY} ({ENTRY_COLUMNS}) SELECT {ENTRY_VALUES} {ENTRY_FROM} AND ({where})",
            (indexed_at, *params),
        )
        count = cursor.rowcount
        reader = connection.cursor()
        try:
            reader.execute(
                f"""
                SELECT c.id, c.title, c.object,
                    (SELECT group_concat(l.title || ' ' || l.description, ' ') FROM {T_LOT} l
                     WHERE l.consultation_id = c.id),
                    o.name, c.commune,
                    (SELECT cpv.label_fr FROM {T_CPV} cpv WHERE cpv.code = c.main_cpv_id)
                {ENTRY_FROM} AND ({where}) ORDER BY c.id
                """,  # noqa: S608
                params,
            )
            while rows := reader.fetchmany(BATCH):
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE} (rowid, title, object, other) VALUES (%s, %s, %s, %s)",  # noqa: S608
                    [
                        (
                            pk,
                            text.stemmed(title or ""),
                            text.stemmed(obj or ""),
                            text.stemmed(" ".join(part or "" for part in others)),
                        )
                        for pk, title, obj, *others in rows
                    ],
                )
        finally:
            reader.close()
        return count

    def remove(self, cursor, where: str, params: tuple) -> None:
        # By rowid, not through the index rows: rows of deleted consultations (cascade) go too.
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE {where.replace('consultation_id', 'rowid')}", params)  # noqa: S608
        cursor.execute(f"DELETE FROM {T_ENTRY} WHERE {where}", params)  # noqa: S608

    def clear(self, cursor) -> None:
        cursor.execute(f"DELETE FROM {T_ENTRY}")  # noqa: S608
        cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608

    @staticmethod
    def _expression(words: list[str]) -> str:
        # Each word stemmed and quoted: an FTS5 string, never an operator (words hold letters and digits only).
        return " ".join(f'"{text.stem(word)}"' for word in words)

    def match(self, words: list[str], window: int | None = None) -> Match:
        # The full-text match first, then the index rows of its matches (CROSS JOIN keeps that order in
        # SQLite; otherwise the planner may walk the index table and run the match for each row).
        # bm25: lower is better; the title weighs more than the object, the object more than the rest.
        # With a window, FTS5 walks its matches from the highest rowid and scores only `window` of them.
        limit = f" ORDER BY rowid DESC LIMIT {int(window)}" if window else ""
        return Match(
            source=(
                f"(SELECT rowid AS fts_id, bm25({FTS_TABLE}, 10.0, 4.0, 1.0) AS fts_rank FROM {FTS_TABLE} "  # noqa: S608
                f"WHERE {FTS_TABLE} MATCH %s{limit}) AS m CROSS JOIN {T_ENTRY} e ON e.consultation_id = m.fts_id"
            ),
            where="",
            rank="m.fts_rank ASC",
            params_source=(self._expression(words),),
            params_where=(),
        )


def backend() -> PostgresBackend | SqliteBackend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise NotImplementedError(f"search: no backend for {connection.vendor}")
