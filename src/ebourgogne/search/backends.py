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

import itertools
import json
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
    "department, commune, main_cpv, estimated_value, state, published_at, bids_deadline, cpv_codes, indexed_at"
)
# SearchEntry.cpv_codes (" code code "), `{aggregate}` being the database's string aggregate of `cc.cpv_id`.
CPV_CODES = f"COALESCE((SELECT ' ' || {{aggregate}} || ' ' FROM {T_CPV_LINK} cc WHERE cc.consultation_id = c.id), '')"  # noqa: S608
ENTRY_VALUES = (
    "c.id, c.organisation_id, o.name, o.slug, c.reference, c.title, c.procedure, c.contract_type, "
    "c.department, c.commune, COALESCE(c.main_cpv_id, ''), c.estimated_value, c.state, c.published_at, "
    "c.bids_deadline, " + CPV_CODES + ", %s"
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
    page_ids_first = False  # the page's rows in the page's statement (selectors._page_rows)

    def index(self, cursor, where: str, params: tuple, indexed_at) -> int:
        cursor.execute(
            f"""
            INSERT INTO {T_ENTRY} ({ENTRY_COLUMNS}, document)
            SELECT {ENTRY_VALUES.format(aggregate="string_agg(cc.cpv_id, ' ')")},
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

    def match(self, words: list[str], window: int | None = None, ranked: bool = True) -> Match:
        # `ranked` is for SQLite (ts_rank costs nothing when the page does not order by it).
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


# SQLite: besides `search_fts` (every indexed consultation), the two newest blocks of 2**RECENT_BITS
# consultation ids have their own full-text tables (contentless FTS5, block b in RECENT_TABLES[b % 2],
# RECENT_BLOCKS says which block each holds; migration 0009). A keyword window is searched there: FTS5's
# bm25 counts, for each word, every row that holds it in the table it searches (its IDF), which over a
# million consultations cost more than the rest of the search; over one or two blocks it is bounded.
# Each recent table holds exactly the rows of `search_fts` in its block, with the same text (a contentless
# table forgets its text: rows leave it with a 'delete' command given the text they were indexed with,
# read from `search_fts`, or all at once when the table takes a new block).
# Blocks of 16,384 ids: the window is found among the newest 16,384 to 32,768 consultation ids (every one
# of them below 32,768, the whole index of a region's platform for years). Measured at a million
# consultations (docs/benchmarks.md, "Session 7"): blocks of 32,768 cost half as much again for searches of
# two words, whose window takes both blocks.
RECENT_BITS = 14
RECENT_TABLES = ("search_fts_recent0", "search_fts_recent1")
RECENT_BLOCKS = "search_fts_recent_block"
# Every filter of a consultation by its id (migration 0009): the window's rows are filtered and ordered on
# this index alone; the page's rows are read afterwards (SqliteBackend.page_ids_first).
FILTERS_BY_ID = "search_filters_by_id"


def _window_object(found: list[tuple[int, float | None]]) -> str:
    """The JSON object {"id": position} of a window's matches, read by json_each (its keys are the ids): one
    parameter for 2,000 ids. The position is the rank of the match's relevance among the distinct ones
    (bm25, lower is better; equal relevances share a position), 0 for all when not ranked (formatting
    2,000 integers costs a fifth of formatting 2,000 floats)."""
    ranks = sorted({rank for _, rank in found if rank is not None})
    position = {rank: index for index, rank in enumerate(ranks)}
    return json.dumps({pk: position.get(rank, 0) for pk, rank in found})


class SqliteBackend:
    vendor = "sqlite"
    # The page's ids are found first (on the covering indexes), then their rows (selectors.search).
    page_ids_first = True

    def index(self, cursor, where: str, params: tuple, indexed_at) -> int:
        values = ENTRY_VALUES.format(aggregate="group_concat(cc.cpv_id, ' ')")
        cursor.execute(
            f"INSERT INTO {T_ENTRY} ({ENTRY_COLUMNS}) SELECT {values} {ENTRY_FROM} AND ({where})",
            (indexed_at, *params),
        )
        count = cursor.rowcount
        held = self._recent_blocks(cursor)
        # The newest block this write reaches: an older block's rows would leave their recent table before
        # the end of the write (a seed, a rebuild), they go to search_fts only.
        cursor.execute(f"SELECT MAX(c.id) {ENTRY_FROM} AND ({where})", params)  # noqa: S608
        top = cursor.fetchone()[0]
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
                texts = [
                    (
                        pk,
                        text.stemmed(title or ""),
                        text.stemmed(obj or ""),
                        text.stemmed(" ".join(part or "" for part in others)),
                    )
                    for pk, title, obj, *others in rows
                ]
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE} (rowid, title, object, other) VALUES (%s, %s, %s, %s)",  # noqa: S608
                    texts,
                )
                self._index_recent(cursor, texts, held, top >> RECENT_BITS)
        finally:
            reader.close()
        return count

    @staticmethod
    def _recent_blocks(cursor) -> dict[int, int]:
        """{table's slot: the block of ids it holds}."""
        cursor.execute(f"SELECT slot, block FROM {RECENT_BLOCKS}")  # noqa: S608
        return dict(cursor.fetchall())

    @staticmethod
    def _index_recent(cursor, texts: list[tuple], held: dict[int, int], top: int) -> None:
        """Add rows just written to `search_fts` (ascending ids) to the recent table of their block: the one
        holding that block, or the one taking it when the block is newer than the one it holds (its rows
        leave) and is at most one block older than the newest (held, or `top`, the newest of this write)."""
        for block, rows in itertools.groupby(texts, key=lambda row: row[0] >> RECENT_BITS):
            slot = block % 2
            table = RECENT_TABLES[slot]
            if held.get(slot) != block:
                if block < held.get(slot, -1) or block < max([*held.values(), top]) - 1:
                    continue  # an older block than the recent ones: in search_fts only
                cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")  # noqa: S608
                cursor.execute(
                    f"INSERT OR REPLACE INTO {RECENT_BLOCKS} (slot, block) VALUES (%s, %s)",  # noqa: S608
                    (slot, block),
                )
                held[slot] = block
            cursor.executemany(
                f"INSERT INTO {table} (rowid, title, object, other) VALUES (%s, %s, %s, %s)",  # noqa: S608
                list(rows),
            )

    def remove(self, cursor, where: str, params: tuple) -> None:
        # By rowid, not through the index rows: rows of deleted consultations (cascade) go too.
        by_rowid = where.replace("consultation_id", "rowid")
        for slot, block in self._recent_blocks(cursor).items():
            table = RECENT_TABLES[slot]
            # Out of the recent table first, with the text it was indexed with (still in search_fts).
            cursor.execute(
                f"INSERT INTO {table} ({table}, rowid, title, object, other) "  # noqa: S608
                f"SELECT 'delete', rowid, title, object, other FROM {FTS_TABLE} "
                f"WHERE ({by_rowid}) AND rowid BETWEEN %s AND %s",
                (*params, block << RECENT_BITS, ((block + 1) << RECENT_BITS) - 1),
            )
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE {by_rowid}", params)  # noqa: S608
        cursor.execute(f"DELETE FROM {T_ENTRY} WHERE {where}", params)  # noqa: S608

    def clear(self, cursor) -> None:
        cursor.execute(f"DELETE FROM {T_ENTRY}")  # noqa: S608
        cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608
        for table in RECENT_TABLES:
            cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")  # noqa: S608
        cursor.execute(f"DELETE FROM {RECENT_BLOCKS}")  # noqa: S608

    def cpv_condition(self, prefix: str) -> tuple[str, list]:
        """The consultation or one of its lots has a CPV code starting with `prefix` (digits): a test on
        SearchEntry.cpv_codes, which the search indexes carry."""
        if not prefix.isdigit():  # never a CPV code: nothing to find
            return "0", []
        return "instr(e.cpv_codes, %s) > 0", [" " + prefix]

    @staticmethod
    def _expression(words: list[str]) -> str:
        # Each word stemmed and quoted: an FTS5 string, never an operator (words hold letters and digits only).
        return " ".join(f'"{text.stem(word)}"' for word in words)

    def window(self, words: list[str], window: int, ranked: bool) -> tuple[list[tuple[int, float | None]], bool]:
        """The `window` most recent matches of the words in the recent tables (newest block first), with
        their relevance (bm25: lower is better; the title weighs more than the object, the object more
        than the rest) when `ranked`; and whether they are every match (fewer than `window`, and the
        recent tables reach down to the first id)."""
        expression = self._expression(words)
        found: list[tuple[int, float | None]] = []
        with connection.cursor() as cursor:
            held = self._recent_blocks(cursor)
            if not held:
                return [], True  # nothing indexed yet
            newest = max(held.values())
            lowest = newest
            for block in (newest, newest - 1):
                if block < 0 or held.get(block % 2) != block or len(found) >= window:
                    break
                table = RECENT_TABLES[block % 2]
                rank = f"bm25({table}, 10.0, 4.0, 1.0)" if ranked else "NULL"
                cursor.execute(
                    f"SELECT rowid, {rank} FROM {table} WHERE {table} MATCH %s "  # noqa: S608
                    "ORDER BY rowid DESC LIMIT %s",
                    (expression, window - len(found)),
                )
                found += cursor.fetchall()
                lowest = block
        return found, len(found) < window and lowest == 0

    def match(self, words: list[str], window: int | None = None, ranked: bool = True) -> Match:
        if window:
            # The window found once (window()), then filtered and ordered on the index of every filter by id,
            # by the count and by the page alike. A JSON object {"id": position}: one parameter for 2,000 ids.
            found, complete = self.window(words, window, ranked)
            return Match(
                source=f"json_each(%s) AS m CROSS JOIN {T_ENTRY} e INDEXED BY {FILTERS_BY_ID} "
                "ON e.consultation_id = m.key",
                where="",
                rank="m.value ASC",
                params_source=(_window_object(found),),
                params_where=(),
                complete=complete,
            )
        # Every match (a selective search whose window held too few results): the full-text match first,
        # then the index rows of its matches (CROSS JOIN keeps that order in SQLite; otherwise the planner
        # may walk the index table and run the match for each row).
        rank = f"bm25({FTS_TABLE}, 10.0, 4.0, 1.0)" if ranked else "NULL"
        matches = f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s) AS m "  # noqa: S608
        join = f"CROSS JOIN {T_ENTRY} e INDEXED BY {FILTERS_BY_ID} ON e.consultation_id = m.fts_id"
        return Match(
            source=f"(SELECT rowid AS fts_id, {rank} AS fts_rank {matches}{join}",
            where="",
            rank="m.fts_rank ASC",
            params_source=(self._expression(words),),
            params_where=(),
            # bm25 costs every match of each word once per statement: the count, which does not rank, goes without it.
            count_source=f"(SELECT rowid AS fts_id {matches}{join}",
        )


def backend() -> PostgresBackend | SqliteBackend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise NotImplementedError(f"search: no backend for {connection.vendor}")
