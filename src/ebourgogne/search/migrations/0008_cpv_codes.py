"""Every CPV code of a consultation and of its lots in its index row (`SearchEntry.cpv_codes`), filled here
for the rows already indexed (later rows get it from search.backends when they are indexed)."""

from django.db import migrations, models

FILL = (
    "UPDATE search_searchentry SET cpv_codes = COALESCE((SELECT ' ' || {aggregate} || ' ' "
    "FROM consultations_consultationcpv cc WHERE cc.consultation_id = search_searchentry.consultation_id), '')"
)


def fill(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    aggregate = "string_agg(cc.cpv_id, ' ')" if vendor == "postgresql" else "group_concat(cc.cpv_id, ' ')"
    schema_editor.execute(FILL.format(aggregate=aggregate))


class Migration(migrations.Migration):
    dependencies = [("search", "0007_index_ids")]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="cpv_codes",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
