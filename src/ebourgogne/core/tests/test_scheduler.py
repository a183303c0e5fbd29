"""Periodic jobs: one run per slot, whatever the number of schedulers ticking at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.tasks import task
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from ebourgogne.core.models import PeriodicRun
from ebourgogne.core.scheduler import PeriodicJob, Scheduler, periodic, registered_jobs, tick
from ebourgogne.core.tasks import purge_old_records


@task()
def periodic_probe():
    return "ok"


PROBE = PeriodicJob(name="test.probe", every=dt.timedelta(minutes=10), task=periodic_probe)
NINE = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)


def enqueued_probes() -> int:
    return DBTaskResult.objects.filter(task_path=periodic_probe.module_path).count()


def test_the_purge_job_is_registered():
    jobs = registered_jobs()
    assert jobs["core.purge_old_records"].task is purge_old_records
    assert jobs["core.purge_old_records"].every == dt.timedelta(hours=1)


def test_periodic_refuses_mistakes():
    with pytest.raises(ImproperlyConfigured):
        periodic(name="test.not_a_task", every=dt.timedelta(minutes=1))(lambda: None)
    with pytest.raises(ImproperlyConfigured):
        periodic(name="test.too_fast", every=dt.timedelta(milliseconds=10))
    with pytest.raises(ImproperlyConfigured):
        periodic(name="core.purge_old_records", every=dt.timedelta(hours=1))(periodic_probe)


def test_slots_are_counted_from_the_epoch_with_an_offset():
    daily = PeriodicJob(name="d", every=dt.timedelta(days=1), task=periodic_probe, offset=dt.timedelta(hours=5))
    slot = daily.slot_at(dt.datetime(2025, 6, 2, 4, 59, tzinfo=dt.UTC))
    assert daily.slot_start(slot) == dt.datetime(2025, 6, 1, 5, 0, tzinfo=dt.UTC)
    assert daily.slot_at(dt.datetime(2025, 6, 2, 5, 0, tzinfo=dt.UTC)) == slot + 1


def test_one_run_per_slot_and_again_in_the_next_slot(transactional_db):
    with time_machine.travel(NINE, tick=False):
        assert tick(jobs=[PROBE]) == ["test.probe"]
        assert tick(jobs=[PROBE]) == []
    with time_machine.travel(NINE + dt.timedelta(minutes=9, seconds=59), tick=False):
        assert tick(jobs=[PROBE]) == []
    assert enqueued_probes() == 1
    with time_machine.travel(NINE + dt.timedelta(minutes=10), tick=False):
        assert tick(jobs=[PROBE]) == ["test.probe"]
    assert enqueued_probes() == 2

    runs = list(PeriodicRun.objects.order_by("slot"))
    assert [run.due_at for run in runs] == [NINE, NINE + dt.timedelta(minutes=10)]
    assert runs[1].slot == runs[0].slot + 1
    queued_ids = {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)}
    assert {run.task_result_id for run in runs} == queued_ids


def test_schedulers_in_several_threads_enqueue_once(transactional_db):
    barrier = threading.Barrier(4)
    outcomes: list[list[str]] = []
    errors: list[BaseException] = []

    def node():
        try:
            barrier.wait()
            outcomes.append(tick(now=NINE, jobs=[PROBE]))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=node) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(outcomes) == [[], [], [], ["test.probe"]]
    assert PeriodicRun.objects.count() == 1
    assert enqueued_probes() == 1


def test_a_failed_enqueue_releases_the_slot(transactional_db):
    unreachable = {
        "default": {
            "BACKEND": "ebourgogne.core.tasks_redis.RedisBackend",
            "QUEUES": ["default", "mail"],
            "OPTIONS": {"url": "redis://127.0.0.1:1/0"},
        }
    }
    with override_settings(TASKS=unreachable):
        tick(now=NINE, jobs=[PROBE])
    assert PeriodicRun.objects.count() == 0
    assert tick(now=NINE, jobs=[PROBE]) == ["test.probe"]  # the same slot, retried
    assert enqueued_probes() == 1


def test_scheduler_loops_on_two_nodes_run_each_slot_once(transactional_db):
    every_second = PeriodicJob(name="test.every_second", every=dt.timedelta(seconds=1), task=periodic_probe)
    schedulers = [Scheduler(jobs=[every_second]) for _ in range(2)]

    def run(scheduler):
        try:
            scheduler.run()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    time.sleep(2.6)
    for scheduler in schedulers:
        scheduler.stop()
    for thread in threads:
        thread.join(timeout=10)

    slots = list(PeriodicRun.objects.filter(name="test.every_second").values_list("slot", flat=True))
    assert len(slots) >= 2
    assert len(slots) == len(set(slots))
    assert enqueued_probes() == len(slots)


def test_the_scheduler_sleeps_until_the_next_slot():
    scheduler = Scheduler(jobs=[PROBE])
    wait = scheduler.seconds_to_next_slot(NINE + dt.timedelta(minutes=7))
    assert 30 - 0.01 <= wait <= 30  # capped, so a clock jump is noticed within 30 s
    short = PeriodicJob(name="s", every=dt.timedelta(seconds=10), task=periodic_probe)
    wait = Scheduler(jobs=[short]).seconds_to_next_slot(NINE + dt.timedelta(seconds=7))
    assert 3.0 < wait < 3.3


SCHEDULER_NODE = """
import json, sys, time
import django
django.setup()
from ebourgogne.core.scheduler import tick
start_at = float(sys.argv[1])
time.sleep(max(0.0, start_at - time.time()))
print(json.dumps(tick()))
"""


@pytest.mark.postgres
def test_schedulers_in_several_processes_on_postgresql_enqueue_once(transactional_db, tmp_path: Path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run the suite with DATABASE_URL=postgres://... to test several processes")
    settings_dict = connection.settings_dict
    url = "postgres://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(
        **{**settings_dict, "PASSWORD": settings_dict.get("PASSWORD") or ""}
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "ebourgogne.settings",
        "EBOURGOGNE_DATA_DIR": str(tmp_path),
        "EBOURGOGNE_TASKS_BACKEND": "database",
    }
    start_at = str(time.time() + 3)  # all four processes tick at the same instant
    nodes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", SCHEDULER_NODE, start_at], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    outputs = []
    for node in nodes:
        out, err = node.communicate(timeout=60)
        assert node.returncode == 0, err.decode()
        outputs.append(json.loads(out.decode().strip().splitlines()[-1]))

    winners = [names for names in outputs if "core.purge_old_records" in names]
    assert len(winners) == 1, outputs
    assert PeriodicRun.objects.filter(name="core.purge_old_records").count() == 1
    assert DBTaskResult.objects.filter(task_path=purge_old_records.module_path).count() == 1
