"""Background work of the platform: enqueueing after commit, and the platform's own periodic jobs.

Every state change that needs work done later calls `enqueue_on_commit(some_task, ...)` inside its
transaction: the task is enqueued only once the change is committed, and never if it is rolled back.
Arguments must be JSON values (ids, strings, numbers, lists, dicts): pass the id of a row, not the row.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.tasks import Task, task
from django.utils.json import normalize_json

from ebourgogne.core import clock
from ebourgogne.core.scheduler import periodic

logger = logging.getLogger("ebourgogne.tasks")

# How long finished task results (embedded database backend) and periodic-run records are kept.
# The Redis backend expires its results by itself (`result_ttl`).
TASK_RESULT_RETENTION = timedelta(days=14)
PERIODIC_RUN_RETENTION = timedelta(days=7)


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Enqueue `task(*args, **kwargs)` when the current transaction commits (at once outside a transaction).

    The task and its arguments are checked now, so that a mistake fails at the call site, inside the
    transaction, rather than after the commit.
    """
    task.get_backend().validate_task(task)
    normalize_json({"args": args, "kwargs": kwargs})  # raises TypeError on what JSON cannot carry
    transaction.on_commit(functools.partial(_enqueue, task, args, kwargs))


def _enqueue(task: Task, args: tuple, kwargs: dict) -> None:
    try:
        task.enqueue(*args, **kwargs)
    except Exception:
        # The transaction is committed: say loudly what was not queued, then let the caller see the error.
        logger.exception("Could not enqueue %s after commit (args=%r, kwargs=%r)", task.module_path, args, kwargs)
        raise


@periodic(name="core.purge_old_records", every=timedelta(hours=1))
@task()
def purge_old_records() -> dict[str, int]:
    """Delete finished task results and periodic-run records past their retention period."""
    from django_tasks_db.models import DBTaskResult

    from ebourgogne.core.models import PeriodicRun

    now = clock.now()
    results, _ = DBTaskResult.objects.finished().filter(finished_at__lt=now - TASK_RESULT_RETENTION).delete()
    runs, _ = PeriodicRun.objects.filter(claimed_at__lt=now - PERIODIC_RUN_RETENTION).delete()
    return {"task_results": results, "periodic_runs": runs}
