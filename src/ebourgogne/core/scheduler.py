"""Periodic jobs: one mechanism for the demo and for several nodes, with no double run.

Declare a job by putting `@periodic` on top of a task, in an app's `tasks.py`:

    @periodic(name="consultations.close_deadlines", every=timedelta(minutes=1))
    @task()
    def close_deadlines() -> None: ...

Time is cut into slots of `every` (slot = floor((now - offset) / every), counted from the Unix epoch, in
UTC). On each tick, for each job, the scheduler INSERTs a `PeriodicRun(name, slot)` row; a unique
constraint on (name, slot) lets exactly one insert succeed, whatever the number of schedulers ticking at
the same moment on however many nodes, and only the process that won enqueues the task (after its
transaction commits). A slot whose enqueue failed is released, so a later tick retries it.

Consequences to keep in mind when writing a job:
- a job runs at most once per slot, at the first tick inside the slot (usually within a second of its
  start); slots missed while no scheduler ran are not caught up, so a job handles "everything due by
  now", never "what happened in the last hour";
- `offset` moves the slot boundaries: `every=timedelta(days=1), offset=timedelta(hours=5)` runs at
  05:00 UTC each day.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, OperationalError, transaction
from django.tasks import Task
from django.utils.module_loading import autodiscover_modules

from ebourgogne.core import clock

logger = logging.getLogger("ebourgogne.scheduler")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    task: Task
    offset: timedelta = timedelta(0)

    def slot_at(self, moment: datetime) -> int:
        return math.floor((moment.timestamp() - self.offset.total_seconds()) / self.every.total_seconds())

    def slot_start(self, slot: int) -> datetime:
        return datetime.fromtimestamp(slot * self.every.total_seconds() + self.offset.total_seconds(), tz=UTC)


_REGISTRY: dict[str, PeriodicJob] = {}


def periodic(*, name: str, every: timedelta, offset: timedelta = timedelta(0)):
    """Run the decorated task once per period `every`, on one node only. Put it above `@task()`."""
    if every < timedelta(seconds=1):
        raise ImproperlyConfigured(f"Periodic job {name}: the period must be at least one second.")

    def decorate(task: Task) -> Task:
        if not isinstance(task, Task):
            raise ImproperlyConfigured(f"Periodic job {name}: put @periodic above @task().")
        known = _REGISTRY.get(name)
        if known is not None and known.task.module_path != task.module_path:
            raise ImproperlyConfigured(f"Two periodic jobs are named {name}.")
        _REGISTRY[name] = PeriodicJob(name=name, every=every, task=task, offset=offset)
        return task

    return decorate


def registered_jobs() -> dict[str, PeriodicJob]:
    """Every periodic job of the installed apps (their `tasks` modules are imported first)."""
    autodiscover_modules("tasks")
    return dict(_REGISTRY)


def node_name() -> str:
    return f"{socket.gethostname()}:{threading.get_native_id()}"[:200]


def tick(*, now: datetime | None = None, jobs: list[PeriodicJob] | None = None) -> list[str]:
    """Claim the current slot of each job; enqueue the jobs whose slot this process won. Returns their names."""
    from ebourgogne.core.models import PeriodicRun

    moment = now or clock.now()
    won = []
    for job in registered_jobs().values() if jobs is None else jobs:
        slot = job.slot_at(moment)
        for attempt in range(5):
            try:
                with transaction.atomic():
                    run = PeriodicRun.objects.create(
                        name=job.name, slot=slot, due_at=job.slot_start(slot), claimed_at=moment, node=node_name()
                    )
                    transaction.on_commit(functools.partial(_enqueue, job, run.pk))
            except IntegrityError:
                break  # another scheduler has this slot
            except OperationalError as error:
                # SQLite answers "database is locked" when another process writes: wait, then try again.
                if "locked" not in str(error).lower() or attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1) + random.random() * 0.05)  # noqa: S311 - jitter only
            else:
                won.append(job.name)
                break
    return won


def _enqueue(job: PeriodicJob, run_pk: int) -> None:
    from ebourgogne.core.models import PeriodicRun

    try:
        result = job.task.enqueue()
    except Exception:
        # Release the slot: the next tick (here or on another node) tries again.
        logger.exception("Could not enqueue periodic job %s; its slot is released for a retry", job.name)
        PeriodicRun.objects.filter(pk=run_pk).delete()
        return
    PeriodicRun.objects.filter(pk=run_pk).update(task_result_id=str(result.id)[:64])
    logger.info("Periodic job %s enqueued as task %s", job.name, result.id)


class Scheduler:
    """Ticks at the start of every slot until `stop()`. Safe to run on every node at once."""

    def __init__(self, *, jobs: list[PeriodicJob] | None = None, max_sleep: float = 30.0) -> None:
        self.jobs = jobs
        self.max_sleep = max_sleep
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def seconds_to_next_slot(self, now: datetime | None = None) -> float:
        moment = now or clock.now()
        jobs = list(registered_jobs().values()) if self.jobs is None else self.jobs
        if not jobs:
            return self.max_sleep
        waits = [(job.slot_start(job.slot_at(moment) + 1) - moment).total_seconds() for job in jobs]
        # A little after the boundary, so every node's clock agrees the new slot has begun.
        return min(max(min(waits) + 0.05 + random.random() * 0.2, 0.05), self.max_sleep)  # noqa: S311

    def run(self) -> None:
        from ebourgogne.core.tasks_redis import refresh_db_connections

        names = ", ".join(sorted(job.name for job in (self.jobs or registered_jobs().values())))
        logger.info("Scheduler started on %s for: %s", node_name(), names)
        while not self._stopping.is_set():
            refresh_db_connections()
            try:
                won = tick(jobs=self.jobs)
                if won:
                    logger.info("Scheduler enqueued: %s", ", ".join(won))
            except Exception:
                logger.exception("Scheduler tick failed; trying again shortly")
                self._stopping.wait(5)
                continue
            self._stopping.wait(self.seconds_to_next_slot())
        logger.info("Scheduler stopped")
