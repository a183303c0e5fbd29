"""`ebourgogne bench deadline-rush --quick`: the whole chain runs (seeding, pyrage encryption, gunicorn,
concurrent bidders through the real API, deposits with receipts, dd, RSS sampling) and reports its figures.
A smoke test: the figures of a quick run on a busy machine mean nothing, so only their shape is checked."""

from __future__ import annotations

import json
import os

from ebourgogne.core.tests.servers import child_env, ebourgogne, run


def test_bench_deadline_rush_quick_deposits_every_bid_with_its_receipt(tmp_path):
    env = child_env(tmp_path)
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    result = run(ebourgogne("bench", "deadline-rush", "--quick"), env, timeout=400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["name"] == "deadline-rush" and report["goal"] == 0.5 and isinstance(report["met"], bool)
    expected = report["expected_deposits"]
    assert report["deposited"] == report["receipts"] == report["receipts_stamped"] == expected
    assert report["rush"]["failures"] == 0 and report["rush"]["deposits_ok"] == report["plan"]["bidders"]
    assert report["rush"]["bytes"] == report["plan"]["bidders"] * report["rush"]["file_bytes"]
    assert report["ratio"] > 0 and report["disk_mb_s"] > 0
    assert report["memory_large"]["rss_peak_mb"] > 0 and report["memory_small"]["rss_peak_mb"] > 0
    assert report["memory_large"]["server_processes"] >= 2  # the master and its workers were all counted
