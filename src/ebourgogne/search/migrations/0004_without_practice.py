"""Practice consultations (Consultation.is_practice) leave the portal's index: the index's rows are now
written for public consultations that are not practice ones (search.backends.ENTRY_FROM)."""

from django.db import migrations


def forwards(apps, schema_editor):
    practice = "SELECT id FROM consultations_consultation WHERE is_practice"
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DELETE FROM search_fts WHERE rowid IN ({practice})")  # noqa: S608
    schema_editor.execute(f"DELETE FROM search_searchentry WHERE consultation_id IN ({practice})")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [
        ("consultations", "0003_consultation_bid_size_limit_consultation_commission_and_more"),
        ("search", "0003_value_sort_index"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
