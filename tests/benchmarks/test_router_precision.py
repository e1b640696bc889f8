"""The precision benchmark runs (quick mode) and records what `auto` reads; a quick run never adopts bf16."""

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
    assert report["quick"] is True and report["agreement"]["n"] == 40
    assert report["trained_head"] is TRAINED_SPEC.is_file()  # a fresh clone measures a random head, labelled
    assert 0.0 <= report["agreement"]["share"] <= 1.0
    assert report["hidden_state_cosine"]["min"] > 0.9  # bf16 reads the same states, roughly
    adopted, _ = bf16_adopted(report)
    assert adopted is False  # 40 questions never adopt bf16, whatever they show
    for dtype in ("fp32", "bf16"):
        assert report["speed"][dtype]["ms_per_question"] > 0
        assert report["matmul_gflops"]["batch"][dtype] > 0
