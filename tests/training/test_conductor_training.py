"""The Conductor's training runs (fugu/training/conductor_training.py): the routing references
its answer reward is read against, and the reference scale's guard.

One whole GRPO run per seed is the train_conductor stage's work, run in the tiny pipeline test;
GRPO itself is tested in test_grpo.py.
"""

import pytest
import torch

from fugu.pools.simulated import SimulatedPool, split_question_ids
from fugu.training.conductor_training import FullScaleUnavailable, check_full_scale, routing_references
from fugu.training.grpo import GPUMissing


@pytest.fixture(scope="module")
def pool() -> SimulatedPool:
    return SimulatedPool.generate(n_questions=200, n_categories=4, n_workers=4, seed=0)


def test_routing_references_are_held_out_accuracies_of_policies_chosen_on_training_questions(pool):
    train, held = split_question_ids(pool, 0.25, seed=0)
    references = routing_references(pool, train, held)
    scores = pool.outcomes(held, expected=False).scores
    assert references["best_single_worker"] in {float(scores[:, w].mean()) for w in range(len(pool.workers))}
    # one specialist per category: reading the category beats any single worker
    assert references["best_worker_per_category"] > references["best_single_worker"]
    assert references == routing_references(pool, train, held)  # no hidden randomness


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
