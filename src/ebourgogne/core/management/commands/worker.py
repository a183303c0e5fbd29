"""`ebourgogne worker`: run background tasks and periodic jobs, on one node or many.

Runs the worker of the configured task backend (EBOURGOGNE_TASKS_BACKEND) and, unless --no-scheduler,
the periodic scheduler. Any number of nodes may run it at the same time: each task runs once, and each
periodic job once per period. SIGTERM or SIGINT stops it gracefully: the running task finishes first;
a second signal stops at once.
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.tasks import task_backends

from ebourgogne.core.tasks_redis import new_worker_id
from ebourgogne.core.worker import WorkerHandle, make_worker, start_in_process


class Command(BaseCommand):
    help = "Run the background task worker and the periodic job scheduler."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--queues",
            default="",
            help="Comma-separated queues to take tasks from (default: all of the backend's: default, mail).",
        )
        parser.add_argument("--no-scheduler", action="store_true", help="Do not run the periodic scheduler here.")
        parser.add_argument(
            "--worker-id", default="", help="Name of this worker in task results (default: host-pid-random)."
        )
        parser.add_argument(
            "--burst",
            action="store_true",
            help="Run the tasks that are ready now, then exit (no scheduler). For scripts and tests.",
        )
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=300.0,
            help="On SIGTERM, seconds to wait for the running task before giving up (default: 300).",
        )

    def handle(
        self, *args, queues: str, no_scheduler: bool, worker_id: str, burst: bool, stop_timeout: float, **options
    ):
        backend = task_backends["default"]
        queue_names = [q.strip() for q in queues.split(",") if q.strip()] or sorted(backend.queues)
        unknown = sorted(set(queue_names) - set(backend.queues))
        if unknown:
            raise CommandError(f"Unknown queue(s): {', '.join(unknown)}. Known: {', '.join(sorted(backend.queues))}.")
        worker_id = worker_id or new_worker_id()

        if burst:
            worker = make_worker(backend=backend, queues=queue_names, worker_id=worker_id, batch=True)
            if worker is None:
                self.stdout.write(f"{type(backend).__name__} runs tasks when they are enqueued: nothing to do.")
                return
            worker.run()
            self.stdout.write("No task left to run.")
            return

        stop = threading.Event()

        def on_signal(signum, frame) -> None:
            self.stdout.write(
                f"{signal.Signals(signum).name}: finishing the running task, then stopping "
                "(send the signal again to stop at once)."
            )
            self.stdout.flush()
            # A second signal gets the default action: the process ends at once.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        handle: WorkerHandle = start_in_process(queues=queue_names, scheduler=not no_scheduler, worker_id=worker_id)
        self.stdout.write(
            f"Worker {worker_id} started: backend {type(backend).__name__}, queues {', '.join(queue_names)}, "
            f"scheduler {'off' if no_scheduler else 'on'}."
        )
        self.stdout.flush()
        try:
            while not stop.wait(1.0):
                if not handle.alive:
                    raise CommandError("A worker thread stopped unexpectedly; see the log above.")
        finally:
            handle.stop(timeout=stop_timeout)
        self.stdout.write(f"Worker {worker_id} stopped.")
