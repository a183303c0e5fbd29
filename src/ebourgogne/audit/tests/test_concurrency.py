# ruff: noqa: S603 -- the subprocesses run this interpreter with fixed arguments.
"""Concurrent appends never fork the chain: the head row is locked (PostgreSQL) or every transaction holds
the write lock from its start (SQLite, transaction_mode IMMEDIATE)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from ebourgogne.audit.integrity import verify_chain
from ebourgogne.audit.models import AuditEvent
from ebourgogne.audit.services import log_event

THREADS = 8
EVENTS_EACH = 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL (run with DATABASE_URL=postgres://...); SQLite is covered below.")
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(EVENTS_EACH):
                log_event(action="test.concurrent.append", data={"worker": worker, "n": n})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, THREADS * EVENTS_EACH + 1)
    )
    result = verify_chain()
    assert result.ok, result.problem
    assert result.count == THREADS * EVENTS_EACH


WRITER = """
import sys
import django
django.setup()
from ebourgogne.audit.services import log_event
for n in range(int(sys.argv[2])):
    log_event(action="test.concurrent.append", data={"worker": sys.argv[1], "n": n})
"""


def test_concurrent_processes_on_sqlite(tmp_path: Path):
    """Several processes writing to one SQLite file (as the demo's web server and worker do)."""
    env = {
        **os.environ,
        "EBOURGOGNE_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "ebourgogne.settings",
        "DATABASE_URL": "",
    }
    ebourgogne = [sys.executable, "-m", "ebourgogne"]
    subprocess.run([*ebourgogne, "migrate", "-v", "0"], env=env, check=True, timeout=300)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(worker), "30"], env=env, stderr=subprocess.PIPE)
        for worker in range(4)
    ]
    for writer in writers:
        _out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err.decode()
    verify = subprocess.run(
        [*ebourgogne, "audit", "--language", "en", "verify"], env=env, capture_output=True, text=True, timeout=300
    )
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.splitlines()[0] == "OK: 120 events, chain intact"
