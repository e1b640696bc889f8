"""`python -m benchmarks --quick` runs every benchmark; each writes its numbers to its quick file."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import benchmarks.results
from benchmarks.__main__ import BENCHMARKS

# helpers of a benchmark, not benchmarks: the serving benchmark's router targets, its litellm calls and its proxy anchor
HELPERS = {"__init__", "__main__", "results", "router_targets", "litellm_proxy", "recorded", "litellm_call"}
# serve_overhead starts six servers; its own test (test_serve_overhead.py) runs its quick mode.
RUN_ELSEWHERE = {"serve_overhead"}
NEEDS_REAL_BACKBONE = {"trinity_features", "trinity_levers", "serve_memory", "conductor_grpo_step", "router_precision"}


def test_every_benchmark_module_is_registered():
    modules = {p.stem for p in Path(benchmarks.results.__file__).parent.glob("*.py")} - HELPERS
    assert modules == set(BENCHMARKS), f"unregistered: {modules - set(BENCHMARKS)}; gone: {set(BENCHMARKS) - modules}"


@pytest.mark.parametrize("name", sorted(set(BENCHMARKS) - RUN_ELSEWHERE))
@pytest.mark.slow
def test_benchmark_runs_in_quick_mode_and_writes_its_quick_file(name, tmp_path, monkeypatch, request):
    monkeypatch.setattr(benchmarks.results, "RESULTS_DIR", tmp_path)
    # trinity_features measures the real backbone: the converted SmolLM2 (one session fixture)
    extra = ["--backbone", str(request.getfixturevalue("smollm2_dir"))] if name in NEEDS_REAL_BACKBONE else []
    code = importlib.import_module(BENCHMARKS[name]).main(["--quick", *extra])
    assert not code
    written = json.loads((tmp_path / f"{name}_quick.json").read_text())
    assert written["benchmark"] == name and written["quick"] is True
    assert not (tmp_path / f"{name}.json").exists(), "a quick run must never overwrite the real numbers"
