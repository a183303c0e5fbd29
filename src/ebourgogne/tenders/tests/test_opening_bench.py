"""`ebourgogne bench opening --quick`: the whole chain runs (age files made with pyrage, the age CLI, the
opening's decrypt_stream with both engines) and reports its figures. A smoke test: the figures of a quick
run on a busy machine mean nothing, so only their shape is checked."""

from __future__ import annotations

import json
import statistics

from ebourgogne.core.tests.servers import child_env, ebourgogne, run


def test_bench_opening_quick_reports_its_figures(tmp_path):
    result = run(ebourgogne("bench", "opening", "--quick"), child_env(tmp_path), timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["name"] == "opening" and report["goal"] == 0.8 and isinstance(report["met"], bool)
    assert report["quick"] is True and report["files"] == 4
    assert set(report["mb_per_s"]) == {"age", "platform", "pyrage"}
    assert all(value > 0 for value in report["mb_per_s"].values())
    assert len(report["round_ratios"]) == report["rounds"] == 1
    assert report["ratio"] == statistics.median(report["round_ratios"]) > 0
    assert report["pyrage_ratio"] > 0
