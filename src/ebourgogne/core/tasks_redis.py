"""A Redis backend for Django's tasks framework (`django.tasks`), and its worker.

Why our own: the embedded default (django-tasks-db) keeps tasks in the database; with several application
nodes a Redis queue takes that load off the database. django-tasks-rq targets the django-tasks backport
rather than Django 6.1's built-in `django.tasks`, so this module implements the small part we need.

Layout in Redis (every key starts with the `prefix` option, "ebourgogne:tasks" by default):

- `<prefix>:task:<id>`     a hash: what to run (task path, queue, priority, JSON arguments) and what
                            happened (status, times, worker ids, errors, return value). Kept with no
                            expiry while the task waits or runs; expires `result_ttl` seconds after it
                            finishes.
- `<prefix>:queue:<name>`  a sorted set of the ids ready to run; the score orders by priority (higher
                            first), then by arrival (first in, first out).
- `<prefix>:scheduled`     a sorted set of deferred ids (`run_after`), scored by the time they may run;
                            every claim first moves the due ones to their queue.
- `<prefix>:processing`    a sorted set of running ids, scored by the end of their lease.
- `<prefix>:wake:<name>`   a short list pushed on every enqueue, so that idle workers wake up at once
                            (BLPOP) instead of polling.

Reliability:

- **Atomic claim.** A Lua script moves one id from its queue to `processing`, sets the task's owner and
  status in the same step. Redis runs scripts one at a time, so two workers, on any number of nodes,
  never claim the same id.
- **Leases and the reaper.** A worker holds each running task for `visibility_timeout` seconds and renews
  the lease from a heartbeat thread while the task runs. If a worker dies (crash, OOM kill, lost node),
  its lease runs out and the reaper — run by every live worker — puts the task back at the head of its
  queue. A task that keeps killing its workers is failed after `max_deliveries` attempts.
- **Fencing.** A worker records a result only while it still owns the task. If its lease was lost (a very
  long pause) and the task went back to the queue but has not started again, the late result is kept
  and the queued copy withdrawn; if another worker already runs it, the stale result is dropped.
- **Graceful stop.** `RedisWorker.stop()` lets the running task finish, then the loop ends.

Times come from `ebourgogne.core.clock` (wall clock of the node): keep the nodes' clocks in sync (NTP).
A single Redis server (or a Sentinel-managed primary) is expected; Redis Cluster is not supported
(the scripts touch keys across slots).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import uuid
from traceback import format_exception
from typing import Any

import redis
from django.db import connections
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import Task, TaskContext, TaskError, TaskResult, TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils.crypto import get_random_string
from django.utils.json import normalize_json
from django.utils.module_loading import import_string

from ebourgogne.core import clock

logger = logging.getLogger("ebourgogne.tasks")

DEFAULT_PREFIX = "ebourgogne:tasks"
DEFAULT_RESULT_TTL = 7 * 24 * 3600
DEFAULT_VISIBILITY_TIMEOUT = 60
DEFAULT_MAX_DELIVERIES = 5
WAKE_LIST_LENGTH = 100

# Lua helpers shared by the scripts. `promote` moves due deferred tasks to their queue.
_LUA_COMMON = """
local function wake(p, q)
  redis.call('LPUSH', p .. ':wake:' .. q, '1')
  redis.call('LTRIM', p .. ':wake:' .. q, 0, WAKE_LAST)
end
local function promote(p, now)
  local due = redis.call('ZRANGEBYSCORE', p .. ':scheduled', '-inf', now, 'LIMIT', 0, 500)
  for _, id in ipairs(due) do
    redis.call('ZREM', p .. ':scheduled', id)
    local fields = redis.call('HMGET', p .. ':task:' .. id, 'queue_name', 'score')
    if fields[1] then
      redis.call('ZADD', p .. ':queue:' .. fields[1], fields[2], id)
      wake(p, fields[1])
    end
  end
end
""".replace("WAKE_LAST", str(WAKE_LIST_LENGTH - 1))

# ARGV: prefix, id, priority, run_after (epoch seconds or ""), now, then field/value pairs.
_LUA_ENQUEUE = (
    _LUA_COMMON
    + """
