"""The precision benchmark runs (quick mode) on the pipeline's trained head and records what `auto` reads."""

from __future__ import annotations

import json

import pytest

from benchmarks import router_precision
from benchmarks.results import result_path
from fugu.models.precision import bf16_adopted
from stages.paths import BACKBONE_DIR, TRAINED_SPEC


@pytest.mark.slow
@pytest.mark.skipif(not TRAINED_SPEC.is_file() or not (BACKBONE_DIR / "config.json").is_file(),
                    reason="needs the pipeline's trained head and backbone (`make repro`)")
def test_quick_run_compares_the_precisions_on_held_out_questions():
    assert router_precision.main(["--quick"]) == 0
    report = json.loads(result_path("router_precision", quick=True).read_text())
    assert report["quick"] is True and report["agreement"]["n"] == 40
    assert 0.0 <= report["agreement"]["share"] <= 1.0
    assert report["hidden_state_cosine"]["min"] > 0.9  # bf16 reads the same states, roughly
    adopted, _ = bf16_adopted(report)
    assert adopted is False  # 40 questions never adopt bf16, whatever they show
    for dtype in ("fp32", "bf16"):
        assert report["speed"][dtype]["ms_per_question"] > 0
        assert report["matmul_gflops"]["batch"][dtype] > 0
