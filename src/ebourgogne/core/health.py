"""Readiness checks: database, storage and task queue."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection


def _timed(func) -> dict:
    started = time.perf_counter()
    try:
        detail = func()
        ok = True
    except Exception as error:  # noqa: BLE001 - a probe reports every failure, it never raises
        ok, detail = False, f"{type(error).__name__}: {error}"[:300]
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), "detail": detail or ""}


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _storage() -> str:
    name = default_storage.save(f"readyz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    default_storage.delete(name)
    return type(default_storage).__name__


def _queue() -> str:
    from django.tasks import default_task_backend

    check = getattr(default_task_backend, "ping", None)
    if check is not None:
        check()
    elif settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.exists()
    return settings.TASKS_BACKEND_NAME


def readiness() -> dict[str, dict]:
    return {"database": _timed(_database), "storage": _timed(_storage), "queue": _timed(_queue)}
