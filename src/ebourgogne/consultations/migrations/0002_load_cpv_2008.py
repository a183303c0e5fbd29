"""Load the CPV 2008 vocabulary (9,454 codes, French and English labels) from the copy shipped in
consultations/data/cpv_2008.csv (a public standard of the European Union, Regulation (EC) No 213/2008).
Idempotent: codes already present are left alone."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "cpv_2008.csv"


def _prefix(digits: str) -> str:
    stripped = digits.rstrip("0")
    return stripped if len(stripped) >= 2 else digits[:2]


def load(apps, schema_editor):
    CpvCode = apps.get_model("consultations", "CpvCode")
    existing = set(CpvCode.objects.values_list("code", flat=True))
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle)]
    codes = {}
    for row in rows:
        digits, check = row["code"].split("-")
        codes[digits] = (check, row["label_fr"].strip(), row["label_en"].strip())
    objects = []
    for digits in sorted(codes):  # parents sort before their children
        prefix = _prefix(digits)
        parent = None
        for length in range(len(prefix) - 1, 1, -1):
            candidate = prefix[:length].ljust(8, "0")
            if candidate in codes and candidate != digits:
                parent = candidate
                break
        check, label_fr, label_en = codes[digits]
        if digits in existing:
            continue
        objects.append(
            CpvCode(
                code=digits,
                check_digit=check,
                label_fr=label_fr,
                label_en=label_en,
                parent_id=parent,
                level=min(len(prefix) - 1, 5),
            )
        )
    CpvCode.objects.bulk_create(objects, batch_size=2000)


def unload(apps, schema_editor):
    apps.get_model("consultations", "CpvCode").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("consultations", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