local p, id = ARGV[1], ARGV[2]
local seq = redis.call('INCR', p .. ':seq')
-- Higher priority first (priority is -100..100), then first in, first out.
local score = string.format('%.0f', (100 - tonumber(ARGV[3])) * 1099511627776 + seq)
local key = p .. ':task:' .. id
redis.call('HSET', key, 'score', score, unpack(ARGV, 6))
local queue = redis.call('HGET', key, 'queue_name')
if ARGV[4] ~= '' and tonumber(ARGV[4]) > tonumber(ARGV[5]) then
  redis.call('ZADD', p .. ':scheduled', ARGV[4], id)
else
  redis.call('ZADD', p .. ':queue:' .. queue, score, id)
  wake(p, queue)
end
return score
"""
)

# ARGV: prefix, worker id, now, lease deadline, queue names...  Returns the claimed id or false.
_LUA_CLAIM = (
    _LUA_COMMON
    + """
local p, worker, now = ARGV[1], ARGV[2], ARGV[3]
promote(p, now)
for attempt = 1, 50 do
  local best_id, best_score, best_queue = nil, nil, nil
  for i = 5, #ARGV do
    local head = redis.call('ZRANGE', p .. ':queue:' .. ARGV[i], 0, 0, 'WITHSCORES')
    if head[1] and (best_score == nil or tonumber(head[2]) < best_score) then
      best_id, best_score, best_queue = head[1], tonumber(head[2]), ARGV[i]
    end
  end
  if not best_id then return false end
  redis.call('ZREM', p .. ':queue:' .. best_queue, best_id)
  local key = p .. ':task:' .. best_id
  if redis.call('EXISTS', key) == 1 then
    local workers = redis.call('HGET', key, 'worker_ids')
    if workers and workers ~= '' then workers = workers .. ',' .. worker else workers = worker end
    redis.call('HSET', key, 'status', 'RUNNING', 'started_at', now, 'last_attempted_at', now,
               'worker_ids', workers, 'owner', worker)
    redis.call('HINCRBY', key, 'deliveries', 1)
    redis.call('ZADD', p .. ':processing', ARGV[4], best_id)
    return best_id
  end
  -- An id without its hash (deleted by hand): drop it and look again.
end
return false
"""
)

# ARGV: prefix, worker id, id, new lease deadline.  Returns 1 while the worker still owns the task.
_LUA_HEARTBEAT = """
local p, worker, id = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', p .. ':task:' .. id, 'owner') ~= worker then return 0 end
redis.call('ZADD', p .. ':processing', 'XX', ARGV[4], id)
return 1
"""

# ARGV: prefix, worker id, id, status, finished_at, result ttl, errors JSON, return value JSON.
# Returns 1 when the result was recorded, 0 when another worker owns the task now.
_LUA_FINISH = """
local p, worker, id = ARGV[1], ARGV[2], ARGV[3]
local key = p .. ':task:' .. id
local fields = redis.call('HMGET', key, 'owner', 'queue_name')
if fields[1] ~= worker then
  -- Our lease ran out. If the task went back to its queue and has not started again, withdraw it:
  -- it has run, and must not run twice.
  if not fields[2] or redis.call('ZREM', p .. ':queue:' .. fields[2], id) == 0 then return 0 end
end
redis.call('ZREM', p .. ':processing', id)
redis.call('HSET', key, 'status', ARGV[4], 'finished_at', ARGV[5], 'errors', ARGV[7],
           'return_value', ARGV[8], 'owner', '')
redis.call('EXPIRE', key, ARGV[6])
return 1
"""

# ARGV: prefix, now, max deliveries, result ttl.  Returns the ids put back in their queue or failed.
_LUA_REAP = (
    _LUA_COMMON
    + """
