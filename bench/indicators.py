"""Benchmark `indicators`: the regional dashboard over 1,000,000 consultations and 3,000,000 bids, as a
ratio to a single indexed count over the same tables in the same run.

Run: `uv run python -m bench.indicators [--consultations N]` (default 1,000,000; bids = 3 x N), or
`ebourgogne bench indicators [--quick]` (quick: 20,000 consultations). SQLite in a temporary folder by
default; with DATABASE_URL (PostgreSQL), a throw-away database on that server.

Method: a child process in the benchmark's own data folder migrates, seeds 200 buyers and 5,000
companies (`organisations.seeding`, ~90 % SMEs), N consultations (`consultations.seeding`, without the
search index, which the dashboard does not read), then about 3 bids per non-draft consultation (below,
written in bulk like the consultations), and runs the full refresh of the indicators once
(`indicators.services.refresh_all`, what the hourly job does; its time is reported). Then, in turn,
`repeat` times after a warm-up:
  - dashboard: GET /indicateurs/ (the public regional page: period form, figures, SVG charts, tables)
    through Django's test client, default period (the last 12 months);
  - count:     `Consultation.objects.filter(state__in=PUBLIC_STATES).count()`, answered from the index
    on (state, bids_deadline): the reference, a single indexed count over the consultations.
ratio = median(dashboard) / median(count); goal: ratio <= 20 and dashboard < 1 s. Also reported: the
dashboard over the last ten years (the longest period allowed), a department's page, the bids count, a buyer's
on-demand refresh and the seeding times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "indicators"
DESCRIPTION = (
    "The regional indicators page over 1,000,000 consultations and 3,000,000 bids, as a ratio to a single "
    "indexed count of the consultations in the same run. Goal: ratio <= 20 and the page under 1 s."
)
GOAL_RATIO = 20.0
GOAL_MS = 1000.0
FULL = {"consultations": 1_000_000, "repeat": 15}
QUICK = {"consultations": 20_000, "repeat": 5}
BUYERS, COMPANIES, BIDS_PER_CONSULTATION = 200, 5000, 3


def log(message: str) -> None:
    print(f"[indicators] {message}", file=sys.stderr, flush=True)


def seed_bids(*, per_consultation: float = BIDS_PER_CONSULTATION, seed: int = 0) -> int:
    """About `per_consultation` x (consultations) deposited bids, on the non-draft, non-practice
    consultations, from random companies; bulk-written like `consultations.seeding`. Returns the count."""
    import datetime as dt
    import random

    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django_scopes import scopes_disabled

    from ebourgogne.consultations.models import Consultation, State
    from ebourgogne.consultations.seeding import BATCH, _Writer
    from ebourgogne.core import clock
    from ebourgogne.organisations.models import Organisation
    from ebourgogne.organisations.roles import OrganisationKind
    from ebourgogne.tenders.models import Bid

    rng = random.Random(f"ebourgogne-bids-{seed}")  # noqa: S311 (generated data)
    columns = [field.column for field in Bid._meta.concrete_fields]
    now = clock.now()
    with transaction.atomic(), scopes_disabled():
        companies = list(Organisation.objects.filter(kind=OrganisationKind.COMPANY).values_list("pk", flat=True))
        if not companies:
            raise SystemExit("bench indicators: no company to bid")
        total = Consultation.objects.count()
        eligible = Consultation.objects.exclude(state=State.DRAFT).filter(is_practice=False)
        share = eligible.count() / max(total, 1)
        probability = min(per_consultation / max(share, 0.01) / 8, 1.0)  # binomial(8, p): mean per_consultation
        next_id = (Bid.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        rows: list[tuple] = []
        count = 0
        with connection.cursor() as cursor:
            writer = _Writer(cursor)
            query = eligible.values_list("pk", "published_at", "bids_deadline").order_by("pk")
            for pk, published_at, deadline in query.iterator(chunk_size=BATCH):
                bids = rng.binomialvariate(8, probability)
                latest = min(deadline, now)
                span = max((latest - published_at).total_seconds(), 60)
                for number in range(1, bids + 1):
                    deposited = published_at + dt.timedelta(seconds=rng.uniform(30, span))
                    late = deadline <= now and rng.random() < 0.01
                    if late:
                        deposited = deadline + dt.timedelta(minutes=rng.randint(1, 90))
                    values = {
                        "id": next_id,
                        "consultation_id": pk,
                        "company_id": companies[rng.randrange(len(companies))],
                        "kind": "bid",
                        "state": "deposited",
                        "created_by_id": None,
                        "created_at": deposited - dt.timedelta(minutes=20),
                        "upload_started_at": deposited - dt.timedelta(minutes=5),
                        "deposited_at": deposited,
                        "deposited_by_id": None,
                        "number": number,
                        "is_late": late,
                        "superseded_by_id": None,
                        "physical_backup_declared": False,
                        "opened_at": None,
                        "destroyed_at": None,
                    }
                    rows.append(tuple(values[column] for column in columns))
                    next_id += 1
                if len(rows) >= BATCH:
                    writer.insert(Bid._meta.db_table, columns, rows)
                    count += len(rows)
                    rows.clear()
            writer.insert(Bid._meta.db_table, columns, rows)
            count += len(rows)
            if connection.vendor == "postgresql":
                for sql in connection.ops.sequence_reset_sql(no_style(), [Bid]):
                    cursor.execute(sql)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Bid._meta.db_table}")
    return count


def _timed(function, repeat: int) -> list[float]:
    function()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def child(consultations: int, repeat: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebourgogne.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django_scopes import scopes_disabled

    from ebourgogne.consultations.models import PUBLIC_STATES, Consultation
    from ebourgogne.consultations.seeding import seed_consultations
    from ebourgogne.indicators import services
    from ebourgogne.indicators.selectors import MAX_MONTHS, default_period
    from ebourgogne.organisations.models import Organisation
    from ebourgogne.organisations.roles import OrganisationKind
    from ebourgogne.organisations.seeding import seed
    from ebourgogne.tenders.models import Bid

    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"{database}: migrated in {time.perf_counter() - started:.1f} s")
    seconds = {}
    started = time.perf_counter()
    seed(buyers=BUYERS, companies=COMPANIES, seed=1)
    seconds["organisations"] = time.perf_counter() - started
    started = time.perf_counter()
    seeded = seed_consultations(count=consultations, seed=consultations, index=False)
    seconds["consultations"] = time.perf_counter() - started
    log(f"{seeded['consultations']} consultations in {seconds['consultations']:.1f} s")
    started = time.perf_counter()
    bids = seed_bids()
    seconds["bids"] = time.perf_counter() - started
    log(f"{bids} bids in {seconds['bids']:.1f} s")
    started = time.perf_counter()
    refreshed = services.refresh_all()
    seconds["refresh_all"] = time.perf_counter() - started
    log(f"full refresh of the indicators: {refreshed} in {seconds['refresh_all']:.1f} s")

    client = Client()

    def page(url: str):
        def get():
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"bench indicators: {url} answered {response.status_code}")

        return get

    with scopes_disabled():
        buyer = Organisation.objects.filter(kind=OrganisationKind.BUYER).order_by("pk").first()

        def count_consultations():
            return Consultation.objects.filter(state__in=PUBLIC_STATES).count()

        def count_bids():
            return Bid.objects.filter(state="deposited").count()

        def refresh_buyer():
            services.refresh_buyer(organisation=buyer)

        times = {"dashboard": [], "count": []}
        page("/indicateurs/")()
        count_consultations()
        for _ in range(repeat):  # in turn, so that both see the same machine load
            for name, function in (("dashboard", page("/indicateurs/")), ("count", count_consultations)):
                begun = time.perf_counter()
                function()
                times[name].append((time.perf_counter() - begun) * 1000)
        others = {
            "dashboard_all_history": _timed(page(f"/indicateurs/?{default_period(MAX_MONTHS).query}"), repeat),
            "department_page": _timed(page("/indicateurs/departements/21/"), repeat),
            "count_bids": _timed(count_bids, repeat),
            "buyer_refresh": _timed(refresh_buyer, max(3, repeat // 5)),
        }
        figures = {
            "database": database,
            "consultations": Consultation.objects.count(),
            "bids": Bid.objects.count(),
            "published_counted": count_consultations(),
            "median_ms": {
                "dashboard": round(statistics.median(times["dashboard"]), 2),
                "count": round(statistics.median(times["count"]), 2),
                **{name: round(statistics.median(values), 2) for name, values in others.items()},
            },
            "seconds": {name: round(value, 1) for name, value in seconds.items()},
            "refresh": refreshed,
        }
    print(json.dumps(figures))


def _measure(consultations: int, repeat: int) -> dict:
    from bench.pages import _database

    with tempfile.TemporaryDirectory(prefix="ebourgogne-bench-indicators-") as folder, _database(Path(folder)) as url:
        env = {**os.environ, "EBOURGOGNE_DATA_DIR": folder, "EBOURGOGNE_ALLOWED_HOSTS": "testserver"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if url:
            env["DATABASE_URL"] = url
        else:
            env.pop("DATABASE_URL", None)
        args = [sys.executable, "-m", "bench.indicators", "--child", "--consultations", str(consultations)]
        args += ["--repeat", str(repeat)]
        root = Path(__file__).resolve().parent.parent
        result = subprocess.run(args, env=env, cwd=root, stdout=subprocess.PIPE, check=False, text=True)  # noqa: S603
        if result.returncode != 0:
            raise SystemExit(f"bench indicators: the measuring process failed ({result.returncode})")
        return json.loads(result.stdout.strip().splitlines()[-1])


def run(quick: bool = False, consultations: int | None = None, repeat: int | None = None) -> dict:
    settings = QUICK if quick else FULL
    size = consultations or settings["consultations"]
    figures = _measure(size, repeat or settings["repeat"])
    medians = figures["median_ms"]
    ratio = medians["dashboard"] / max(medians["count"], 0.001)
    full_size = size >= FULL["consultations"]
    return {
        "name": NAME,
        "ratio": round(ratio, 3),
        "goal": f"ratio <= {GOAL_RATIO:.0f} and dashboard < {GOAL_MS:.0f} ms",
        "met": ratio <= GOAL_RATIO and medians["dashboard"] < GOAL_MS and full_size,
        "quick": not full_size,
        "database": figures["database"],
        "figures": figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--consultations", type=int, default=FULL["consultations"])
    parser.add_argument("--repeat", type=int, default=FULL["repeat"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.consultations, args.repeat)
        return
    print(json.dumps(run(consultations=args.consultations, repeat=args.repeat)))


if __name__ == "__main__":
    main()
