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

from ebourgogne.consultations.models import PUBLIC_STATES, Consultation, ConsultationCpv, CpvCode, Lot
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
T_CPV_LINK = ConsultationCpv._meta.db_table

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
    complete: bool = False  # a window that holds every match (fewer matches than the window)
    # The FROM clause for the count (same parameters, same rows, no relevance computed), or "" for `source`.
    count_source: str = ""


# PostgreSQL: lexemes added to each document besides its words, without positions (so ts_rank, which
# only looks at the query's lexemes, is unchanged). A user's words never produce them: the parser
# splits on "_", and search.text.query_words keeps letters and digits only.
# - `cpv_<prefix>` for every prefix (2 to 8 digits) of every CPV code of the consultation and its lots
#   (consultations_consultationcpv): a CPV subtree filter is a lookup in the same GIN index;
# - `idb_<id >> ID_BUCKET_BITS>`: the block of ids the consultation belongs to, so that the most recent
#   matches of a common word are found block by block from the GIN index (see window_ids).
ID_BUCKET_BITS = 15  # blocks of 32,768 consultation ids
WINDOW_BUCKETS = 8  # blocks searched one by one before the rest at once
CPV_LEXEME = "cpv_"
ID_LEXEME = "idb_"


def cpv_tokens_sql(consultation_id: str) -> str:
    """SQL of the extra lexemes of the consultation whose id is the SQL expression `consultation_id`."""
    codes = (
        f"SELECT DISTINCT '{CPV_LEXEME}' || left(cc.cpv_id, n) FROM {T_CPV_LINK} cc "  # noqa: S608
        f"CROSS JOIN generate_series(2, 8) AS n WHERE cc.consultation_id = {consultation_id}"
    )
    block = f"'{ID_LEXEME}' || ({consultation_id} >> {ID_BUCKET_BITS})"
    return f"array_to_tsvector(ARRAY({codes}) || ARRAY[{block}])"


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
                || {cpv_tokens_sql("c.id")}
            {ENTRY_FROM} AND ({where})
            """,  # noqa: S608
            (indexed_at, *params),
        )
        return cursor.rowcount

    def cpv_condition(self, prefix: str) -> tuple[str, list]:
        """The consultation or one of its lots has a CPV code starting with `prefix` (digits)."""
        if not prefix.isdigit():  # never a CPV code: nothing to find (and never tsquery syntax)
            return "FALSE", []
        return "e.document @@ %s::tsquery", [CPV_LEXEME + prefix]

    def window_ids(self, words: list[str], window: int) -> list[int]:
        """The ids of the `window` most recent matches of the words (highest ids first), or of every match
        when there are fewer. Searched block of ids by block from the newest (the GIN index intersects the
        words with the block's lexeme, so a common word costs its matches in the block, not in the
        table), then, after WINDOW_BUCKETS blocks, among all the older ids at once."""
        query = " ".join(words)
        found: list[int] = []
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(consultation_id) FROM {T_ENTRY}")  # noqa: S608
            top = cursor.fetchone()[0]
            if top is None:
                return []
            bucket = top >> ID_BUCKET_BITS
            for _ in range(WINDOW_BUCKETS):
                if bucket == 0:  # the first block: the plain query below (every row has the block's lexeme)
                    break
                cursor.execute(
                    f"SELECT consultation_id FROM {T_ENTRY} "  # noqa: S608
                    # The block's lexeme only (no condition on the id, which would add a bitmap of the
                    # primary key's range to the GIN index's, for nothing).
                    "WHERE document @@ (plainto_tsquery('ebourgogne_fr', search_fold(%s)) && %s::tsquery) "
                    "ORDER BY consultation_id DESC LIMIT %s",
                    [query, f"{ID_LEXEME}{bucket}", window - len(found)],
                )
                found += [row[0] for row in cursor.fetchall()]
                if len(found) >= window:
                    return found
                bucket -= 1
            below = (
                "" if (bucket + 1) << ID_BUCKET_BITS > top else "AND consultation_id < %s "
            )  # no block searched: all
            cursor.execute(
                f"SELECT consultation_id FROM {T_ENTRY} "  # noqa: S608
                f"WHERE document @@ plainto_tsquery('ebourgogne_fr', search_fold(%s)) {below}"
                "ORDER BY consultation_id DESC LIMIT %s",
                [query, *([(bucket + 1) << ID_BUCKET_BITS] if below else []), window - len(found)],
            )
            found += [row[0] for row in cursor.fetchall()]
        return found

    def remove(self, cursor, where: str, params: tuple) -> None:
        cursor.execute(f"DELETE FROM {T_ENTRY} WHERE {where}", params)  # noqa: S608

    def clear(self, cursor) -> None:
        cursor.execute(f"DELETE FROM {T_ENTRY}")  # noqa: S608 (TRUNCATE fails with deferred constraints pending)

    def match(self, words: list[str], window: int | None = None) -> Match:
        query = " ".join(words)
        if window:
            # The window's ids, found once (window_ids), then read by primary key by both statements.
            ids = self.window_ids(words, window)
            source = (
                "unnest(%s::bigint[]) AS m (fts_id) "
                f"JOIN {T_ENTRY} e ON e.consultation_id = m.fts_id "
                "CROSS JOIN plainto_tsquery('ebourgogne_fr', search_fold(%s)) AS query"
            )
            return Match(
                source=source,
                where="",
                rank="ts_rank(e.document, query) DESC",
                # One array literal: much cheaper to send than 2,000 parameters adapted one by one.
                params_source=("{" + ",".join(str(pk) for pk in ids) + "}", query),
                params_where=(),
                complete=len(ids) < window,
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

    def cpv_condition(self, prefix: str) -> tuple[str, list]:
        """The consultation or one of its lots has a CPV code starting with `prefix` (digits)."""
        pad = 8 - len(prefix)
        return (
            f"EXISTS (SELECT 1 FROM {T_CPV_LINK} cc WHERE cc.consultation_id = e.consultation_id "  # noqa: S608
            "AND cc.cpv_id BETWEEN %s AND %s)",
            [prefix + "0" * pad, prefix + "9" * pad],
        )

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
        matches = f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s{limit}) AS m "  # noqa: S608
        join = f"CROSS JOIN {T_ENTRY} e ON e.consultation_id = m.fts_id"
        return Match(
            source=f"(SELECT rowid AS fts_id, bm25({FTS_TABLE}, 10.0, 4.0, 1.0) AS fts_rank {matches}{join}",
            where="",
            rank="m.fts_rank ASC",
            params_source=(self._expression(words),),
            params_where=(),
            # bm25 costs every match of each word once per statement (its IDF: how many rows hold the word,
            # counted over the whole table): the count, which does not rank, goes without it.
            count_source=f"(SELECT rowid AS fts_id {matches}{join}",
        )


def backend() -> PostgresBackend | SqliteBackend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise NotImplementedError(f"search: no backend for {connection.vendor}")
