"""Benchmark `alerts`: matching new consultations against 100,000 alerts by percolation, as a ratio to
the naive evaluation of every alert, and the time to build the daily digests.

Method: a fresh data folder and database (SQLite in the folder, or a throw-away database on the
PostgreSQL server of DATABASE_URL); a child process migrates, seeds 200 buyers, 1,000 consultations
(`consultations.seeding`, then all made published with a deadline ahead and indexed again: new
consultations, as when they are published) and 100,000 alerts drawn from the same vocabulary as the
consultations (`consultations.seeding.TEMPLATES`: CPV codes at every level of their tree, words of the
titles and objects, the departments, the buyers, procedures, contract types, value ranges; one to four
criteria each), owned by 500 company users. Then, in the same process and on the same data:
  - percolation: `alerts.percolation.Percolator().match(ids)` (key lookups in the index of alerts,
    candidates loaded and verified);
  - naive: every active alert loaded and verified against every consultation
    (`alerts.percolation.naive`, the same verification function);
  - the two answers are asserted equal;
  - digests: the matches recorded (`alerts.services.record_matches`), then
    `alerts.services.build_digests("daily")` for the period: one mail rendered and queued per daily alert
    with matches (the queueing of the mail task included, not its SMTP delivery).
ratio = naive time / percolation time; goal >= 50.

`uv run python -m bench.alerts` (full), `uv run python -m bench.alerts --small` (5,000 alerts, 200
consultations), or `ebourgogne bench alerts`. `--alerts N --consultations N` change the sizes;
`--naive-every N` runs the naive evaluation (and, for the ratio, a second percolation) on every Nth
consultation only, the equality being asserted on those: the naive side verifies alerts x consultations
pairs and takes minutes at full size on a loaded machine.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "alerts"
DESCRIPTION = (
    "Matching 1,000 new consultations against 100,000 alerts: percolation (index of the alerts' criteria, "
    "exact verification of the candidates) as a ratio to the naive evaluation of every alert, same results; "
    "time to build the daily digests."
)
GOAL = 50.0

FULL = {"alerts": 100_000, "consultations": 1_000, "buyers": 200, "users": 500, "naive_every": 1}
QUICK = {"alerts": 5_000, "consultations": 200, "buyers": 30, "users": 50, "naive_every": 1}


def log(message: str) -> None:
    print(f"[alerts] {message}", file=sys.stderr, flush=True)


def _users(count: int):
    from django.contrib.auth import get_user_model
    from django_scopes import scopes_disabled

    from ebourgogne.organisations.models import Membership
    from ebourgogne.organisations.roles import Role
    from ebourgogne.testing.factories import CompanyFactory

    User = get_user_model()
    with scopes_disabled():
        company = CompanyFactory(name="Veille Bourgogne bench")
        users = User.objects.bulk_create(
            [
                User(email=f"veille{i}@bench.e-bourgogne.test", full_name=f"Veille {i}", language="fr")
                for i in range(count)
            ]
        )
        Membership.objects.bulk_create(
            [Membership(user=user, organisation=company, role=Role.COMPANY_MEMBER) for user in users]
        )
    return users, company


def _vocabulary():
    """CPV codes (each template's codes and their existing ancestors) and keywords of the seeded texts."""
    from ebourgogne.consultations.models import CpvCode
    from ebourgogne.consultations.seeding import TEMPLATES
    from ebourgogne.search import text

    existing = set(CpvCode.objects.values_list("code", flat=True))
    codes: set[str] = set()
    words: set[str] = set()
    for template in TEMPLATES:
        for code in template.codes:
            for digits in range(2, 9):
                candidate = code[:digits].ljust(8, "0")
                if candidate in existing:
                    codes.add(candidate)
        for sentence in (*template.titles, *template.objects, *template.lots):
            for word in text.words(sentence.replace("{", " ").replace("}", " ")):
                if (
                    len(word) > 4
                    and word not in text.STOP_WORDS
                    and word not in {"town", "street", "patron", "building", "year"}
                ):
                    words.add(word)
    # Businesses of every trade, not only those of the seeded consultations: codes of the whole tree
    # (classes and categories) and the words of their labels.
    rng = random.Random("ebourgogne-bench-alerts-vocabulary")  # noqa: S311 (generated data)
    others = sorted(code for code in existing if code[5:] == "000" and code[4] != "0")
    for code, label in CpvCode.objects.filter(code__in=rng.sample(others, min(1500, len(others)))).values_list(
        "code", "label_fr"
    ):
        codes.add(code)
        words.update(word for word in text.words(label) if len(word) > 4 and word not in text.STOP_WORDS)
    return sorted(codes), sorted(words)


def _criteria(rng, deep, shallow, words, buyers, departments, procedures, types) -> dict:
    """One business's alert: mostly CPV codes (classes, categories) and/or keywords, often limited to a
    department or two; some broad ones (a buyer; a department and a contract type)."""
    criteria: dict = {}
    kind = rng.random()
    if kind < 0.04:
        criteria["buyers"] = rng.sample(buyers, rng.randint(1, 2))
        if rng.random() < 0.5:
            criteria["contract_types"] = rng.sample(types, 1)
        return criteria
    if kind < 0.08:
        criteria["departments"] = rng.sample(departments, 1)
        criteria["contract_types"] = rng.sample(types, 1)
        criteria["value_min"] = rng.choice([90_000, 215_000, 1_000_000])
        return criteria
    shape = rng.random()
    if shape < 0.75:
        pool = deep if rng.random() < 0.85 else shallow
        criteria["cpv_codes"] = rng.sample(pool, rng.randint(1, 3))
    if shape >= 0.45:
        criteria["q"] = " ".join(rng.sample(words, rng.choice([1, 1, 2, 2, 3])))
    if rng.random() < 0.5:
        criteria["departments"] = rng.sample(departments, rng.randint(1, 2))
    if rng.random() < 0.1:
        criteria["procedures"] = rng.sample(procedures, rng.randint(1, 2))
    if rng.random() < 0.15:
        criteria["contract_types"] = rng.sample(types, 1)
    if rng.random() < 0.2:
        low = rng.choice([None, 10_000, 40_000, 90_000, 215_000])
        high = rng.choice([None, 100_000, 500_000, 5_000_000])
        if low is None and high is None:
            low = 40_000
        if low is not None and high is not None and low > high:
            low, high = high, low
        criteria["value_min"], criteria["value_max"] = low, high
    return criteria


def _seed_alerts(count: int, users, company, rng: random.Random) -> None:
    from django.db import transaction

    from ebourgogne.alerts import percolation
    from ebourgogne.alerts.models import Alert, AlertKey, Delivery
    from ebourgogne.consultations.models import ContractType, Procedure, cpv_prefix
    from ebourgogne.core import clock
    from ebourgogne.organisations.models import Organisation
    from ebourgogne.organisations.roles import OrganisationKind
    from ebourgogne.organisations.seed_data import DEPARTMENTS

    codes, words = _vocabulary()
    deep = [code for code in codes if len(cpv_prefix(code)) >= 4]
    shallow = [code for code in codes if len(cpv_prefix(code)) < 4]
    buyers = list(Organisation.objects.filter(kind=OrganisationKind.BUYER).values_list("slug", flat=True))
    departments = list(DEPARTMENTS)
    procedures = list(Procedure.values)
    types = list(ContractType.values)
    deliveries = [Delivery.IMMEDIATE] * 2 + [Delivery.DAILY] * 6 + [Delivery.WEEKLY] * 2
    now = clock.now()
    terms_cache: dict[str, list[str]] = {}
    batch = 5000
    made = 0
    while made < count:
        alerts = []
        for i in range(made, min(count, made + batch)):
            criteria = _criteria(rng, deep, shallow, words, buyers, departments, procedures, types)
            q = criteria.get("q", "")
            if q not in terms_cache:
                terms_cache[q] = percolation.keyword_terms(q)
            alerts.append(
                Alert(
                    owner=users[i % len(users)],
                    company=company,
                    name=f"Alerte {i}",
                    q=q,
                    cpv_codes=criteria.get("cpv_codes", []),
                    departments=criteria.get("departments", []),
                    buyers=criteria.get("buyers", []),
                    procedures=criteria.get("procedures", []),
                    contract_types=criteria.get("contract_types", []),
                    value_min=criteria.get("value_min"),
                    value_max=criteria.get("value_max"),
                    terms=terms_cache[q],
                    delivery=rng.choice(deliveries),
                    created_at=now,
                    updated_at=now,
                )
            )
        for alert in alerts:
            alert.compiled = percolation.precompile(alert)  # as the alerts' save services do
        with transaction.atomic():
            created = Alert.objects.bulk_create(alerts)
            AlertKey.objects.bulk_create(
                [
                    AlertKey(alert_id=alert.pk, key=key)
                    for alert in created
                    for key in percolation.alert_keys(percolation.compile_alert(alert))
                ],
                batch_size=5000,
            )
        made += len(alerts)


def _digests(matched: dict) -> tuple[int, float]:
    """The matches recorded, then the daily digests built (timed): their number and seconds."""
    import datetime as dt

    from django.db import transaction

    from ebourgogne.alerts import services
    from ebourgogne.alerts.models import AlertMatch, Delivery
    from ebourgogne.core import clock

    with transaction.atomic():
        for consultation_id, alert_ids in matched.items():
            services.record_matches(consultation_id, alert_ids)
    daily_with_matches = AlertMatch.objects.filter(alert__delivery=Delivery.DAILY).values("alert_id").distinct().count()
    profile = _profiler()
    started = time.perf_counter()
    digests = services.build_digests(Delivery.DAILY, now=clock.now() + dt.timedelta(days=1))
    digest_seconds = time.perf_counter() - started
    _report(profile, "digests")
    log(f"daily digests: {digests} in {digest_seconds:.2f} s")
    assert digests == daily_with_matches
    return digests, digest_seconds


def _profiler():
    """EBOURGOGNE_BENCH_PROFILE=1: profile a phase (its figures are then not comparable)."""
    if os.environ.get("EBOURGOGNE_BENCH_PROFILE") != "1":
        return None
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    return profile


def _report(profile, phase: str) -> None:
    if profile is None:
        return
    import io
    import pstats

    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
    log(f"profile of {phase}:\n{out.getvalue()}")


def child(params: dict) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebourgogne.settings")
    import django

    django.setup()
    import datetime as dt

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_scopes import scopes_disabled

    from ebourgogne.alerts import percolation
    from ebourgogne.alerts.models import AlertKey
    from ebourgogne.consultations.models import Consultation, State
    from ebourgogne.consultations.seeding import seed_consultations
    from ebourgogne.core import clock
    from ebourgogne.organisations.seeding import seed
    from ebourgogne.search import indexing

    rng = random.Random(f"ebourgogne-bench-alerts-{params['alerts']}")  # noqa: S311 (generated data)
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrated in {time.perf_counter() - started:.1f} s")
    from django.urls import reverse

    reverse("alerts:list")  # the URLconf is imported once, before any timing
    seed(buyers=params["buyers"], companies=0, seed=1)
    seed_consultations(count=params["consultations"], seed=7, progress=None)
    now = clock.now()
    with scopes_disabled(), transaction.atomic():
        Consultation.objects.update(
            state=State.PUBLISHED,
            published_at=now - dt.timedelta(hours=1),
            bids_deadline=now + dt.timedelta(days=30),
            is_practice=False,
        )
        ids = sorted(Consultation.objects.values_list("pk", flat=True))
    indexing.index_from(ids[0])
    users, company = _users(params["users"])
    started = time.perf_counter()
    _seed_alerts(params["alerts"], users, company, rng)
    seeded_in = time.perf_counter() - started
    keys = AlertKey.objects.count()
    log(f"{params['alerts']} alerts ({keys} keys) seeded in {seeded_in:.1f} s; {len(ids)} consultations")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # Percolation first, then naive: each loads what it needs from the database itself.
    profile = _profiler()
    started = time.perf_counter()
    percolator = percolation.Percolator()
    matched = percolator.match(ids)
    percolation_seconds = time.perf_counter() - started
    _report(profile, "percolation")
    log(
        f"percolation: {percolation_seconds:.2f} s (index built in {percolator.index_seconds:.2f} s, "
        f"{percolator.candidates_seen} candidates)"
    )

    # The naive evaluation of every alert against every consultation of `sample` (all of them by default;
    # --naive-every N: every Nth, when the full run would take too long on a loaded machine), and the
    # percolation of the same sample by a fresh Percolator (nothing loaded yet), for the ratio.
    sample = ids[:: params.get("naive_every", 1)]
    started = time.perf_counter()
    sampled = percolation.Percolator().match(sample)
    sample_percolation_seconds = time.perf_counter() - started
    started = time.perf_counter()
    reference = percolation.naive(sample)
    naive_seconds = time.perf_counter() - started
    log(
        f"naive on {len(sample)} consultations: {naive_seconds:.2f} s (percolation: {sample_percolation_seconds:.2f} s)"
    )
    assert {pk: matched[pk] for pk in sample} == reference == sampled, "percolation and naive evaluation disagree"
    # The path of the task run after each publication (one consultation: keys read in the database), on a
    # few consultations, for its cost per consultation; same answer.
    few = ids[:: max(1, len(ids) // 50)]
    started = time.perf_counter()
    one_by_one = {}
    database = percolation.Percolator(mode="database")
    for consultation_id in few:
        one_by_one.update(database.match([consultation_id]))
    database_seconds = time.perf_counter() - started
    log(f"database path (the task's), one consultation at a time: {database_seconds / len(few) * 1000:.1f} ms each")
    assert one_by_one == {pk: matched[pk] for pk in few}, "the database path disagrees"
    total_matches = sum(len(found) for found in matched.values())

    digests = digest_seconds = None
    if params.get("digests", True):
        digests, digest_seconds = _digests(matched)

    print(
        json.dumps(
            {
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "alerts": params["alerts"],
                "alert_keys": keys,
                "consultations": len(ids),
                "matches": total_matches,
                "candidates": percolator.candidates_seen,
                "percolation_seconds": round(percolation_seconds, 3),
                "index_seconds": round(percolator.index_seconds, 3),
                "database_path_ms_per_consultation": round(database_seconds / len(few) * 1000, 2),
                "naive_seconds": round(naive_seconds, 3),
                "naive_consultations": len(sample),
                "sample_percolation_seconds": round(sample_percolation_seconds, 3),
                "digests": digests,
                "digest_seconds": None if digest_seconds is None else round(digest_seconds, 3),
                "seed_alerts_seconds": round(seeded_in, 1),
            }
        )
    )


def run(quick: bool, **overrides) -> dict:
    from bench.pages import _database

    params = {
        **(QUICK if quick else FULL),
        **{key: value for key, value in overrides.items() if value is False or value},
    }
    with tempfile.TemporaryDirectory(prefix="ebourgogne-bench-alerts-") as folder, _database(Path(folder)) as url:
        env = {**os.environ, "EBOURGOGNE_DATA_DIR": folder, "EBOURGOGNE_ALLOWED_HOSTS": "testserver"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if url:
            env["DATABASE_URL"] = url
        else:
            env.pop("DATABASE_URL", None)
        root = Path(__file__).resolve().parent.parent
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.alerts", "--child", json.dumps(params)],
            env=env,
            cwd=root,
            stdout=subprocess.PIPE,
            check=False,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"bench alerts: the measuring process failed ({result.returncode})")
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    ratio = figures["naive_seconds"] / max(figures["sample_percolation_seconds"], 1e-6)
    return {
        "name": NAME,
        "ratio": round(ratio, 1),
        "goal": f"ratio >= {GOAL:.0f} with identical results",
        "met": ratio >= GOAL and not quick,
        "quick": quick,
        "per_consultation_ms": {
            "percolation": round(figures["percolation_seconds"] / figures["consultations"] * 1000, 2),
            "naive": round(figures["naive_seconds"] / figures["naive_consultations"] * 1000, 2),
        },
        "cpu_count": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "figures": figures,
    }


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]))
    else:
        import argparse

        parser = argparse.ArgumentParser(prog="python -m bench.alerts")
        parser.add_argument("--small", "--quick", action="store_true", help="5,000 alerts, 200 consultations")
        parser.add_argument("--alerts", type=int, default=0)
        parser.add_argument("--consultations", type=int, default=0)
        parser.add_argument("--naive-every", type=int, default=0, help="naive evaluation on every Nth consultation")
        parser.add_argument("--no-digests", action="store_true", help="skip the digests (matching figures only)")
        args = parser.parse_args()
        figures = run(
            args.small,
            alerts=args.alerts,
            consultations=args.consultations,
            naive_every=args.naive_every,
            digests=False if args.no_digests else None,
        )
        print(json.dumps(figures, indent=2))
