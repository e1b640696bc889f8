"""The Conductor's training runs (fugu/training/conductor_training.py): the seed served is chosen on
validation, and the reference scale's guard.

One whole GRPO run per seed is the train_conductor stage's work, run in the tiny pipeline test;
GRPO itself is tested in test_grpo.py.
"""

import pytest
import torch

from fugu.training.conductor_training import ConductorRun, FullScaleUnavailable, check_full_scale, chosen_run
from fugu.training.grpo import GPUMissing


def run(seed: int, accuracy: float) -> ConductorRun:
    return ConductorRun(seed, None, None, [], [], {}, {"accuracy": accuracy}, {})


def test_the_seed_served_is_the_best_on_validation_ties_to_the_earlier():
    assert chosen_run([run(0, 0.6), run(1, 0.7), run(2, 0.7)]).seed == 1


def test_the_reference_scale_needs_a_gpu_first(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(GPUMissing, match="train_conductor with profile: full needs a CUDA GPU"):
        check_full_scale(tmp_path, "Qwen/Qwen2.5-3B-Instruct", "nvidia/ToolScale")


def test_the_reference_scale_then_needs_the_fetched_policy_model(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(FileNotFoundError, match="no policy model at .*: fetch Qwen/Qwen2.5-3B-Instruct there first"):
        check_full_scale(tmp_path / "policy", "Qwen/Qwen2.5-3B-Instruct", "nvidia/ToolScale")


def test_the_reference_scale_stops_naming_the_missing_live_pool(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FullScaleUnavailable, match="live worker pool that executes workflows on nvidia/ToolScale"):
        check_full_scale(tmp_path, "Qwen/Qwen2.5-3B-Instruct", "nvidia/ToolScale")
