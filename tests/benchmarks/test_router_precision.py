"""The precision benchmark runs (quick mode) and records what `auto` reads; a quick run never adopts bf16.
Where bf16 is software (an AVX2-class CPU, or the AVX2 emulation) it measures fp32 alone and says why."""

from __future__ import annotations

import json

import pytest

import benchmarks.results
from benchmarks import router_precision
from fugu.models.precision import bf16_adopted
from stages.paths import TRAINED_SPEC


@pytest.mark.slow
def test_quick_run_compares_the_precisions_on_held_out_questions(tmp_path, monkeypatch, smollm2_dir):
    monkeypatch.setattr(benchmarks.results, "RESULTS_DIR", tmp_path)
    assert router_precision.main(["--quick", "--backbone", str(smollm2_dir)]) == 0
    report = json.loads((tmp_path / "router_precision_quick.json").read_text())
    assert report["quick"] is True
    assert report["trained_head"] is TRAINED_SPEC.is_file()  # a fresh clone measures a random head, labelled
    assert report["bf16_adopted_where_native"]["adopted"] is False  # 40 questions never adopt bf16
    measured = ("fp32", "bf16") if report["cpu_native_bf16"] else ("fp32",)
    for dtype in measured:
        assert report["speed"][dtype]["ms_per_question"] > 0
        assert 0 < report["speed"][dtype]["fraction_of_matmul_rate"]
        assert report["matmul_gflops"]["batch"][dtype] > 0
        shares = report["speed"][dtype]["time_shares"]
        assert sum(shares.values()) == pytest.approx(1.0, abs=0.01) and shares["matmul"] > 0
    if report["cpu_native_bf16"]:
        assert report["agreement"]["n"] == 40 and 0.0 <= report["agreement"]["share"] <= 1.0
        assert report["hidden_state_cosine"]["min"] > 0.9  # bf16 reads the same states, roughly
        assert bf16_adopted(report)[0] is False
    else:
        assert "software" in report["not_run"]["bf16"]


@pytest.mark.slow
def test_where_bf16_is_software_only_fp32_is_measured_and_nothing_is_adopted(tmp_path, monkeypatch, smollm2_dir):
    monkeypatch.setattr(router_precision, "this_cpu_native_bf16", lambda: False)
    assert router_precision.main(["--quick", "--backbone", str(smollm2_dir), "--out-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "router_precision_quick.json").read_text())
    assert report["cpu_native_bf16"] is False and list(report["speed"]) == ["fp32"]
    assert set(report["matmul_gflops"]["batch"]) == {"tokens", "fp32"}
    assert "agreement" not in report and "software" in report["not_run"]["bf16"]
    assert report["bf16_adopted_where_native"] == {"adopted": False, "why": report["not_run"]["bf16"]}
    assert report["matmul_shapes"]  # the yardstick names the decoder shapes it timed
