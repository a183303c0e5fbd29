"""SQLite only (nothing on PostgreSQL):

1. The full-text index of the most recent consultations (search.backends.SqliteBackend, "recent blocks"):
   two contentless FTS5 tables, `search_fts_recent0` and `search_fts_recent1`, each holding the consultations
   of one block of 2**RECENT_BITS ids (block b in table b % 2), and `search_fts_recent_block` saying which block each
   holds. Filled here with the two newest blocks of `search_fts`.
2. The search indexes that the portal walks carry every filter column after their own, so that a filter
   is tested on the index entry without reading the row (SQLite has no statistics and reads the table row
   of every entry it walks otherwise). They keep the names the model declares (Django's migration state
   knows the narrower columns; a later RemoveIndex drops them by name all the same), and one more,
   `search_filters_by_id`, serves the keyword window (every filter of a consultation by its id).
   search/tests/test_sqlite_recent.py checks that the indexes carry these columns after every migration.
"""

from django.db import migrations

RECENT_BITS = 14  # as search.backends.RECENT_BITS when this migration was written (a later change refills)
RECENT_TABLES = ("search_fts_recent0", "search_fts_recent1")

FILTERS = ("state", "bids_deadline", "department", "procedure", "contract_type", "estimated_value", "cpv_codes")
COVERING = {
    "search_state_deadline": ("state", "bids_deadline", "consultation_id"),
    "search_state_published": ("state", "published_at", "consultation_id"),
    "search_dept_state_deadline": ("department", "state", "bids_deadline", "consultation_id"),
    "search_proc_state_deadline": ("procedure", "state", "bids_deadline", "consultation_id"),
    "search_value": ("estimated_value", "consultation_id"),
    "search_filters_by_id": ("consultation_id", "buyer_slug"),
}
NARROW = {  # as the model declares them (for backwards)
    "search_state_deadline": ("state", "bids_deadline", "consultation_id"),
    "search_state_published": ("state", "published_at", "consultation_id"),
    "search_dept_state_deadline": ("department", "state", "bids_deadline", "consultation_id"),
    "search_proc_state_deadline": ("procedure", "state", "bids_deadline", "consultation_id"),
    "search_value": ("estimated_value", "consultation_id"),
}


def covering_columns(leading: tuple[str, ...]) -> tuple[str, ...]:
    return leading + tuple(column for column in FILTERS if column not in leading)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    execute = schema_editor.execute
    for table in RECENT_TABLES:
        execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5(title, object, other, content='', "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
    execute("CREATE TABLE search_fts_recent_block (slot integer NOT NULL PRIMARY KEY, block integer NOT NULL)")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT MAX(rowid) FROM search_fts")
        top = cursor.fetchone()[0]
    if top is not None:
        newest = top >> RECENT_BITS
        for block in (newest - 1, newest):
            if block < 0:
                continue
            table = RECENT_TABLES[block % 2]
            execute(
                f"INSERT INTO {table} (rowid, title, object, other) "  # noqa: S608
                "SELECT rowid, title, object, other FROM search_fts WHERE rowid BETWEEN %s AND %s",
                (block << RECENT_BITS, ((block + 1) << RECENT_BITS) - 1),
            )
            execute("INSERT INTO search_fts_recent_block (slot, block) VALUES (%s, %s)", (block % 2, block))
    for name, leading in COVERING.items():
        execute(f"DROP INDEX IF EXISTS {name}")
        execute(f"CREATE INDEX {name} ON search_searchentry ({', '.join(covering_columns(leading))})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    execute = schema_editor.execute
    for table in RECENT_TABLES:
        execute(f"DROP TABLE IF EXISTS {table}")
    execute("DROP TABLE IF EXISTS search_fts_recent_block")
    execute("DROP INDEX IF EXISTS search_filters_by_id")
    for name, columns in NARROW.items():
        execute(f"DROP INDEX IF EXISTS {name}")
        execute(f"CREATE INDEX {name} ON search_searchentry ({', '.join(columns)})")


class Migration(migrations.Migration):
    dependencies = [("search", "0008_cpv_codes")]

    operations = [migrations.RunPython(forwards, backwards)]
