"""Reference data that migrations load (the CPV 2008 codes) is there for every test.

Transactional tests (`transaction=True`, `live_server`, browser tests) end by emptying every table, the
codes loaded by `consultations/migrations/0002_load_cpv_2008.py` included; the tests that run after them
in the same pytest-xdist worker would then find no code. This fixture puts the codes back, with the
migration's own loader, whenever a test that uses the database finds the table empty.
Loaded for the whole suite by pyproject.toml (`-p ebourgogne.testing.reference_data`).
"""

from __future__ import annotations

import pytest


def ensure_cpv_codes() -> None:
    from ebourgogne.consultations.cpv import ensure_loaded

    ensure_loaded()


@pytest.fixture(autouse=True)
def _reference_data(request):
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
        ensure_cpv_codes()
    elif marker is not None or "db" in names:
        request.getfixturevalue("db")
        ensure_cpv_codes()
    yield
