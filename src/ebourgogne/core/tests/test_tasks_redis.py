"""The Redis task backend and its worker, against the real Redis at 127.0.0.1:6379 (REDIS_URL)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import redis
import time_machine
from django.tasks import TaskResultStatus
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.test import override_settings

from ebourgogne.core import clock
from ebourgogne.core.tasks_redis import RedisBackend, RedisWorker
from ebourgogne.core.tests import test_tasks_support as support
from ebourgogne.core.tests.test_tasks_support import (
    REDIS_URL,
    add,
    fail,
    record_run,
    redis_tasks_settings,
    report_attempt,
    sleep_then_record,
)

redis_prefix = support.redis_prefix
redis_backend = support.redis_backend

# Tasks may use the database; the worker checks its connections between tasks.
pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def a_backend(prefix: str, **options) -> RedisBackend:
    """A backend instance of its own, as another node would have."""
    return RedisBackend("default", redis_tasks_settings(prefix, **options)["default"])


def test_enqueue_run_and_read_the_result(redis_backend):
    result = add.enqueue(2, b=40)
    assert result.status == TaskResultStatus.READY
    assert result.backend == "default"
    assert redis_backend.pending_count() == 1

    worker = RedisWorker(backend=redis_backend, batch=True)
    worker.run()

    # Read back through a fresh backend instance: the result lives in Redis, not in this process.
    stored = a_backend(redis_backend.prefix).get_result(result.id)
    assert stored.status == TaskResultStatus.SUCCESSFUL
    assert stored.return_value == 42
    assert stored.args == [2] and stored.kwargs == {"b": 40}
    assert stored.worker_ids == [worker.worker_id]
    assert stored.enqueued_at <= stored.started_at <= stored.finished_at
    assert stored.task.func is add.func
    result.refresh()
    assert result.is_finished and result.return_value == 42
    assert redis_backend.pending_count() == 0


def test_finished_results_expire_and_pending_tasks_do_not(redis_prefix):
    backend = a_backend(redis_prefix, result_ttl=120)
    with override_settings(TASKS=redis_tasks_settings(redis_prefix, result_ttl=120)):
        done = add.enqueue(1, 1)
        RedisWorker(backend=backend, batch=True).run()
        waiting = add.enqueue(1, 2)
    assert 0 < backend.client.ttl(backend.key("task", done.id)) <= 120
    assert backend.client.ttl(backend.key("task", waiting.id)) == -1  # never lost while it waits


def test_unknown_result_id(redis_backend):
    with pytest.raises(TaskResultDoesNotExist):
        redis_backend.get_result("no-such-task")


def test_failure_is_recorded_with_its_traceback(redis_backend):
    result = fail.enqueue("le serveur distant a refusé")
    RedisWorker(backend=redis_backend, batch=True).run()
    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.exception_class is RuntimeError
    assert "le serveur distant a refusé" in error.traceback
    assert "in fail" in error.traceback  # the task's own frame
    with pytest.raises(ValueError, match="failed"):
        result.return_value  # noqa: B018


def test_arguments_must_be_json(redis_backend):
    with pytest.raises(TypeError):
        add.enqueue(dt.date(2025, 1, 1), 1)
    assert redis_backend.pending_count() == 0


def test_unknown_queue_is_refused(redis_backend):
    with pytest.raises(InvalidTask):
        add.using(queue_name="nowhere").enqueue(1, 1)


def test_deferred_task_waits_for_its_time(redis_backend):
    with time_machine.travel(dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC), tick=False):
        result = add.using(run_after=clock.now() + dt.timedelta(hours=2)).enqueue(1, 1)
        RedisWorker(backend=redis_backend, batch=True).run()
        result.refresh()
        assert result.status == TaskResultStatus.READY
        assert result.task.run_after == dt.datetime(2025, 3, 3, 11, 0, tzinfo=dt.UTC)

    with time_machine.travel(dt.datetime(2025, 3, 3, 10, 59, tzinfo=dt.UTC), tick=False):
        RedisWorker(backend=redis_backend, batch=True).run()
        result.refresh()
        assert result.status == TaskResultStatus.READY

    with time_machine.travel(dt.datetime(2025, 3, 3, 11, 0, 1, tzinfo=dt.UTC), tick=False):
        RedisWorker(backend=redis_backend, batch=True).run()
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == 2


def test_higher_priority_runs_first_then_arrival_order(redis_backend):
    key = f"{redis_backend.prefix}:ran"
    for number, priority in [(1, 0), (2, -10), (3, 50), (4, 0), (5, 50)]:
        record_run.using(priority=priority).enqueue(REDIS_URL, key, number)
    RedisWorker(backend=redis_backend, batch=True).run()
    assert [int(n) for n in redis_backend.client.lrange(key, 0, -1)] == [3, 5, 1, 4, 2]


def test_worker_takes_only_its_queues(redis_backend):
    on_default = add.enqueue(1, 1)
    on_mail = add.using(queue_name="mail").enqueue(2, 2)
    RedisWorker(backend=redis_backend, queues=["mail"], batch=True).run()
    on_default.refresh()
    on_mail.refresh()
    assert on_mail.status == TaskResultStatus.SUCCESSFUL
    assert on_default.status == TaskResultStatus.READY


def test_two_workers_on_two_nodes_run_each_of_200_tasks_exactly_once(redis_prefix):
    key = f"{redis_prefix}:ran"
    with override_settings(TASKS=redis_tasks_settings(redis_prefix)):
        results = [record_run.enqueue(REDIS_URL, key, number) for number in range(200)]

    # Each "node" has its own backend instance and Redis connections.
    workers = [RedisWorker(backend=a_backend(redis_prefix), batch=True, interval=0.1) for _ in range(2)]
    start = threading.Barrier(2)

    def run(worker):
        start.wait()
        worker.run()

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    ran = [int(n) for n in client.lrange(key, 0, -1)]
    assert sorted(ran) == list(range(200)), "every task ran, and none twice"
    assert sum(worker.tasks_run for worker in workers) == 200
    assert all(worker.tasks_run > 0 for worker in workers), [w.tasks_run for w in workers]
    backend = a_backend(redis_prefix)
    for result in results:
        stored = backend.get_result(result.id)
        assert stored.status == TaskResultStatus.SUCCESSFUL
        assert len(stored.worker_ids) == 1


def test_a_long_task_keeps_its_lease_and_is_not_run_twice(redis_prefix):
    """Normal operation: a task longer than the visibility timeout is renewed by the heartbeat."""
    key = f"{redis_prefix}:ran"
    with override_settings(TASKS=redis_tasks_settings(redis_prefix, visibility_timeout=0.6)):
        result = sleep_then_record.enqueue(REDIS_URL, key, 2.0)
    busy = RedisWorker(backend=a_backend(redis_prefix, visibility_timeout=0.6))
    idle = RedisWorker(backend=a_backend(redis_prefix, visibility_timeout=0.6), interval=0.1)
    threads = [threading.Thread(target=worker.run) for worker in (busy, idle)]
    threads[0].start()
    _wait_for(lambda: redis.Redis.from_url(REDIS_URL).llen(key) >= 1)
    threads[1].start()  # reaps every 0.15 s, while the task runs for 2 s
    _wait_for(lambda: a_backend(redis_prefix).get_result(result.id).is_finished, timeout=10)
    for worker in (busy, idle):
        worker.stop()
    for thread in threads:
        thread.join(timeout=10)
    stored = a_backend(redis_prefix).get_result(result.id)
    assert stored.status == TaskResultStatus.SUCCESSFUL
    assert stored.worker_ids == [busy.worker_id]
    assert redis.Redis.from_url(REDIS_URL, decode_responses=True).lrange(key, 0, -1) == ["started", "done"]


def test_a_dead_workers_task_is_requeued_after_the_visibility_timeout(redis_prefix):
    """A worker claims a task and dies (no heartbeat, no result): another worker recovers and runs it."""
    with override_settings(TASKS=redis_tasks_settings(redis_prefix, visibility_timeout=0.5)):
        result = report_attempt.enqueue("relance")
    dead = a_backend(redis_prefix, visibility_timeout=0.5)
    assert dead.claim(worker_id="node-a-dead", queues=["default"]) == result.id
    assert dead.get_result(result.id).status == TaskResultStatus.RUNNING

    survivor = RedisWorker(backend=a_backend(redis_prefix, visibility_timeout=0.5), batch=True)
    survivor.run()  # the lease still runs: nothing to do yet
    assert survivor.tasks_run == 0
    time.sleep(0.6)
    survivor = RedisWorker(backend=a_backend(redis_prefix, visibility_timeout=0.5), batch=True)
    survivor.run()

    stored = dead.get_result(result.id)
    assert stored.status == TaskResultStatus.SUCCESSFUL
    assert stored.worker_ids == ["node-a-dead", survivor.worker_id]
    assert stored.return_value == {"label": "relance", "attempt": 2}


def test_a_task_that_keeps_killing_its_workers_is_failed(redis_prefix):
    backend = a_backend(redis_prefix, visibility_timeout=0.05, max_deliveries=2)
    with override_settings(TASKS=redis_tasks_settings(redis_prefix)):
        result = add.enqueue(1, 1)
    for attempt in range(2):
        assert backend.claim(worker_id=f"dying-{attempt}", queues=["default"]) == result.id
        time.sleep(0.1)
        backend.reap()
    stored = backend.get_result(result.id)
    assert stored.status == TaskResultStatus.FAILED
    assert stored.errors[-1].exception_class_path == "ebourgogne.core.tasks_redis.WorkerLost"
    assert backend.claim(worker_id="another", queues=["default"]) is None


def test_a_late_result_after_a_lost_lease_withdraws_the_requeued_copy(redis_prefix):
    backend = a_backend(redis_prefix, visibility_timeout=0.05)
    with override_settings(TASKS=redis_tasks_settings(redis_prefix)):
        result = add.enqueue(1, 1)
    backend.claim(worker_id="slow", queues=["default"])
    time.sleep(0.1)
    assert backend.reap() == [result.id]  # back in the queue
    assert backend.finish(worker_id="slow", task_id=result.id, status="SUCCESSFUL", errors=[], return_value=2)
    assert backend.claim(worker_id="other", queues=["default"]) is None  # not run a second time
    assert backend.get_result(result.id).status == TaskResultStatus.SUCCESSFUL


def test_graceful_stop_finishes_the_running_task(redis_backend):
    key = f"{redis_backend.prefix}:ran"
    result = sleep_then_record.enqueue(REDIS_URL, key, 0.5)
    worker = RedisWorker(backend=redis_backend)
    thread = threading.Thread(target=worker.run)
    thread.start()
    _wait_for(lambda: redis_backend.client.llen(key) >= 1)
    worker.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL


def test_ping_and_readyz(redis_backend, client, db):
    assert redis_backend.ping() is True
    body = client.get("/readyz").json()
    assert body["checks"]["queue"]["ok"], body


def test_readyz_reports_an_unreachable_redis(db, client, redis_prefix):
    settings = redis_tasks_settings(redis_prefix)
    settings["default"]["OPTIONS"]["url"] = "redis://127.0.0.1:1/0"
    with override_settings(TASKS=settings):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"]["ok"] is False


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")
