"""`ebourgogne bench`: the benchmarks are found in the checkout and report one JSON line.

The run here is `--quick` (a smoke test of the whole chain: seeding, gunicorn, the load generator,
the ratio); its figures mean nothing on a machine busy with the rest of the suite.
"""

from __future__ import annotations

import json
import os

from ebourgogne.core.tests.servers import child_env, ebourgogne, run


def _env(tmp_path):
    env = child_env(tmp_path)
    if os.environ.get("DATABASE_URL"):  # on the PostgreSQL run, the benchmark uses a throw-away database there
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    return env


def test_bench_lists_the_benchmarks(tmp_path):
    result = run(ebourgogne("bench", "--list"), _env(tmp_path))
    assert result.returncode == 0, result.stderr
    names = [line.split(": ", 1)[0] for line in result.stdout.splitlines()]
    assert "pages" in names and names == sorted(names)


def test_bench_refuses_an_unknown_name(tmp_path):
    result = run(ebourgogne("bench", "no-such-bench"), _env(tmp_path))
    assert result.returncode != 0
    assert "Unknown benchmark 'no-such-bench'" in result.stderr


def test_bench_pages_quick_prints_its_result_as_the_last_line(tmp_path):
    result = run(ebourgogne("bench", "pages", "--quick"), _env(tmp_path), timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert report["name"] == "pages"
    assert report["goal"] == 0.33
    assert isinstance(report["met"], bool)
    pages = {"home", "account", "search", "consultation"}
    assert set(report["rps"]) == {"bare", *pages}
    assert all(value > 0 for value in report["rps"].values()), report["rps"]
    assert report["ratio"] == min(report["ratios"].values())
    assert report["ratio"] == round(min(report["rps"][page] for page in pages) / report["rps"]["bare"], 3)
    assert report["failed_requests"] == {"bare": 0, **dict.fromkeys(pages, 0)}
    assert report["data"]["consultations"] >= 1 and report["consultation_page"]
    assert report["clients"] == 50
    assert report["database"] == ("postgresql" if os.environ.get("DATABASE_URL") else "sqlite")
    assert report["data"]["companies"] >= 1
    assert report["load_generator_cpu_cores"]["bare"] < report["server_cpu_cores"]["bare"]
    assert report["quick"] is True
