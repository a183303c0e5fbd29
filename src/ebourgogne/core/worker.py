"""Running background work: the task worker of the configured backend, and the periodic scheduler.

- `start_in_process()` starts both in daemon threads of the current process (the demo does this next to
  its web server) and returns a handle with `.stop()`.
- `ebourgogne worker` (core/management/commands/worker.py) runs them as a service, on as many nodes as
  needed, and stops gracefully on SIGTERM / SIGINT.

Backends: "database" (django-tasks-db, whose own `Worker` loop is reused), "redis" (our RedisBackend and
RedisWorker), "immediate" (tasks run when enqueued: only the scheduler runs here).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections
from django.tasks import task_backends
from django.tasks.backends.base import BaseTaskBackend

from ebourgogne.core.scheduler import Scheduler
from ebourgogne.core.tasks_redis import RedisBackend, RedisWorker, new_worker_id

logger = logging.getLogger("ebourgogne.worker")


class DatabaseWorker:
    """django-tasks-db's worker loop, without its signal handling (it runs in a thread or under ours),
    restarted after an unexpected error (database restarting...) instead of dying."""

    def __init__(
        self, *, backend_alias: str, queues: list[str], worker_id: str, interval: float = 0.5, batch: bool = False
    ) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        self.worker_id = worker_id
        self._stopping = threading.Event()
        self.worker = Worker(
            queue_names=queues,
            interval=interval,
            batch=batch,
            backend_name=backend_alias,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )

    def stop(self) -> None:
        self._stopping.set()
        self.worker.running = False  # the loop ends after the running task

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.worker.run()
                return
            except Exception:
                logger.exception("Database worker %s failed; restarting in 5 s", self.worker_id)
                self._stopping.wait(5)


def make_worker(
    *,
    backend: BaseTaskBackend,
    queues: list[str] | None = None,
    worker_id: str | None = None,
    batch: bool = False,
    interval: float | None = None,
) -> DatabaseWorker | RedisWorker | None:
    """The worker for `backend`, or None when the backend runs its tasks by itself (immediate, dummy)."""
    from django_tasks_db import DatabaseBackend

    queue_names = list(queues or sorted(backend.queues))
    worker_id = worker_id or new_worker_id()
    if isinstance(backend, RedisBackend):
        return RedisWorker(
            backend=backend, queues=queue_names, worker_id=worker_id, batch=batch, interval=interval or 1.0
        )
    if isinstance(backend, DatabaseBackend):
        return DatabaseWorker(
            backend_alias=backend.alias,
            queues=queue_names,
            worker_id=worker_id[:64],
            interval=interval or 0.5,
            batch=batch,
        )
    return None


def _in_thread(name: str, target: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except Exception:
            logger.exception("%s stopped on an unexpected error", name)
        finally:
            connections.close_all()  # this thread's database connections

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


@dataclass
class WorkerHandle:
    """What `start_in_process()` started. `stop()` lets the running task finish, then returns."""

    worker: DatabaseWorker | RedisWorker | None
    scheduler: Scheduler | None
    threads: list[threading.Thread] = field(default_factory=list)

    def stop(self, timeout: float | None = 60.0) -> None:
        for part in (self.worker, self.scheduler):
            if part is not None:
                part.stop()
        for thread in self.threads:
            thread.join(timeout=timeout)

    @property
    def alive(self) -> bool:
        return all(thread.is_alive() for thread in self.threads)


def start_in_process(
    *, queues: list[str] | None = None, scheduler: bool = True, worker_id: str | None = None
) -> WorkerHandle:
    """Start the task worker of the configured backend and the periodic scheduler in daemon threads."""
    backend = task_backends["default"]
    worker = make_worker(backend=backend, queues=queues, worker_id=worker_id)
    handle = WorkerHandle(worker=worker, scheduler=Scheduler() if scheduler else None)
    if worker is not None:
        handle.threads.append(_in_thread("ebourgogne-task-worker", worker.run))
    else:
        logger.info("Backend %s runs tasks when they are enqueued: no worker needed", type(backend).__name__)
    if handle.scheduler is not None:
        handle.threads.append(_in_thread("ebourgogne-scheduler", handle.scheduler.run))
    return handle
