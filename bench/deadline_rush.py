"""Benchmark `deadline-rush`: N bidders upload their sealed bids at once just before the deadline.

Method (docs/benchmarks.md, section "deadline-rush"): a fresh data folder and database (SQLite in the
folder, or a throw-away database on DATABASE_URL's PostgreSQL server); one published consultation with a
test opening key (an age X25519 recipient); N companies, each with one member and a personal API token.
The bidders' software needs no browser: the payload (random bytes) is age-encrypted with pyrage to the
consultation's recipient BEFORE the clock starts. Then `ebourgogne serve` (gunicorn, production mode) on
loopback, and N client threads start together, each through the real API of docs/bids-protocol.md: create
the bid, announce the file, PATCH it in chunks of `chunk_size` (8 MB), deposit (the server fsyncs, numbers
the bid and issues its receipt with an RFC 3161 token). Timed: from the start signal to the last deposit.

- ingest = bytes uploaded by all bidders / wall time of the rush (MB/s);
- disk = raw sequential write bandwidth of the same disk, same run: `dd if=/dev/zero bs=8M conv=fsync`
  into the data folder, once before and once after the rush (their mean);
- ratio = ingest / disk, goal >= 0.5.
- Server memory: the resident memory (VmRSS) of the gunicorn master and all its workers, summed, sampled
  every 50 ms; its peak with K bidders uploading M MB each, then K bidders uploading L MB each (large
  files, 2 GB by default): rss_ratio = large / small must stay near 1 (the upload is streamed to disk).

Sizes: DEADLINE_RUSH_BIDDERS (200), DEADLINE_RUSH_FILE_MB (20), DEADLINE_RUSH_LARGE_MB (2048),
DEADLINE_RUSH_LARGE_BIDDERS (2) in the environment, or `python -m bench.deadline_rush --help`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.pages import _database, _environment, _free_port, _run, _server

NAME = "deadline-rush"
DESCRIPTION = (
    "N bidders (200) upload an age-encrypted file (20 MB) each in resumable chunks through the API, at once, "
    "then deposit: aggregate ingest as a ratio to the disk's raw sequential write bandwidth (dd, fsync), "
    "goal >= 0.5; server peak RSS with 20 MB vs 2 GB files (must stay flat)."
)
GOAL = 0.5
RSS_FLAT = 1.25  # large-file peak RSS at most 25 % above the small-file one, same number of bidders

FULL = {"bidders": 200, "file_mb": 20, "large_mb": 2048, "large_bidders": 2, "dd_mb": 2048, "warmup": 12}
QUICK = {"bidders": 4, "file_mb": 1, "large_mb": 12, "large_bidders": 2, "dd_mb": 32, "warmup": 4}
ENVIRONMENT = {
    "bidders": "DEADLINE_RUSH_BIDDERS",
    "file_mb": "DEADLINE_RUSH_FILE_MB",
    "large_mb": "DEADLINE_RUSH_LARGE_MB",
    "large_bidders": "DEADLINE_RUSH_LARGE_BIDDERS",
}
HEADERS = {"X-Forwarded-Proto": "https"}
MB = 1024 * 1024

PREPARE = r"""
import json, os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "ebourgogne.settings"
django.setup()
from datetime import timedelta
from django.core.management import call_command
from django_scopes import scopes_disabled

call_command("migrate", verbosity=0)
from ebourgogne.apitokens.services import token_create
from ebourgogne.core import clock
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, ConsultationFactory, UserFactory, make_member
from ebourgogne.testing.sealing import give_test_key

count, limit = int(sys.argv[1]), int(sys.argv[2])
buyer = BuyerFactory(name="Région Bourgogne-Franche-Comté")
with scopes_disabled():
    consultation = ConsultationFactory(
        organisation=buyer, published=True, title="Construction du lycée de Nevers",
        bids_deadline=clock.now() + timedelta(days=1), bid_size_limit=limit,
    )
    give_test_key(consultation)
    consultation.refresh_from_db()
    recipient = consultation.opening_key.recipient
