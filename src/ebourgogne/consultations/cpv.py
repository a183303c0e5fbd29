"""The CPV 2008 vocabulary in the database: loaded by migration 0002 from data/cpv_2008.csv.

`ensure_loaded()` loads it again when the table is empty (a test suite's transactional tests end with a
flush that empties tables migrations filled; see ebourgogne.testing.factories)."""

from __future__ import annotations

import importlib

from django.apps import apps


def ensure_loaded() -> int:
    """Load the codes when none is present; returns how many were loaded (0 when already there)."""
    from ebourgogne.consultations.models import CpvCode

    if CpvCode.objects.exists():
        return 0
    migration = importlib.import_module("ebourgogne.consultations.migrations.0002_load_cpv_2008")
    migration.load(apps, None)
    return CpvCode.objects.count()
