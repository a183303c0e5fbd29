"""Tasks and fixtures shared by the task tests (no tests here).

Tasks must live at module level so that a worker, in this process or another, can import them by path.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest
import redis
from django.tasks import task, task_backends
from django.test import override_settings

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@task()
def add(a, b):
    return a + b


@task()
def fail(message):
    raise RuntimeError(message)


@task()
def record_run(redis_url, key, number):
    """Append `number` to a Redis list: the test counts how many times each task really ran."""
    redis.Redis.from_url(redis_url).rpush(key, number)
    return number


@task()
def sleep_then_record(redis_url, key, seconds):
    client = redis.Redis.from_url(redis_url)
    client.rpush(key, "started")
    time.sleep(seconds)
    client.rpush(key, "done")
    return "slept"


@task(takes_context=True)
def report_attempt(context, label):
    return {"label": label, "attempt": context.attempt}


def redis_client_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"REDIS NOT REACHABLE at {REDIS_URL} ({error}): the Redis task backend is NOT tested")
    return client


def redis_tasks_settings(prefix: str, **options) -> dict:
    return {
        "default": {
            "BACKEND": "ebourgogne.core.tasks_redis.RedisBackend",
            "QUEUES": ["default", "mail"],
            "OPTIONS": {"url": REDIS_URL, "prefix": prefix, **options},
        }
    }


@pytest.fixture
def redis_prefix():
    client = redis_client_or_skip()
    prefix = f"test-ebourgogne:{uuid.uuid4().hex}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_backend(redis_prefix):
    """The default task backend switched to Redis under a prefix of its own."""
    with override_settings(TASKS=redis_tasks_settings(redis_prefix, visibility_timeout=2)):
        yield task_backends["default"]
