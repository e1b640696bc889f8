"""The serving benchmark runs (quick mode) and writes its results; speed itself is not asserted here."""

from __future__ import annotations

import json

from benchmarks import serve_overhead


def test_quick_run_writes_latency_and_throughput_for_each_level(tmp_path):
    out = tmp_path / "serve_overhead.json"
    assert serve_overhead.main(["--quick", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["quick"] is True
    assert set(report["levels"]) == {"1", "8", "64"}
    for level in report["levels"].values():
        for target in ("direct", "fugu"):
            assert level[target]["failures"] == 0
            assert 0 < level[target]["p50_ms"] <= level[target]["p95_ms"]
            assert level[target]["requests_per_s"] > 0
        assert set(level["added_latency_ms"]) == {"p50", "p95"}
