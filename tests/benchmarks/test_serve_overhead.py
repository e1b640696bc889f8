"""The serving benchmark runs (quick mode) and writes its results; speed itself is not asserted here."""

from __future__ import annotations

import json

import pytest

from benchmarks import litellm_proxy, serve_overhead
from fugu.models.precision import this_cpu_native_bf16

FUGU_TARGETS = ("fugu_priority", "fugu_trinity_tiny", *(name for name, _ in serve_overhead.REAL_VARIANTS))


@pytest.mark.slow
def test_quick_run_measures_every_target_at_each_level_and_records_its_findings(tmp_path, smollm2_dir):
    assert serve_overhead.main(["--quick", "--backbone", str(smollm2_dir), "--out-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "serve_overhead_quick.json").read_text())
    assert not (tmp_path / "serve_overhead.json").exists(), "a quick run must never overwrite the real numbers"
    assert report["quick"] is True
    proxy_ran = litellm_proxy.executable() is not None
    native = this_cpu_native_bf16()
    fugu_targets = {*FUGU_TARGETS} - (set() if native else {"fugu_trinity_real_bf16_batched"})
    if not native:  # bf16 is emulated on this CPU kind: not run, saying why
        assert "software" in report["not_run"]["fugu_trinity_real_bf16_batched"]
    targets = {"direct", *fugu_targets} | ({"litellm_proxy"} if proxy_ran else set())
    if not proxy_ran:  # recorded as not run, naming the make target that provides it
        assert litellm_proxy.MAKE_TARGET in report["not_run"]["litellm_proxy"]
    assert set(report["levels"]) == {"1", "8", "64"}
    for level in report["levels"].values():
        assert set(level) == targets | {"added_latency_ms"}
        for target in targets:
            assert level[target]["failures"] == 0
            assert 0 < level[target]["p50_ms"] <= level[target]["p95_ms"]
            assert level[target]["requests_per_s"] > 0
        for target in fugu_targets:
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
    assert set(batching["variants"]) == fugu_targets - {"fugu_priority", "fugu_trinity_tiny", "fugu_trinity_real"}
    assert isinstance(batching["meets_goal"], bool) and batching["ratio_at_64"] > 0
    assert batching["variants"]["fugu_trinity_real_batched"]["64"]["mean_batch_size"] > 1  # 64 clients did batch
    breakdown = findings["breakdown_1_client"]
    assert set(breakdown) == fugu_targets
    parts = ("read", "parse", "router_wait", "router_pass", "workers", "render", "app_other", "http_and_client")
    for entry in breakdown.values():
        assert all(entry[part] >= 0 for part in parts)
        # the parts add up to the client's mean latency (each is rounded to a microsecond)
        assert sum(entry[part] for part in parts) == pytest.approx(entry["client_mean_ms"], abs=0.01)
        assert entry["fugu_own_ms"] == pytest.approx(
            entry["added_ms"] - entry["router_pass"] - entry["workers"], abs=0.01)
        assert isinstance(entry["meets_goal"], bool)
    assert breakdown["fugu_priority"]["router_pass"] < breakdown["fugu_trinity_real"]["router_pass"]
    assert report["direct_paced_1_client"]["pace_ms"] > 0
    calls = report["litellm_call"]
    assert list(calls["variants"]) == ["httpx", "openai_client", "litellm_default", "litellm_client", "pool"]
    assert all(way["cpu_ms"] > 0 and way["p50_ms"] > 0 for way in calls["variants"].values())
    assert calls["findings"]["pool_vs_litellm_default_cpu"] > 0
