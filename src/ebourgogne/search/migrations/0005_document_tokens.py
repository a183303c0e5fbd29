"""PostgreSQL: each document gets, without positions, a `cpv_<prefix>` lexeme for every prefix of its
consultation's CPV codes (a CPV subtree filter becomes a GIN lookup) and an `idb_<block>` lexeme of its
block of ids (the most recent matches of a common word are found block by block); see
search.backends. Existing rows are completed in place; new ones are written with them
(PostgresBackend.index). Nothing changes on SQLite."""

from django.db import migrations

# The SQL of search.backends.cpv_tokens_sql at the time of this migration (ID_BUCKET_BITS = 15).
TOKENS = (
    "array_to_tsvector(ARRAY(SELECT DISTINCT 'cpv_' || left(cc.cpv_id, n) "
    "FROM consultations_consultationcpv cc CROSS JOIN generate_series(2, 8) AS n "
    "WHERE cc.consultation_id = e.consultation_id) || ARRAY['idb_' || (e.consultation_id >> 15)])"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Without the GIN index during the update, then built once: much faster on a large index.
        schema_editor.execute("DROP INDEX IF EXISTS search_document_gin")
        schema_editor.execute(f"UPDATE search_searchentry e SET document = e.document || {TOKENS}")  # noqa: S608
        schema_editor.execute("CREATE INDEX search_document_gin ON search_searchentry USING gin (document)")
        schema_editor.execute("ANALYZE search_searchentry")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE search_searchentry SET document = ts_delete(document, ARRAY(SELECT lexeme FROM "
            "unnest(document) WHERE lexeme LIKE 'cpv\\_%%' OR lexeme LIKE 'idb\\_%%'))"
        )


class Migration(migrations.Migration):
    dependencies = [("search", "0004_without_practice")]

    operations = [migrations.RunPython(forwards, backwards)]
