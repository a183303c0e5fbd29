"""A small HTTP/1.1 load generator: N keep-alive connections, each sending its next request as soon as the
previous answer is complete (closed loop), for a fixed time. Loopback only.

It is written on asyncio *protocols* (callbacks, no coroutine per request) so that one Python process
can drive tens of thousands of requests per second, well above what the server under test answers;
each run reports the CPU the generator itself used, to show that it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_HEAD_END = b"\r\n\r\n"


@dataclass
class LoadResult:
    path: str
    clients: int
    seconds: float
    requests: int
    statuses: dict[int, int]
    errors: int
    latencies_ms: dict[str, float]
    client_cpu_seconds: float
    reconnects: int = 0
    samples: list[float] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def client_cpu_cores(self) -> float:
        """CPU used by the generator during the measured window, in cores (1.0 = one core busy)."""
        return self.client_cpu_seconds / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "clients": self.clients,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "rps": round(self.rps, 1),
            "statuses": {str(code): count for code, count in sorted(self.statuses.items())},
            "errors": self.errors,
            "reconnects": self.reconnects,
            "latency_ms": self.latencies_ms,
            "client_cpu_cores": round(self.client_cpu_cores, 3),
        }


class _Run:
    def __init__(self, request: bytes) -> None:
        self.request = request
        self.sending = True  # False once the window is over: connections finish and close
        self.measuring = False
        self.requests = 0
        self.errors = 0
        self.reconnects = 0
        self.statuses: dict[int, int] = {}
        self.latencies: list[float] = []

    def record(self, status: int, latency: float) -> None:
        if self.measuring:
            self.requests += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.latencies.append(latency)


class _Connection(asyncio.Protocol):
    def __init__(self, run: _Run, closed: asyncio.Future) -> None:
        self.run = run
        self.closed = closed
        self.buffer = bytearray()
        self.body_left: int | None = None
        self.status = 0
        self.close_after = False
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._send()

    def _send(self) -> None:
        self.sent_at = time.perf_counter()
        self.transport.write(self.run.request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while True:
            if self.body_left is None:
                end = buffer.find(_HEAD_END)
                if end < 0:
                    return
                head = bytes(buffer[:end]).lower()
                del buffer[: end + 4]
                try:
                    self.status = int(head[9:12])
                    start = head.index(b"\r\ncontent-length:") + 17
                    stop = head.find(b"\r\n", start)
                    self.body_left = int(head[start : stop if stop >= 0 else len(head)])
                except ValueError:
                    # No Content-Length (Django always sends one): this run cannot be trusted.
                    self.run.errors += 1
                    self.transport.close()
                    return
                self.close_after = b"\r\nconnection: close" in head
            if len(buffer) < self.body_left:
                return
            del buffer[: self.body_left]
            self.body_left = None
            self.run.record(self.status, time.perf_counter() - self.sent_at)
            if self.close_after or not self.run.sending:
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc) -> None:
        if self.body_left is not None or exc is not None:
            self.run.errors += 1
        if not self.closed.done():
            self.closed.set_result(None)


async def _client(loop, host: str, port: int, run: _Run) -> None:
    while run.sending:
        closed = loop.create_future()
        try:
            await loop.create_connection(lambda closed=closed: _Connection(run, closed), host, port)
        except OSError:
            run.errors += 1
            await asyncio.sleep(0.05)
            continue
        await closed
        if run.sending:
            run.reconnects += 1  # the server closed a keep-alive connection; open another


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(ordered[-1] * 1000, 2)}


async def _load(
    host: str, port: int, path: str, clients: int, warmup: float, seconds: float, headers: dict, window: list
) -> LoadResult:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "User-Agent: ebourgogne-bench"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    run = _Run(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(_client(loop, host, port, run)) for _ in range(clients)]
    await asyncio.sleep(warmup)
    for hook in window:
        hook("start")
    cpu_start, started = time.process_time(), time.perf_counter()
    run.measuring = True
    await asyncio.sleep(seconds)
    run.measuring = False
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_start
    for hook in window:
        hook("end")
    run.sending = False
    await asyncio.wait(tasks, timeout=30)
    for task in tasks:
        task.cancel()
    return LoadResult(
        path=path,
        clients=clients,
        seconds=elapsed,
        requests=run.requests,
        statuses=run.statuses,
        errors=run.errors,
        latencies_ms=_percentiles(run.latencies),
        client_cpu_seconds=cpu,
        reconnects=run.reconnects,
    )


def load(
    *,
    port: int,
    path: str,
    clients: int = 50,
    warmup: float = 2.0,
    seconds: float = 10.0,
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    window: list[Callable[[str], None]] | None = None,
) -> LoadResult:
    """Drive `clients` keep-alive connections at http://host:port/path; measure for `seconds` after `warmup`.

    Each function in `window` is called with "start" and "end" around the measured window (to sample the
    server's CPU over exactly that window)."""
    if not host.startswith("127.") and host not in {"localhost", "::1"}:
        raise ValueError("the load generator only targets this machine's loopback addresses")
    return asyncio.run(_load(host, port, path, clients, warmup, seconds, headers or {}, window or []))
