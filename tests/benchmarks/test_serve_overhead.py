"""The serving benchmark runs (quick mode) and writes its results; speed itself is not asserted here."""

from __future__ import annotations

import json

import pytest

from benchmarks import litellm_proxy, serve_overhead

FUGU_TARGETS = ("fugu_priority", "fugu_trinity_tiny", *(name for name, _ in serve_overhead.REAL_VARIANTS))


@pytest.mark.slow
def test_quick_run_measures_every_target_at_each_level_and_records_its_findings(tmp_path, smollm2_dir):
    assert serve_overhead.main(["--quick", "--backbone", str(smollm2_dir), "--out-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "serve_overhead_quick.json").read_text())
    assert not (tmp_path / "serve_overhead.json").exists(), "a quick run must never overwrite the real numbers"
    assert report["quick"] is True
    proxy_ran = litellm_proxy.executable() is not None
    targets = {"direct", *FUGU_TARGETS} | ({"litellm_proxy"} if proxy_ran else set())
    if not proxy_ran:  # recorded as not run, naming the make target that provides it
        assert litellm_proxy.MAKE_TARGET in report["not_run"]["litellm_proxy"]
    assert set(report["levels"]) == {"1", "8", "64"}
    for level in report["levels"].values():
        assert set(level) == targets | {"added_latency_ms"}
        for target in targets:
            assert level[target]["failures"] == 0
            assert 0 < level[target]["p50_ms"] <= level[target]["p95_ms"]
            assert level[target]["requests_per_s"] > 0
        for target in FUGU_TARGETS:
            assert set(level[target]["fallbacks"]) == set(serve_overhead.FALLBACK_REASONS)
        assert set(level["added_latency_ms"]) == targets - {"direct"}
    for name in ("fugu_trinity_tiny", "fugu_trinity_real"):
        assert report["router_in_process"][name]["forward_p50_ms"] > 0
    findings = report["findings"]
    assert isinstance(findings["real_trinity_latency_1_client"]["meets_goal"], bool)
    assert set(findings["real_trinity_throughput"]) == {"8", "64"}
    assert all(isinstance(f["ratio"], float) for f in findings["real_trinity_throughput"].values())
    assert all((f["meets_goal"] is None) != proxy_ran for f in findings["fixed_order_vs_proxy"].values())
    assert report["load_slow_worker"]["lost"] == 0
    batching = findings["batching"]
    assert set(batching["variants"]) == {"fugu_trinity_real_batched", "fugu_trinity_real_bf16_batched"}
    assert isinstance(batching["meets_goal"], bool) and batching["ratio_at_64"] > 0
    assert batching["variants"]["fugu_trinity_real_batched"]["64"]["mean_batch_size"] > 1  # 64 clients did batch
    breakdown = findings["breakdown_1_client"]
    assert set(breakdown) == set(FUGU_TARGETS)
    for phases in breakdown.values():
        assert all(phases[p] >= 0 for p in serve_overhead.PHASES)
        assert phases["router"] + phases["workers"] <= phases["client_mean_ms"]
