"""Enqueueing on commit, and the purge job, on the embedded database backend and on Redis."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.tasks import TaskResultStatus
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from ebourgogne.core.models import PeriodicRun
from ebourgogne.core.tasks import enqueue_on_commit, purge_old_records
from ebourgogne.core.tasks_redis import RedisWorker
from ebourgogne.core.tests import test_tasks_support as support
from ebourgogne.core.tests.test_tasks_support import add, redis_tasks_settings

redis_prefix = support.redis_prefix


class Rollback(Exception):
    pass


@pytest.fixture(params=["database", "redis"])
def queued(request):
    """A function counting the `add` tasks waiting in the configured backend. Tests using it also ask for
    `transactional_db`, so that their transactions really commit."""
    if request.param == "database":
        yield lambda: DBTaskResult.objects.filter(task_path=add.module_path).count()
    else:
        prefix = request.getfixturevalue("redis_prefix")
        with override_settings(TASKS=redis_tasks_settings(prefix)):
            from django.tasks import task_backends

            backend = task_backends["default"]
            yield lambda: backend.pending_count()


def test_enqueued_only_when_the_transaction_commits(transactional_db, queued):
    with transaction.atomic():
        enqueue_on_commit(add, 1, b=2)
        assert queued() == 0
    assert queued() == 1


def test_a_rolled_back_transaction_enqueues_nothing(transactional_db, queued):
    with pytest.raises(Rollback), transaction.atomic():
        enqueue_on_commit(add, 1, b=2)
        raise Rollback
    assert queued() == 0
    # Nested: the inner block commits into the outer one, which rolls back.
    with pytest.raises(Rollback), transaction.atomic():
        with transaction.atomic():
            enqueue_on_commit(add, 3, b=4)
        raise Rollback
    assert queued() == 0


def test_outside_a_transaction_the_task_is_enqueued_at_once(transactional_db, queued):
    enqueue_on_commit(add, 1, b=2)
    assert queued() == 1


def test_arguments_are_checked_at_the_call_site(transactional_db, queued):
    with transaction.atomic():
        with pytest.raises(TypeError):
            enqueue_on_commit(add, object(), 1)
    assert queued() == 0


def test_the_task_runs_with_the_arguments_given(transactional_db, redis_prefix):
    with override_settings(TASKS=redis_tasks_settings(redis_prefix)):
        from django.tasks import task_backends

        backend = task_backends["default"]
        with transaction.atomic():
            enqueue_on_commit(add, 20, b=22)
        RedisWorker(backend=backend, batch=True).run()
        key = next(iter(backend.client.scan_iter(match=backend.key("task", "*"))))
        result = backend.get_result(key.rsplit(":", 1)[1])
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 42


@pytest.mark.django_db
def test_purge_deletes_only_old_finished_results_and_old_periodic_runs():
    start = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        old_done = add.enqueue(1, 1)
        old_failed = add.enqueue(1, 2)
        old_waiting = add.enqueue(1, 3)
        DBTaskResult.objects.filter(id=old_done.id).update(status=TaskResultStatus.SUCCESSFUL, finished_at=start)
        DBTaskResult.objects.filter(id=old_failed.id).update(status=TaskResultStatus.FAILED, finished_at=start)
        PeriodicRun.objects.create(name="x", slot=1, due_at=start, claimed_at=start)
    later = start + dt.timedelta(days=10)
    with time_machine.travel(later, tick=False):
        recent_done = add.enqueue(2, 2)
        DBTaskResult.objects.filter(id=recent_done.id).update(status=TaskResultStatus.SUCCESSFUL, finished_at=later)
        PeriodicRun.objects.create(name="x", slot=2, due_at=later, claimed_at=later)

    with time_machine.travel(start + dt.timedelta(days=15), tick=False):
        counts = purge_old_records.call()

    assert counts == {"task_results": 2, "periodic_runs": 1}
    assert set(DBTaskResult.objects.values_list("id", flat=True)) == {
        DBTaskResult.objects.get(id=old_waiting.id).id,
        DBTaskResult.objects.get(id=recent_done.id).id,
    }
    assert list(PeriodicRun.objects.values_list("slot", flat=True)) == [2]
