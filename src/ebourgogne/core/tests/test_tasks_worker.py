"""`ebourgogne worker` and `start_in_process()`, end to end, on the database backend and on Redis."""

# ruff: noqa: S603, S608 - runs our own interpreter; SQL names come from the model

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.tasks import TaskResultStatus, task_backends
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from ebourgogne.core.models import PeriodicRun
from ebourgogne.core.tasks import purge_old_records
from ebourgogne.core.tests import test_tasks_support as support
from ebourgogne.core.tests.test_tasks_support import REDIS_URL, add, fail, redis_tasks_settings, sleep_then_record
from ebourgogne.core.worker import start_in_process

TABLE = DBTaskResult._meta.db_table
redis_prefix = support.redis_prefix
redis_backend = support.redis_backend


def wait_for(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except OperationalError as error:
            # The SQLite test database lives in memory, shared between threads through SQLite's shared
            # cache, where a reader meets "table is locked" at once instead of waiting (busy_timeout does
            # not apply); the platform's own file database (WAL, busy_timeout) waits instead.
            if "locked" not in str(error):
                raise
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not met within {timeout} s")


def test_burst_on_the_database_backend(transactional_db):
    ok = add.enqueue(2, 3)
    ko = fail.enqueue("échec voulu")
    call_command("worker", "--burst", stdout=open(os.devnull, "w"))  # noqa: SIM115
    ok.refresh()
    ko.refresh()
    assert ok.status == TaskResultStatus.SUCCESSFUL and ok.return_value == 5
    assert ko.status == TaskResultStatus.FAILED and "échec voulu" in ko.errors[0].traceback


@pytest.mark.redis
def test_burst_on_redis(transactional_db, redis_backend):
    result = add.enqueue(2, 3)
    call_command("worker", "--burst", "--queues", "default", stdout=open(os.devnull, "w"))  # noqa: SIM115
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == 5


def test_unknown_queue_is_refused(db):
    with pytest.raises(CommandError, match="Unknown queue"):
        call_command("worker", "--burst", "--queues", "nowhere")


def test_start_in_process_on_the_database_backend(transactional_db):
    handle = start_in_process()
    try:
        result = add.enqueue(20, 22)
        wait_for(lambda: DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL, what="task run")
        # The scheduler ran too: the purge job was claimed for this hour and run by the worker.
        run = wait_for(lambda: PeriodicRun.objects.filter(name="core.purge_old_records").first(), what="purge claimed")
        wait_for(
            lambda: (
                purge_old_records.get_result(run.task_result_id).status == TaskResultStatus.SUCCESSFUL
                if run.refresh_from_db() or run.task_result_id
                else False
            ),
            what="purge run",
        )
    finally:
        handle.stop(timeout=10)
    assert not any(thread.is_alive() for thread in handle.threads)


@pytest.mark.redis
def test_start_in_process_on_redis(transactional_db, redis_backend):
    handle = start_in_process(scheduler=False)
    try:
        result = add.enqueue(20, 22)
        wait_for(lambda: redis_backend.get_result(result.id).status == TaskResultStatus.SUCCESSFUL, what="task run")
    finally:
        handle.stop(timeout=10)
    assert not any(thread.is_alive() for thread in handle.threads)


def _ebourgogne(*args: str) -> list[str]:
    return [sys.executable, "-m", "ebourgogne", *args]


def test_the_worker_command_runs_tasks_and_periodic_jobs_then_stops_on_sigterm(tmp_path: Path):
    """A real `ebourgogne worker` process on its own SQLite database, as in the demo."""
    env = {**os.environ, "EBOURGOGNE_DATA_DIR": str(tmp_path), "EBOURGOGNE_TASKS_BACKEND": "database"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    enqueue = (
        "from django.core.management import call_command; call_command('migrate', verbosity=0); "
        "from ebourgogne.core.tests.test_tasks_support import add; print(add.enqueue(20, 22).id)"
    )
    made = subprocess.run(_ebourgogne("shell", "-c", enqueue), env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    task_id = made.stdout.strip().splitlines()[-1].replace("-", "")

    worker = subprocess.Popen(
        _ebourgogne("worker"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        database = sqlite3.connect(tmp_path / "db.sqlite3", timeout=10)

        def status_of(task_id: str):
            row = database.execute(
                f"SELECT status, return_value FROM {TABLE} WHERE replace(id, '-', '') = ?",
                (task_id,),
            ).fetchone()
            return row

        assert wait_for(lambda: status_of(task_id)[0] == "SUCCESSFUL", what="task run by the worker process")
        assert status_of(task_id)[1] == "42"
        purge_status = wait_for(
            lambda: database.execute(
                f"SELECT status FROM {TABLE} WHERE task_path = ? AND status = 'SUCCESSFUL'",
                (purge_old_records.module_path,),
            ).fetchone(),
            what="periodic purge job run",
        )
        assert purge_status == ("SUCCESSFUL",)
        database.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "SIGTERM" in output and "stopped." in output


@pytest.mark.redis
def test_the_worker_command_on_redis_finishes_the_running_task_on_sigterm(redis_prefix, tmp_path: Path):
    (tmp_path / "worker_settings.py").write_text(
        f"from ebourgogne.settings_test import *  # noqa\nTASKS = {redis_tasks_settings(redis_prefix)!r}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "DJANGO_SETTINGS_MODULE": "worker_settings",
        "EBOURGOGNE_DATA_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        _ebourgogne("worker", "--no-scheduler"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    key = f"{redis_prefix}:ran"
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        with override_settings(TASKS=redis_tasks_settings(redis_prefix)):
            backend = task_backends["default"]
            quick = add.enqueue(1, 2)
            wait_for(lambda: backend.get_result(quick.id).status == TaskResultStatus.SUCCESSFUL, what="quick task")
            slow = sleep_then_record.enqueue(REDIS_URL, key, 1.5)
            wait_for(lambda: client.lrange(key, 0, -1) == ["started"], what="slow task started")
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=30)
            assert worker.returncode == 0, output
            assert client.lrange(key, 0, -1) == ["started", "done"]
            assert backend.get_result(slow.id).status == TaskResultStatus.SUCCESSFUL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
