"""`ebourgogne serve`: the production HTTP server.

gunicorn, run from inside the command so that the configuration comes from the same environment
variables as the rest of the platform (EBOURGOGNE_BIND, EBOURGOGNE_WORKERS, EBOURGOGNE_THREADS,
EBOURGOGNE_TIMEOUT, EBOURGOGNE_ACCESS_LOG, EBOURGOGNE_ACCESS_LOG_FORMAT; see docs/deployment.md).
Each process runs several threads (gunicorn's gthread worker), which keeps connections alive between
requests. Static files are served by whitenoise from the folder filled by `ebourgogne collectstatic`.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from ebourgogne.config import env

MAX_DEFAULT_WORKERS = 12


def default_workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return min(2 * cores + 1, MAX_DEFAULT_WORKERS)


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise CommandError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise CommandError(f"{name} must be at least 1, not {value}.")
    return value


def server_options(
    *, bind: str | None = None, workers: int | None = None, threads: int | None = None
) -> dict[str, Any]:
    """gunicorn's settings, from the environment; command-line values win."""
    raw_workers = env("EBOURGOGNE_WORKERS").strip()
    access_log = env("EBOURGOGNE_ACCESS_LOG").strip()
    return {
        "bind": [item.strip() for item in (bind or env("EBOURGOGNE_BIND")).split(",") if item.strip()],
        "workers": workers or (_positive_int("EBOURGOGNE_WORKERS", raw_workers) if raw_workers else default_workers()),
        "threads": threads or _positive_int("EBOURGOGNE_THREADS", env("EBOURGOGNE_THREADS")),
        # gthread also with one thread: it is the worker that keeps connections alive.
        "worker_class": "gthread",
        "timeout": _positive_int("EBOURGOGNE_TIMEOUT", env("EBOURGOGNE_TIMEOUT")),
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": access_log or None,
        "access_log_format": env("EBOURGOGNE_ACCESS_LOG_FORMAT"),
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "ebourgogne",
        # gunicorn's runtime control socket sits at one fixed path per user: several servers on one
        # machine (tests, benchmarks) would fight over it, and the platform does not use it.
        "control_socket_disable": True,
        # A worker is recycled now and then, so that a slow leak never takes a node down.
        "max_requests": 20000,
        "max_requests_jitter": 2000,
    }


def run_gunicorn(options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class PlatformApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self):
            from ebourgogne.wsgi import application

            return application

    # The workers are forked from this process: no database connection may be shared with them.
    connections.close_all()
    PlatformApplication(prog="ebourgogne serve").run()


class Command(BaseCommand):
    help = (
        "Serve the platform in production (gunicorn). Configured by EBOURGOGNE_BIND, EBOURGOGNE_WORKERS, "
        "EBOURGOGNE_THREADS, EBOURGOGNE_TIMEOUT and EBOURGOGNE_ACCESS_LOG; run `ebourgogne collectstatic` first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--bind", help="HOST:PORT to listen on (default: EBOURGOGNE_BIND, 127.0.0.1:8000).")
        parser.add_argument("--workers", type=int, help="Server processes (default: EBOURGOGNE_WORKERS).")
        parser.add_argument("--threads", type=int, help="Threads per process (default: EBOURGOGNE_THREADS).")

    def handle(self, *args: Any, bind: str | None, workers: int | None, threads: int | None, **options: Any) -> None:
        for name, value in (("--workers", workers), ("--threads", threads)):
            if value is not None and value < 1:
                raise CommandError(f"{name} must be at least 1.")
        run_gunicorn(server_options(bind=bind, workers=workers, threads=threads))