bidders = []
for n in range(count):
    company = CompanyFactory(name=f"Entreprise soumissionnaire {n + 1}")
    # No password: these people only use their API token (and argon2 would make seeding slow).
    member = make_member(company, Role.COMPANY_MEMBER, UserFactory(password=None))
    _token, secret = token_create(user=member, name="Logiciel de réponse")
    bidders.append({"org": company.slug, "token": secret})
from django_tasks_db.models import DBTaskResult
DBTaskResult.objects.all().delete()
from ebourgogne.timestamping.authority import get_authority
get_authority()  # the embedded TSA's certificates are made now, not during the first deposit
print(json.dumps({"consultation": consultation.pk, "recipient": recipient, "bidders": bidders}))
"""

COUNT = r"""
import json, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "ebourgogne.settings"
django.setup()
from django_scopes import scopes_disabled
from ebourgogne.tenders.models import Bid, Receipt
with scopes_disabled():
    print(json.dumps({"deposited": Bid.objects.filter(state="deposited").count(),
                      "receipts": Receipt.objects.count(),
                      "stamped": Receipt.objects.filter(timestamp_token__isnull=False).count()}))
"""


def log(message: str) -> None:
    print(f"[deadline-rush] {message}", file=sys.stderr, flush=True)


# -- The disk ----------------------------------------------------------------------------------------


def disk_write_mb_s(folder: Path, size_mb: int) -> float:
    """Raw sequential write bandwidth: dd of zeros in 8 MB blocks, fsync before dd exits (conv=fsync)."""
    target = folder / "dd-probe.bin"
    blocks = max(1, size_mb // 8)
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        ["dd", "if=/dev/zero", f"of={target}", "bs=8M", f"count={blocks}", "conv=fsync"],  # noqa: S607
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    target.unlink()
    return blocks * 8 * MB / seconds / 1e6


# -- Server memory -----------------------------------------------------------------------------------


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by a process tree: the server's own work, whatever the load."""
    ticks = 0
    for pid in _descendants(root):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Peak of the summed VmRSS of a process tree (the gunicorn master and its workers), every 50 ms."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak_kb = 0
        self.peak_process_kb = 0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            pids = _descendants(self.root)
            sizes = [_rss_kb(pid) for pid in pids]
            self.processes = max(self.processes, len(pids))
            self.peak_kb = max(self.peak_kb, sum(sizes))
            self.peak_process_kb = max(self.peak_process_kb, max(sizes, default=0))
            self._stop.wait(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# -- The bidders -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool = False
    error: str = ""
    bytes_sent: int = 0
    chunks: int = 0
    retries: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=dict)  # wall time of each call, by kind


class Source:
    """The ciphertext every bidder sends: in memory (small) or read chunk by chunk from a file (large)."""

    def __init__(self, path: Path, in_memory: bool) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.data = path.read_bytes() if in_memory else None
        self.fd = None if in_memory else os.open(path, os.O_RDONLY)

    def chunk(self, offset: int, length: int) -> bytes | memoryview:
        if self.data is not None:
            return memoryview(self.data)[offset : offset + length]
        return os.pread(self.fd, length, offset)


RETRIES = 120  # answers 503 "busy" (Retry-After) followed before a bidder gives up


def _call(
    connection: http.client.HTTPConnection, method: str, path: str, body, headers: dict, outcome: Outcome, kind: str
):
    """One protocol call; a 503 "busy" answer is retried after its Retry-After, as the protocol asks."""
    started = time.perf_counter()
    try:
        return _call_retrying(connection, method, path, body, headers, outcome)
    finally:
        outcome.seconds.setdefault(kind, []).append(time.perf_counter() - started)


def _call_retrying(connection: http.client.HTTPConnection, method: str, path: str, body, headers: dict, outcome):
    for _attempt in range(RETRIES):
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        outcome.statuses[response.status] = outcome.statuses.get(response.status, 0) + 1
        if response.status != 503:
            break
        outcome.retries += 1
        time.sleep(float(response.getheader("Retry-After") or 1) * (0.5 + random.random()))  # noqa: S311
    return response.status, content


