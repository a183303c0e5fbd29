"""Benchmark `search`: latency of realistic portal searches at 10,000 and at 1,000,000 consultations.

Method (docs/benchmarks.md, section `search`): a fresh data folder and database (SQLite in the folder,
or a throw-away database on the PostgreSQL server of DATABASE_URL); a child process migrates, seeds
200 buyers and 10,000 consultations (`consultations.seeding`, search index filled in bulk), measures,
then seeds up to 1,000,000 and measures again. Each measure runs every query of QUERIES `repeat` times
after two warm-up runs, in-process:
  - selector: `search.selectors.search(criteria)` (the SQL of the page and the capped count),
  - view:     GET /consultations/?... through Django's test client (form, selector, template, middleware).
p95 over every run of every query. ratio = p95(1M) / p95(10k) of the selector; goal: ratio <= 2 and
p95(1M) < 100 ms (selector and view).

To measure again without seeding again (a 1M seed takes 6-12 minutes), `EBOURGOGNE_BENCH_SEARCH_KEEP=DIR`
keeps one database per size: SQLite in DIR/sqlite-SIZE, PostgreSQL in databases `NAME_SIZE` (NAME from
DATABASE_URL) with their data folder DIR/postgresql-SIZE. Each is seeded the first time exactly as in a
normal run (10,000 then up to 1,000,000 with the same generator seeds) and migrated on every run (the
search app's migrations bring the index to the code's shape); EBOURGOGNE_BENCH_SEARCH_REBUILD=1 also
rebuilds the index (`search.indexing.rebuild`) before measuring.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "search"
DESCRIPTION = (
    "p95 latency of realistic portal searches (keywords + filters) at 10,000 and 1,000,000 consultations, "
    "through the search selector and through the view. Goal: p95(1M) <= 2 x p95(10k) and p95 < 100 ms."
)
GOAL_RATIO = 2.0
GOAL_MS = 100.0

FULL = {"sizes": (10_000, 1_000_000), "repeat": 15, "buyers": 200}
QUICK = {"sizes": (500, 2_000), "repeat": 3, "buyers": 20}

# Query strings of the portal's search page (the same parameters as the form).
QUERIES = (
    "q=voirie&department=21",
    "cpv=45000000&closing_within=30",
    "q=restauration+scolaire&procedure=mapa",
    "contract_type=services&value_min=100000&value_max=500000",
    "q=maintenance+informatique",
    "",
    "q=%C3%A9cole&sort=deadline",
    "department=71&procedure=open&sort=published",
    "q=travaux&state=past",
    "cpv=55524000&department=89",
    "q=fourniture+de+repas&page=3",
    "state=all&sort=value&value_min=1000000",
)


def log(message: str) -> None:
    print(f"[search] {message}", file=sys.stderr, flush=True)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _measure(repeat: int) -> dict:
    from django.http import QueryDict
    from django.test import Client

    from ebourgogne.search import selectors
    from ebourgogne.search.forms import SearchForm

    client = Client()
    selector_ms: list[float] = []
    view_ms: list[float] = []
    per_query = {}
    for query in QUERIES:
        form = SearchForm(QueryDict(query))
        if not form.is_valid():
            raise SystemExit(f"bench search: invalid query {query!r}: {form.errors}")
        criteria, page = form.criteria(), form.cleaned_data["page"]
        found = selectors.search(criteria, page=page)
        for _ in range(2):
            selectors.search(criteria, page=page)
            client.get("/consultations/?" + query)
        times_s, times_v = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            selectors.search(criteria, page=page)
            times_s.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            response = client.get("/consultations/?" + query)
            times_v.append((time.perf_counter() - started) * 1000)
            if response.status_code not in (200, 404):  # 404: a page beyond the last (small sizes)
                raise SystemExit(f"bench search: {query!r} answered {response.status_code}")
        selector_ms += times_s
        view_ms += times_v
        cpu, database_cpu = _selector_cpu(criteria, page, repeat)
        per_query[query or "(default listing)"] = {
            "results": found.count,
            "selector_median_ms": round(statistics.median(times_s), 2),
            "view_median_ms": round(statistics.median(times_v), 2),
            "selector_cpu_ms": cpu,
            "selector_database_cpu_ms": database_cpu,
        }
    return {
        "selector_p95_ms": round(_p95(selector_ms), 2),
        "view_p95_ms": round(_p95(view_ms), 2),
        # CPU time per search (this process, plus the PostgreSQL backend's from /proc when the server runs
        # on this machine): what the search costs, much less sensitive than wall time to the other
        # processes sharing the machine. Means over `repeat` more calls; the worst query here.
        "selector_cpu_max_ms": max(
            q["selector_cpu_ms"] + (q["selector_database_cpu_ms"] or 0) for q in per_query.values()
        ),
        "queries": per_query,
    }


def _backend_ticks() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql" or connection.connection is None:
        return None
    try:
        fields = Path(f"/proc/{connection.connection.info.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def _selector_cpu(criteria, page: int, repeat: int) -> tuple[float, float | None]:
    """CPU milliseconds per call of the selector: this process's, and the database backend's (PostgreSQL
    on this machine; None otherwise)."""
    from ebourgogne.search import selectors

    ticks = _backend_ticks()
    started = time.process_time()
    for _ in range(repeat):
        selectors.search(criteria, page=page)
    cpu = (time.process_time() - started) / repeat * 1000
    end = _backend_ticks()
    database = None if ticks is None or end is None else (end - ticks) / os.sysconf("SC_CLK_TCK") / repeat * 1000
    return round(cpu, 2), None if database is None else round(database, 2)


def child(sizes: list[int], repeat: int, buyers: int, measured_sizes: list[int]) -> None:
    """Runs in the benchmark's own environment: migrate, seed step by step (what is not seeded yet),
    measure at each size of `measured_sizes`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebourgogne.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from ebourgogne.consultations.models import Consultation
    from ebourgogne.consultations.seeding import seed_consultations
    from ebourgogne.organisations.seeding import seed
    from ebourgogne.search import indexing

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrated in {time.perf_counter() - started:.1f} s")
    with scopes_disabled():
        total = Consultation.objects.count()
    if total == 0:
        seed(buyers=buyers, companies=0, seed=1)
    elif os.environ.get("EBOURGOGNE_BENCH_SEARCH_REBUILD") == "1":
        started = time.perf_counter()
        indexed = indexing.rebuild()
        log(f"index rebuilt: {indexed} consultations in {time.perf_counter() - started:.1f} s")
    figures = {"database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1], "sizes": {}}
    for size in sizes:
        if size < total:
            continue
        started = time.perf_counter()
        counts = seed_consultations(count=size - total, seed=size, progress=None)
        seconds = time.perf_counter() - started
        total = size
        log(f"{figures['database']}: {size} consultations ({counts['indexed']} new in the index) in {seconds:.1f} s")
        if size not in measured_sizes:
            continue
        measured = _measure(repeat)
        measured["seed_seconds"] = round(seconds, 1)
        measured["seeded"] = counts
        figures["sizes"][str(size)] = measured
        log(f"  selector p95 {measured['selector_p95_ms']} ms, view p95 {measured['view_p95_ms']} ms")
    print(json.dumps(figures))


def _child(folder: str, url: str, sizes: list[int], measured: list[int], settings: dict) -> dict:
    env = {**os.environ, "EBOURGOGNE_DATA_DIR": folder, "EBOURGOGNE_ALLOWED_HOSTS": "testserver"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if url:
        env["DATABASE_URL"] = url
    else:
        env.pop("DATABASE_URL", None)
    args = [
        sys.executable,
        "-m",
        "bench.search",
        ",".join(str(size) for size in sizes),
        str(settings["repeat"]),
        str(settings["buyers"]),
        ",".join(str(size) for size in measured),
    ]
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(args, env=env, cwd=root, stdout=subprocess.PIPE, check=False, text=True)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"bench search: the measuring process failed ({result.returncode})")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _kept_database(url: str, size: int) -> str:
    """The URL of the kept database for `size` on DATABASE_URL's server, created if missing."""
    import urllib.parse

    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = f"{parts.path.strip('/') or 'ebourgogne_bench_search'}_{size}"
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def run(quick: bool) -> dict:
    from bench.pages import _database

    settings = QUICK if quick else FULL
    sizes = list(settings["sizes"])
    keep = os.environ.get("EBOURGOGNE_BENCH_SEARCH_KEEP", "")
    if keep:  # one kept database per size, seeded once (see the module's docstring)
        url = os.environ.get("DATABASE_URL", "")
        figures = {"sizes": {}}
        for index, size in enumerate(sizes):
            folder = Path(keep) / f"{'postgresql' if url else 'sqlite'}-{size}"
            folder.mkdir(parents=True, exist_ok=True)
            found = _child(str(folder), _kept_database(url, size) if url else "", sizes[: index + 1], [size], settings)
            figures["database"] = found["database"]
            figures["sizes"].update(found["sizes"])
    else:
        with tempfile.TemporaryDirectory(prefix="ebourgogne-bench-search-") as folder, _database(Path(folder)) as url:
            figures = _child(folder, url, sizes, sizes, settings)
    small, large = (figures["sizes"][str(size)] for size in settings["sizes"])
    ratio = large["selector_p95_ms"] / max(small["selector_p95_ms"], 0.001)
    met = ratio <= GOAL_RATIO and large["selector_p95_ms"] < GOAL_MS and large["view_p95_ms"] < GOAL_MS and not quick
    return {
        "name": NAME,
        "ratio": round(ratio, 3),
        "goal": f"ratio <= {GOAL_RATIO} and p95 < {GOAL_MS:.0f} ms",
        "met": met,
        "quick": quick,
        "database": figures["database"],
        "p95_ms": {
            size: {"selector": data["selector_p95_ms"], "view": data["view_p95_ms"]}
            for size, data in figures["sizes"].items()
        },
        "figures": figures,
    }


if __name__ == "__main__":
    child(
        [int(size) for size in sys.argv[1].split(",")],
        int(sys.argv[2]),
        int(sys.argv[3]),
        [int(size) for size in sys.argv[4].split(",")],
    )