local p, now = ARGV[1], ARGV[2]
local expired = redis.call('ZRANGEBYSCORE', p .. ':processing', '-inf', now, 'LIMIT', 0, 500)
for _, id in ipairs(expired) do
  redis.call('ZREM', p .. ':processing', id)
  local key = p .. ':task:' .. id
  local fields = redis.call('HMGET', key, 'queue_name', 'score', 'deliveries', 'errors', 'owner')
  if fields[1] then
    local message = 'Worker ' .. (fields[5] or '?') .. ' stopped answering while running this task.'
    if tonumber(fields[3] or '0') >= tonumber(ARGV[3]) then
      local errors = cjson.decode((fields[4] ~= nil and fields[4] ~= '') and fields[4] or '[]')
      table.insert(errors, {exception_class_path = 'ebourgogne.core.tasks_redis.WorkerLost',
                            traceback = message .. ' Given up after ' .. fields[3] .. ' deliveries.'})
      redis.call('HSET', key, 'status', 'FAILED', 'finished_at', now, 'owner', '',
                 'errors', cjson.encode(errors))
      redis.call('EXPIRE', key, ARGV[4])
    else
      redis.call('HSET', key, 'status', 'READY', 'owner', '')
      redis.call('ZADD', p .. ':queue:' .. fields[1], fields[2], id)
      wake(p, fields[1])
    end
  end
