"""Benchmark `pages`: how close the real pages come to a bare Django view on the same server.

Method (docs/benchmarks.md): a fresh data folder and database (SQLite in the folder, or a throw-away
database on the PostgreSQL server of DATABASE_URL), seeded with realistic data; `ebourgogne serve`
(gunicorn, production mode behind a pretend TLS proxy, the default worker and thread counts) with the
benchmark URLconf; 50 keep-alive clients on loopback measure requests per second of
  - bare:    /bench/bare, a Django view returning 3 bytes (same middleware, no template, no query),
  - home:    the portal home page, anonymous,
  - account: /compte/, signed in as a seeded company member (no MFA needed),
  - search:  /consultations/, the portal's search page, anonymous, first page of the latest consultations,
  - consultation: /consultations/<pk>/, the public page of a published consultation with lots, anonymous,
in rounds, every endpoint in turn; each figure is the median of its rounds.
ratio = the lowest of page / bare over the pages; goal ≥ 0.33.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

from bench import _loadgen
from ebourgogne.config import VARIABLES
from ebourgogne.core.management.commands.serve import default_workers

NAME = "pages"
DESCRIPTION = (
    "Requests/s of the portal home, a signed-in account page, the consultation search page and a public "
    "consultation page as a ratio to a bare Django view on the same gunicorn server, 50 keep-alive clients on "
    "loopback. Goal: ratio >= 0.33 for each page."
)
GOAL = 0.33
CLIENTS = 50

FULL = {"buyers": 200, "companies": 2000, "consultations": 10_000, "rounds": 3, "warmup": 2.0, "seconds": 10.0}
QUICK = {"buyers": 20, "companies": 200, "consultations": 300, "rounds": 1, "warmup": 0.5, "seconds": 1.5}
# The search page and a consultation page (seeded with consultations.seeding); False measures home and
# account only, on data without consultations, as before they existed.
CONSULTATION_PAGES = True

# Variables of the caller that are passed on to the server under test; the rest is set here.
PASSED_ON = ("EBOURGOGNE_WORKERS", "EBOURGOGNE_THREADS", "REDIS_URL")


def log(message: str) -> None:
    print(f"[pages] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _database(data_dir: Path):
    """'' for SQLite in the data folder, or the URL of a fresh database on DATABASE_URL's server."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        yield ""
        return
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("bench pages: DATABASE_URL must be PostgreSQL (or unset, for SQLite).")
    import psycopg

    name = f"ebourgogne_bench_{secrets.token_hex(4)}"
    # CREATE and DROP from the server's maintenance database: DATABASE_URL's own may not exist yet.
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _environment(data_dir: Path, database_url: str, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EBOURGOGNE_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update({key: os.environ[key] for key in PASSED_ON if key in os.environ})
    env.update(
        {
            "EBOURGOGNE_DATA_DIR": str(data_dir),
            "EBOURGOGNE_PRODUCTION": "1",
            "EBOURGOGNE_SECRET_KEY": secrets.token_urlsafe(50),
            "EBOURGOGNE_ALLOWED_HOSTS": "127.0.0.1",
            "EBOURGOGNE_BEHIND_PROXY": "1",
            "EBOURGOGNE_BENCH": "1",
            "EBOURGOGNE_BIND": f"127.0.0.1:{port}",
            # Every request costs the same log line whatever the page: off, so the bare view is as fast as it
            # can be and the ratio is not flattered.
            "EBOURGOGNE_ACCESS_LOG": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _ebourgogne(*args: str) -> list[str]:
    return [sys.executable, "-m", "ebourgogne", *args]


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[2:])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _cpu_ticks(pid: int) -> int:
    """User + system CPU ticks of `pid` and its direct children (gunicorn's arbiter and its workers).

    A worker that exits (gunicorn recycles them) has its ticks moved to the arbiter's "children"
    counters when it is reaped: those count too, so the sum never goes backwards."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid:
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        elif int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total


class _DatabaseCpu:
    """CPU ticks of the PostgreSQL backends serving the benchmark's database (the server must run on this
    machine). Polled in a thread, so that a backend that ends during a window (connections are renewed
    every CONN_MAX_AGE) still counts up to its last reading; a backend started during it counts whole.
    Nothing on SQLite, whose work is in the server's own processes."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.last: dict[int, int] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self):
        if self.url:
            import psycopg

            self.connection = psycopg.connect(self.url, autocommit=True)
            self.thread = threading.Thread(target=self._poll, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.thread is not None:
            self.stopping.set()
            self.thread.join()
            self.connection.close()

    def _poll(self) -> None:
        while not self.stopping.is_set():
            self.read()
            self.stopping.wait(0.2)

    def read(self) -> dict[int, int]:
        if self.thread is None:
            return {}
        with self.lock:
            pids = [
                row[0]
                for row in self.connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                self.last[pid] = int(fields[11]) + int(fields[12])
            return dict(self.last)

    @staticmethod
    def used(start: dict[int, int], end: dict[int, int]) -> int:
        return sum(ticks - start.get(pid, 0) for pid, ticks in end.items())


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _wait_until_up(process: subprocess.Popen, port: int, headers: dict[str, str], log_file: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ebourgogne serve exited:\n{log_file.read_text()}")
        try:
            if _get(port, "/healthz", headers)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"ebourgogne serve did not answer:\n{log_file.read_text()}")


@contextmanager
def _server(env: dict[str, str], port: int, log_file: Path, headers: dict[str, str]):
    with log_file.open("wb") as out:
        process = subprocess.Popen(_ebourgogne("serve"), env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        _wait_until_up(process, port, headers, log_file)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(quick: bool) -> dict:
    plan = QUICK if quick else FULL
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryDirectory(prefix="ebourgogne-bench-") as tmp:
        data_dir = Path(tmp)
        with _database(data_dir) as database_url:
            port = _free_port()
            env = _environment(data_dir, database_url, port)
            log(f"data folder {data_dir}, database {'PostgreSQL' if database_url else 'SQLite'}")
            log(f"seeding {plan['buyers']} buyers and {plan['companies']} companies…")
            prepare_script = Path(__file__).with_name("_prepare.py")
            prepared = json.loads(
                _run(
                    [
                        sys.executable,
                        str(prepare_script),
                        "--buyers",
                        str(plan["buyers"]),
                        "--companies",
                        str(plan["companies"]),
                        "--consultations",
                        str(plan["consultations"] if CONSULTATION_PAGES else 0),
                    ],
                    env,
                )
                .strip()
                .splitlines()[-1]
            )
            log(f"seeded: {prepared['counts']} ({prepared['seeded_with']}, {prepared['seed_seconds']} s)")
            log("collectstatic…")
            _run(_ebourgogne("collectstatic", "--no-input", "-v0"), env)

            proxy = {"X-Forwarded-Proto": "https", "Accept": "text/html", "Accept-Language": "fr"}
            endpoints = {
                "bare": ("/bench/bare", proxy),
                "home": ("/", proxy),
                "account": ("/compte/", {**proxy, "Cookie": prepared["session_cookie"]}),
            }
            consultation = prepared.get("consultation")
            if consultation:
                endpoints["search"] = ("/consultations/", proxy)
                endpoints["consultation"] = (f"/consultations/{consultation['pk']}/", proxy)
            with _server(env, port, data_dir / "serve.log", proxy) as server, _DatabaseCpu(database_url) as database:
                # Each page must really be what we think it is before we time it.
                for key, (path, headers) in endpoints.items():
                    status, body = _get(port, path, headers)
                    if status != 200:
                        raise RuntimeError(f"{key} ({path}) answered {status}, not 200")
                    if key == "account" and prepared["user"].encode() not in body:
                        raise RuntimeError("the account page does not show the signed-in user")
                    if key == "home" and b"<html" not in body:
                        raise RuntimeError("the home page is not HTML")
                    if key == "search" and body.count(b'href="/consultations/') < 10:
                        raise RuntimeError("the search page does not list consultations")
                    if key == "consultation" and consultation["reference"].encode() not in body:
                        raise RuntimeError("the consultation page does not show the consultation")

                rounds: dict[str, list[dict]] = {key: [] for key in endpoints}
                for number in range(1, plan["rounds"] + 1):
                    for key, (path, headers) in endpoints.items():
                        samples: dict[str, float] = {}

                        def sample(moment: str, samples=samples, pid=server.pid) -> None:
                            samples[moment] = (time.perf_counter(), _cpu_ticks(pid), database.read())

                        result = _loadgen.load(
                            port=port,
                            path=path,
                            clients=CLIENTS,
                            warmup=plan["warmup"],
                            seconds=plan["seconds"],
                            headers=headers,
                            window=[sample],
                        )
                        wall = samples["end"][0] - samples["start"][0]
                        server_cores = (samples["end"][1] - samples["start"][1]) / ticks_per_second / wall
                        database_cores = database.used(samples["start"][2], samples["end"][2]) / ticks_per_second / wall
                        figures = {
                            **result.as_dict(),
                            "server_cpu_cores": round(server_cores, 3),
                            "database_cpu_cores": round(database_cores, 3),
                        }
                        rounds[key].append(figures)
                        log(
                            f"round {number} {key:8} {figures['rps']:8.1f} req/s  p50 {figures['latency_ms'].get('p50')} ms"
                            f"  server CPU {server_cores:.2f} cores, database {database_cores:.2f},"
                            f" load generator {figures['client_cpu_cores']:.2f}"
                        )

    rps = {key: statistics.median(r["rps"] for r in results) for key, results in rounds.items()}
    pages = [key for key in rounds if key != "bare"]
    ratios = {key: round(rps[key] / rps["bare"], 3) if rps["bare"] else 0.0 for key in pages}
    failures = {
        key: sum(r["errors"] + sum(n for code, n in r["statuses"].items() if code != "200") for r in results)
        for key, results in rounds.items()
    }
    ratio = min(ratios.values())
    # Server CPU per request: a second view of the same comparison that does not depend on how much CPU
    # was left to the server (the machine's other processes, the load generator itself).
    cpu_ms = {
        key: statistics.median(1000 * r["server_cpu_cores"] / r["rps"] for r in results if r["rps"])
        for key, results in rounds.items()
    }
    # The same with the database server's CPU added (PostgreSQL): what the machine spends per request.
    total_ms = {
        key: statistics.median(
            1000 * (r["server_cpu_cores"] + r["database_cpu_cores"]) / r["rps"] for r in results if r["rps"]
        )
        for key, results in rounds.items()
    }
    return {
        "name": NAME,
        "ratio": ratio,
        "goal": GOAL,
        "met": bool(ratio >= GOAL and not any(failures.values())),
        "rps": {key: round(value, 1) for key, value in rps.items()},
        "ratios": ratios,
        "failed_requests": failures,
        "latency_ms_p50": {
            key: statistics.median(r["latency_ms"]["p50"] for r in results) for key, results in rounds.items()
        },
        "latency_ms_p99": {
            key: statistics.median(r["latency_ms"]["p99"] for r in results) for key, results in rounds.items()
        },
        "server_cpu_cores": {
            key: round(statistics.median(r["server_cpu_cores"] for r in results), 2) for key, results in rounds.items()
        },
        "server_cpu_ms_per_request": {key: round(value, 3) for key, value in cpu_ms.items()},
        "cpu_ratios": {key: round(cpu_ms["bare"] / cpu_ms[key], 3) for key in pages},
        "database_cpu_ms_per_request": {
            key: round(statistics.median(1000 * r["database_cpu_cores"] / r["rps"] for r in results if r["rps"]), 3)
            for key, results in rounds.items()
        },
        "total_cpu_ms_per_request": {key: round(value, 3) for key, value in total_ms.items()},
        "total_cpu_ratios": {key: round(total_ms["bare"] / total_ms[key], 3) for key in pages},
        "load_generator_cpu_cores": {
            key: round(statistics.median(r["client_cpu_cores"] for r in results), 2) for key, results in rounds.items()
        },
        "machine_cores": len(os.sched_getaffinity(0)),
        "clients": CLIENTS,
        "server": {
            "software": "gunicorn gthread (ebourgogne serve)",
            "workers": int(env.get("EBOURGOGNE_WORKERS") or default_workers()),
            "threads": int(env.get("EBOURGOGNE_THREADS") or VARIABLES["EBOURGOGNE_THREADS"].default),
        },
        "database": "postgresql" if database_url else "sqlite",
        "data": {**prepared["counts"], **((prepared.get("consultation") or {}).get("counts") or {})},
        "consultation_page": (prepared.get("consultation") or {}).get("pk"),
        "signed_in_as": "company member",
        "quick": quick,
        "rounds": plan["rounds"],
        "seconds_per_measure": plan["seconds"],
        "all_rounds": rounds,
    }
