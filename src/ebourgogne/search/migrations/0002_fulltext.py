"""The full-text part of the search index, which depends on the database (see search/models.py).

PostgreSQL: the unaccent extension when it can be created (a trusted extension since PostgreSQL 13),
`search_fold(text)` (lower case without accents: unaccent, or translate() when the extension is not
available), the text search configuration `ebourgogne_fr` (a copy of `french`), and the `document`
tsvector column of search_searchentry with its GIN index.
SQLite: the FTS5 table `search_fts` (rowid = consultation id).
"""

from django.db import migrations

FOLD_WITH_UNACCENT = """
CREATE OR REPLACE FUNCTION search_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower({schema}.unaccent('{schema}.unaccent'::regdictionary, $1)) $$
"""
FOLD_WITH_TRANSLATE = """
CREATE OR REPLACE FUNCTION search_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT translate(replace(replace(lower($1), 'œ', 'oe'), 'æ', 'ae'),
    'àâäáãåçéèêëíìîïñóòôöõúùûüýÿ', 'aaaaaaceeeeiiiinooooouuuuyy') $$
"""


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            schema = None
            try:
                cursor.execute("SAVEPOINT search_unaccent")
                cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
                cursor.execute("RELEASE SAVEPOINT search_unaccent")
            except Exception:  # no contrib package, or not allowed: fold accents with translate()
                cursor.execute("ROLLBACK TO SAVEPOINT search_unaccent")
            cursor.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'")
            row = cursor.fetchone()
            if row:
                schema = row[0]
            cursor.execute(FOLD_WITH_UNACCENT.format(schema=schema) if schema else FOLD_WITH_TRANSLATE)
            cursor.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS ebourgogne_fr")
            cursor.execute("CREATE TEXT SEARCH CONFIGURATION ebourgogne_fr (COPY = pg_catalog.french)")
            cursor.execute("ALTER TABLE search_searchentry ADD COLUMN document tsvector NOT NULL DEFAULT ''::tsvector")
            cursor.execute("CREATE INDEX search_document_gin ON search_searchentry USING gin (document)")
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE VIRTUAL TABLE search_fts USING fts5("
                "title, object, other, tokenize = 'unicode61 remove_diacritics 2')"
            )


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP INDEX IF EXISTS search_document_gin")
            cursor.execute("ALTER TABLE search_searchentry DROP COLUMN IF EXISTS document")
            cursor.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS ebourgogne_fr")
            cursor.execute("DROP FUNCTION IF EXISTS search_fold(text)")
        elif connection.vendor == "sqlite":
            cursor.execute("DROP TABLE IF EXISTS search_fts")


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