end
return expired
"""
)


class WorkerLost(Exception):
    """Recorded as the error of a task whose workers kept dying while running it."""


def _timestamp(value: dt.datetime | None = None) -> str:
    return repr((value or clock.now()).timestamp())


def _datetime(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)


def refresh_db_connections() -> None:
    """Django's close_old_connections() for workers: between tasks, drop the database connections that
    broke or outlived CONN_MAX_AGE, as a request would. A connection inside a transaction (the caller's,
    or a test's) is left alone."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(6)}"


class RedisBackend(BaseTaskBackend):
    """Tasks in Redis. OPTIONS: url, prefix, result_ttl, visibility_timeout, max_deliveries."""

    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        self.url = self.options.get("url", "redis://127.0.0.1:6379/0")
        self.prefix = self.options.get("prefix", DEFAULT_PREFIX)
        self.result_ttl = int(self.options.get("result_ttl", DEFAULT_RESULT_TTL))
        self.visibility_timeout = float(self.options.get("visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT))
        self.max_deliveries = int(self.options.get("max_deliveries", DEFAULT_MAX_DELIVERIES))
        self._client: redis.Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._lock = threading.Lock()

    # --- Connection -------------------------------------------------------------------------------
    @property
    def client(self) -> redis.Redis:
        """The Redis client, made on first use (defining a task must not need Redis)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    client = redis.Redis.from_url(
                        self.url, decode_responses=True, socket_connect_timeout=5, health_check_interval=30
                    )
                    self._scripts = {
                        name: client.register_script(source)
                        for name, source in {
                            "enqueue": _LUA_ENQUEUE,
                            "claim": _LUA_CLAIM,
                            "heartbeat": _LUA_HEARTBEAT,
                            "finish": _LUA_FINISH,
                            "reap": _LUA_REAP,
                        }.items()
                    }
                    self._client = client
        return self._client

    def _script(self, name: str, *args: Any) -> Any:
        self.client  # noqa: B018 - makes the scripts
        return self._scripts[name](args=list(args))

    def ping(self) -> bool:
        """Used by /readyz: raises when Redis cannot be reached."""
        return bool(self.client.ping())

    def key(self, *parts: str) -> str:
        return ":".join([self.prefix, *parts])

    # --- The django.tasks API --------------------------------------------------------------------
    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        self.validate_task(task)
        # normalize_json refuses what JSON cannot carry (model instances, dates...): pass ids and strings.
        args_kwargs = normalize_json({"args": args, "kwargs": kwargs})
        task_id = uuid.uuid4().hex
        now = clock.now()
        fields = {
            "task_path": task.module_path,
            "queue_name": task.queue_name,
            "priority": str(task.priority),
            "run_after": _timestamp(task.run_after) if task.run_after else "",
            "args_kwargs": json.dumps(args_kwargs),
            "status": TaskResultStatus.READY,
            "enqueued_at": _timestamp(now),
            "started_at": "",
            "last_attempted_at": "",
            "finished_at": "",
            "worker_ids": "",
            "errors": "[]",
            "return_value": "null",
            "owner": "",
            "deliveries": "0",
        }
        flat = [item for pair in fields.items() for item in pair]
        self._script("enqueue", self.prefix, task_id, task.priority, fields["run_after"], _timestamp(now), *flat)
        result = TaskResult(
            task=task,
            id=task_id,
            status=TaskResultStatus.READY,
            enqueued_at=now,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=args_kwargs["args"],
            kwargs=args_kwargs["kwargs"],
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult:
        record = self.client.hgetall(self.key("task", str(result_id)))
        if not record:
            raise TaskResultDoesNotExist(result_id)
        return self._result_from_record(str(result_id), record)

    # --- Used by the worker ----------------------------------------------------------------------
    def _result_from_record(self, task_id: str, record: dict[str, str]) -> TaskResult:
        task = import_string(record["task_path"])
        if not isinstance(task, Task):
            raise TypeError(f"{record['task_path']} is not a task")
        run_after = _datetime(record.get("run_after"))
        task = task.using(
            priority=int(record["priority"]), queue_name=record["queue_name"], run_after=run_after, backend=self.alias
        )
        args_kwargs = json.loads(record["args_kwargs"])
        result = TaskResult(
            task=task,
            id=task_id,
            status=TaskResultStatus(record["status"]),
            enqueued_at=_datetime(record.get("enqueued_at")),
            started_at=_datetime(record.get("started_at")),
            finished_at=_datetime(record.get("finished_at")),
            last_attempted_at=_datetime(record.get("last_attempted_at")),
            args=args_kwargs["args"],
            kwargs=args_kwargs["kwargs"],
            backend=self.alias,
            errors=[TaskError(**error) for error in json.loads(record.get("errors") or "[]")],
            worker_ids=[w for w in (record.get("worker_ids") or "").split(",") if w],
        )
        object.__setattr__(result, "_return_value", json.loads(record.get("return_value") or "null"))
        return result

    def claim(self, *, worker_id: str, queues: list[str]) -> str | None:
        """Take the next ready task of `queues` for `worker_id`; its id, or None when there is none."""
        now = clock.now().timestamp()
        found = self._script("claim", self.prefix, worker_id, repr(now), repr(now + self.visibility_timeout), *queues)
        return found or None

    def heartbeat(self, *, worker_id: str, task_id: str) -> bool:
        deadline = clock.now().timestamp() + self.visibility_timeout
        return bool(self._script("heartbeat", self.prefix, worker_id, task_id, repr(deadline)))

    def finish(
        self, *, worker_id: str, task_id: str, status: str, errors: list[dict], return_value: Any = None
    ) -> bool:
        return bool(
            self._script(
                "finish",
                self.prefix,
                worker_id,
                task_id,
                status,
                _timestamp(),
                self.result_ttl,
                json.dumps(errors),
                json.dumps(return_value),
            )
        )

    def reap(self) -> list[str]:
        """Put back the tasks whose worker stopped renewing its lease; fail those that exhausted retries."""
        return list(self._script("reap", self.prefix, _timestamp(), self.max_deliveries, self.result_ttl))

    def wait_for_work(self, *, queues: list[str], timeout: float) -> None:
        """Block until something is enqueued on one of `queues`, or `timeout` seconds."""
        self.client.blpop([self.key("wake", queue) for queue in queues], timeout=max(timeout, 0.01))

    def pending_count(self, queues: list[str] | None = None) -> int:
        """Tasks ready to run, on `queues` (all of the backend's by default)."""
        return sum(self.client.zcard(self.key("queue", q)) for q in (queues or sorted(self.queues)))


class RedisWorker:
    """Runs the tasks of a RedisBackend. One worker runs one task at a time; start several for more.

    `run()` loops until `stop()` is called (from another thread or a signal handler); with `batch=True`
    it returns as soon as no task is ready; with `max_tasks` after that many tasks.
    """

    def __init__(
        self,
        *,
        backend: RedisBackend,
        queues: list[str] | None = None,
        worker_id: str | None = None,
        interval: float = 1.0,
        batch: bool = False,
        max_tasks: int | None = None,
    ) -> None:
        self.backend = backend
        self.queues = list(queues or sorted(backend.queues))
        self.worker_id = worker_id or new_worker_id()
        self.interval = interval
        self.batch = batch
        self.max_tasks = max_tasks
        self.tasks_run = 0
        self._stopping = threading.Event()
        self._heartbeat_stop = threading.Event()
        self._current: str | None = None
        self._next_reap = 0.0

    def stop(self) -> None:
        """Finish the running task, if any, then return from `run()`."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        logger.info("Redis worker %s started on queues %s", self.worker_id, ",".join(self.queues))
        heartbeat = threading.Thread(target=self._heartbeat_loop, name=f"heartbeat-{self.worker_id}", daemon=True)
        heartbeat.start()
        failures = 0
        try:
            while not self._stopping.is_set():
                try:
                    self._reap_if_due()
                    task_id = self.backend.claim(worker_id=self.worker_id, queues=self.queues)
                    failures = 0
                except redis.RedisError as error:
                    failures += 1
                    delay = min(30.0, 0.5 * 2**failures)
                    logger.warning("Redis unreachable (%s); retrying in %.1f s", error, delay)
                    self._stopping.wait(delay)
                    continue
                if task_id is None:
                    if self.batch:
                        return
                    try:
                        self.backend.wait_for_work(queues=self.queues, timeout=self.interval)
                    except redis.RedisError:
                        self._stopping.wait(self.interval)
                    continue
                self._run_task(task_id)
                self.tasks_run += 1
                if self.max_tasks is not None and self.tasks_run >= self.max_tasks:
                    return
        finally:
            self._stopping.set()
            self._heartbeat_stop.set()
            heartbeat.join(timeout=5)
            logger.info("Redis worker %s stopped after %d task(s)", self.worker_id, self.tasks_run)

    def _reap_if_due(self) -> None:
        now = clock.now().timestamp()
        if now >= self._next_reap:
            recovered = self.backend.reap()
            if recovered:
                logger.warning("Recovered %d task(s) from workers that stopped: %s", len(recovered), recovered)
            self._next_reap = now + max(self.backend.visibility_timeout / 4, 0.2)

    def _heartbeat_loop(self) -> None:
        period = max(self.backend.visibility_timeout / 4, 0.05)
        while not self._heartbeat_stop.wait(period):
            current = self._current
            if current is None:
                continue
            try:
                if not self.backend.heartbeat(worker_id=self.worker_id, task_id=current):
                    logger.error("Worker %s lost its lease on task %s", self.worker_id, current)
            except redis.RedisError as error:
                logger.warning("Heartbeat failed for task %s: %s", current, error)

    def _run_task(self, task_id: str) -> None:
        self._current = task_id
        errors: list[dict] = []
        return_value: Any = None
        status = TaskResultStatus.SUCCESSFUL
        task_result: TaskResult | None = None
        record = self.backend.client.hgetall(self.backend.key("task", task_id))
        try:
            refresh_db_connections()
            errors = json.loads(record.get("errors") or "[]")
            task_result = self.backend._result_from_record(task_id, record)
            task = task_result.task
            task_started.send(sender=type(self.backend), task_result=task_result)
            args, kwargs = task_result.args, task_result.kwargs
            if task.takes_context:
                value = task.call(TaskContext(task_result=task_result), *args, **kwargs)
            else:
                value = task.call(*args, **kwargs)
            return_value = normalize_json(value)
            json.dumps(return_value)
        except Exception as error:  # noqa: BLE001 - a failing task is recorded, never kills the worker
            status = TaskResultStatus.FAILED
            return_value = None
            errors.append(
                {
                    "exception_class_path": f"{type(error).__module__}.{type(error).__qualname__}",
                    "traceback": "".join(format_exception(error)),
                }
            )
        finally:
            refresh_db_connections()
        try:
            recorded = self.backend.finish(
                worker_id=self.worker_id, task_id=task_id, status=status, errors=errors, return_value=return_value
            )
            if not recorded:
                logger.error("Task %s finished on %s after its lease passed to another worker", task_id, self.worker_id)
        finally:
            self._current = None
        if task_result is not None:
            try:
                final = self.backend.get_result(task_id)
            except (TaskResultDoesNotExist, redis.RedisError):
                final = task_result
            task_finished.send(sender=type(self.backend), task_result=final)