def bidder(port: int, consultation: int, org: str, token: str, source: Source, start: threading.Event) -> Outcome:
    outcome = Outcome()
    auth = {**HEADERS, "Authorization": f"Bearer {token}"}
    json_headers = {**auth, "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    start.wait()
    try:
        base = f"/api/v1/companies/{org}"
        status, body = _call(
            connection,
            "POST",
            f"{base}/bids",
            json.dumps({"consultation": consultation}),
            json_headers,
            outcome,
            "create",
        )
        if status != 201:
            raise RuntimeError(f"create: {status} {body[:200]!r}")
        bid = json.loads(body)["id"]
        announce = json.dumps({"envelope": "offer", "name": "offre.pdf", "size": source.size})
        status, body = _call(
            connection, "POST", f"{base}/bids/{bid}/files", announce, json_headers, outcome, "announce"
        )
        if status != 201:
            raise RuntimeError(f"announce: {status} {body[:200]!r}")
        announced = json.loads(body)
        url, chunk_size = announced["url"], announced["chunk_size"]
        offset = 0
        while offset < source.size:
            data = source.chunk(offset, min(chunk_size, source.size - offset))
            headers = {**auth, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
            status, body = _call(connection, "PATCH", url, data, headers, outcome, "chunk")
            if status == 409:  # resume where the server says (the protocol's answer to a lost chunk)
                offset = json.loads(body).get("offset", offset)
                outcome.bytes_sent = offset  # one file per bidder: what the server holds
                continue
            if status != 204:
                raise RuntimeError(f"chunk at {offset}: {status} {body[:200]!r}")
            offset += len(data)
            outcome.bytes_sent = offset
            outcome.chunks += 1
        status, body = _call(connection, "POST", f"{base}/bids/{bid}/deposit", "{}", json_headers, outcome, "deposit")
        if status != 201:
            raise RuntimeError(f"deposit: {status} {body[:200]!r}")
        outcome.ok = True
    except Exception as error:  # noqa: BLE001 - counted and reported, the others go on
        outcome.error = f"{type(error).__name__}: {error}"
    finally:
        connection.close()
    return outcome


def rush(port: int, consultation: int, bidders: list[dict], source: Source, server_pid: int) -> dict:
    """Every bidder at once; the wall time from the start signal to the last deposit, and the server's RSS."""
    start = threading.Event()
    outcomes: list[Outcome] = [Outcome() for _ in bidders]

    def work(index: int, entry: dict) -> None:
        outcomes[index] = bidder(port, consultation, entry["org"], entry["token"], source, start)

    threads = [threading.Thread(target=work, args=(i, b)) for i, b in enumerate(bidders)]
    for thread in threads:
        thread.start()
    with RssSampler(server_pid) as memory:
        time.sleep(0.5)  # baseline sample, every thread waiting at the start line
        baseline_kb = memory.peak_kb
        cpu_before = _cpu_seconds(server_pid)
        started = time.perf_counter()
        start.set()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        server_cpu = _cpu_seconds(server_pid) - cpu_before
    sent = sum(o.bytes_sent for o in outcomes)
    failures = [o.error for o in outcomes if not o.ok]
    statuses: dict[str, int] = {}
    for outcome in outcomes:
        for code, count in outcome.statuses.items():
            statuses[str(code)] = statuses.get(str(code), 0) + count
    calls: dict[str, dict[str, float]] = {}
    for kind in ("create", "announce", "chunk", "deposit"):
        times = sorted(t for outcome in outcomes for t in outcome.seconds.get(kind, []))
        if times:
            calls[kind] = {
                "count": len(times),
                "mean_s": round(statistics.mean(times), 3),
                "p95_s": round(times[int(0.95 * (len(times) - 1))], 3),
                "max_s": round(times[-1], 3),
            }
    return {
        "bidders": len(bidders),
        "file_mb": round(source.size / MB, 2),
        "file_bytes": source.size,  # the ciphertext: the payload plus age's header and tags
        "seconds": round(seconds, 3),
        "bytes": sent,
        "ingest_mb_s": round(sent / seconds / 1e6, 1),
        # The server's processes' CPU time (user + system) during the rush: comparable between runs on a
        # shared machine, where the wall time depends on the others' load.
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_s_per_gb": round(server_cpu / (sent / 1e9), 2) if sent else None,
        "calls": calls,
        "deposits_ok": len(bidders) - len(failures),
        "failures": len(failures),
        "failure_examples": failures[:5],
        "statuses": statuses,
        "retries_after_busy": sum(o.retries for o in outcomes),
        "rss_peak_mb": round(memory.peak_kb / 1024, 1),
        "rss_idle_mb": round(baseline_kb / 1024, 1),
        "rss_peak_process_mb": round(memory.peak_process_kb / 1024, 1),
        "server_processes": memory.processes,
    }


def _ciphertext(folder: Path, recipient: str, size_mb: float, name: str) -> Path:
    """age-encrypt `size_mb` MB of random bytes to the recipient (pyrage), streaming through files."""
    import pyrage

    plain, sealed = folder / f"{name}.bin", folder / f"{name}.age"
    remaining = int(size_mb * MB)
    with plain.open("wb") as out:
        while remaining:
            block = min(remaining, 8 * MB)
            out.write(os.urandom(block))
            remaining -= block
    pyrage.encrypt_file(str(plain), str(sealed), [pyrage.x25519.Recipient.from_str(recipient)])
    plain.unlink()
    return sealed


def _server_errors(log_file: Path) -> dict[str, int]:
    """The distinct exceptions in the server's log (the last line of each traceback), with their count."""
    found: dict[str, int] = {}
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except OSError:
        return found
    for line in lines:
        if "database busy during" in line:  # tenders.api.transient: a 503 with Retry-After
            key = "database busy (503, Retry-After)"
            found[key] = found.get(key, 0) + 1
            continue
        match = re.match(r"^([A-Za-z_][\w.]*(?:Error|Exception|Locked)[\w.]*): (.{0,160})", line)
        if match:
            key = f"{match.group(1)}: {match.group(2)}"
            found[key] = found.get(key, 0) + 1
    return dict(sorted(found.items(), key=lambda item: -item[1])[:10])


def _plan(quick: bool, overrides: dict | None = None) -> dict:
    plan = dict(QUICK if quick else FULL)
    for key, variable in ENVIRONMENT.items():
        if os.environ.get(variable):
            plan[key] = int(os.environ[variable])
    plan.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return plan


def run(quick: bool, **overrides) -> dict:
    plan = _plan(quick, overrides)
    with tempfile.TemporaryDirectory(prefix="ebourgogne-bench-rush-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        work = Path(tmp) / "client"
        work.mkdir()
        with _database(data_dir) as database_url:
            port = _free_port()
            env = _environment(data_dir, database_url, port)
            env["EBOURGOGNE_ACCESS_LOG"] = ""
            everyone = plan["warmup"] + plan["bidders"] + 2 * plan["large_bidders"]
            limit = int(max(plan["file_mb"], plan["large_mb"]) * MB * 2)
            log(
                f"data folder {data_dir}, database {'PostgreSQL' if database_url else 'SQLite'}; seeding {everyone} bidders…"
            )
            prepared = json.loads(
                _run([sys.executable, "-c", PREPARE, str(everyone), str(limit)], env).strip().splitlines()[-1]
            )
            bidders = prepared["bidders"]
            log("encrypting the payloads with pyrage (not timed)…")
            small = Source(_ciphertext(work, prepared["recipient"], plan["file_mb"], "small"), in_memory=True)
            large = Source(_ciphertext(work, prepared["recipient"], plan["large_mb"], "large"), in_memory=False)
            tiny = Source(_ciphertext(work, prepared["recipient"], 0.01, "tiny"), in_memory=True)
            log("collectstatic…")
            _run([sys.executable, "-m", "ebourgogne", "collectstatic", "--no-input", "-v0"], env)
            disk = [disk_write_mb_s(data_dir, plan["dd_mb"])]
            log(f"disk (dd, fsync): {disk[0]:.1f} MB/s")
            with _server(env, port, data_dir / "serve.log", HEADERS) as server:
                # Warm-up (not counted): every worker imports, connects and loads the TSA key once.
                warm = rush(port, prepared["consultation"], bidders[: plan["warmup"]], tiny, server.pid)
                log(f"warm-up: {warm['deposits_ok']} deposits of {tiny.size} bytes")
                bidders = bidders[plan["warmup"] :]
                log(f"rush: {plan['bidders']} bidders × {plan['file_mb']} MB…")
                main = rush(port, prepared["consultation"], bidders[: plan["bidders"]], small, server.pid)
                log(
                    f"rush: {main['ingest_mb_s']} MB/s, {main['failures']} failures, peak RSS {main['rss_peak_mb']} MB, "
                    f"server CPU {main['server_cpu_s']} s ({main['server_cpu_s_per_gb']} s/GB); calls {main['calls']}"
                )
                rest = bidders[plan["bidders"] :]
                k = plan["large_bidders"]
                small_k = rush(port, prepared["consultation"], rest[:k], small, server.pid)
                log(f"memory: {k} × {plan['file_mb']} MB: peak RSS {small_k['rss_peak_mb']} MB")
                large_k = rush(port, prepared["consultation"], rest[k : 2 * k], large, server.pid)
                log(
                    f"memory: {k} × {plan['large_mb']} MB: peak RSS {large_k['rss_peak_mb']} MB ({large_k['ingest_mb_s']} MB/s)"
                )
            server_errors = _server_errors(data_dir / "serve.log")
            counts = json.loads(_run([sys.executable, "-c", COUNT], env).strip().splitlines()[-1])
            disk.append(disk_write_mb_s(data_dir, plan["dd_mb"]))
            log(f"disk again: {disk[1]:.1f} MB/s; {counts}")
    disk_mb_s = statistics.mean(disk)
    ratio = round(main["ingest_mb_s"] / disk_mb_s, 3)
    rss_ratio = round(large_k["rss_peak_mb"] / small_k["rss_peak_mb"], 3) if small_k["rss_peak_mb"] else None
    expected = plan["warmup"] + plan["bidders"] + 2 * plan["large_bidders"]
    failures = warm["failures"] + main["failures"] + small_k["failures"] + large_k["failures"]
    return {
        "name": NAME,
        "ratio": ratio,
        "goal": GOAL,
        "met": bool(
            ratio >= GOAL
            and failures == 0
            and counts["deposited"] == expected
            and counts["receipts"] == expected
            and rss_ratio is not None
            and rss_ratio <= RSS_FLAT
        ),
        "ingest_mb_s": main["ingest_mb_s"],
        "disk_mb_s": round(disk_mb_s, 1),
        "disk_mb_s_runs": [round(d, 1) for d in disk],
        "rss_ratio": rss_ratio,
        "rss_flat_goal": RSS_FLAT,
        "rush": main,
        "memory_small": small_k,
        "memory_large": large_k,
        "server_errors": server_errors,
        "deposited": counts["deposited"],
        "receipts": counts["receipts"],
        "receipts_stamped": counts["stamped"],
        "expected_deposits": expected,
        "plan": plan,
        "quick": quick,
        "database": "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite",
        "cpu_cores": len(os.sched_getaffinity(0)),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--bidders", type=int)
    parser.add_argument("--file-mb", type=float, dest="file_mb")
    parser.add_argument("--large-mb", type=float, dest="large_mb")
    parser.add_argument("--large-bidders", type=int, dest="large_bidders")
    parser.add_argument("--dd-mb", type=int, dest="dd_mb")
    parser.add_argument("--warmup", type=int)
    arguments = vars(parser.parse_args())
    quick = arguments.pop("quick")
    print(json.dumps(run(quick, **arguments), ensure_ascii=False))
