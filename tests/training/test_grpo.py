"""GRPO training: the reward is verifiable, and the curve is what the reward functions returned."""

import io
import warnings
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from fugu.conductor.recorded_task import RecordedAnswers
from fugu.conductor.task import random_workflow, task_rows
from fugu.models.backbone import build_tiny_backbone, load_backbone
from fugu.pools.simulated import SimulatedPool, split_question_ids
from fugu.training.grpo import GPUMissing, GRPOSettings, require_gpu, train_grpo, warm_start, window_gain
from fugu.training.recorded_reward import RecordedReward


@pytest.fixture(scope="module")
def pool() -> SimulatedPool:
    return SimulatedPool.generate(n_questions=40, n_categories=2, n_workers=3, seed=0)


def test_window_gain_is_last_minus_first_window():
    assert window_gain([1, 1, 2, 3, 3], 2) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        window_gain([1, 2, 3], 2)


def test_full_profile_refuses_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(GPUMissing, match="needs a CUDA GPU"):
        require_gpu("train_conductor with profile: full")


@dataclass
class GRPORun:
    curve: list[dict]
    returned: list[list[float]]   # what the brace reward returned, call by call
    changed: bool                 # whether any parameter moved
    warnings: list[warnings.WarningMessage]
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def grpo_run(pool, tmp_path_factory) -> GRPORun:
    """Two GRPO steps of a warm-started tiny policy, its warnings and console recorded."""
    torch.set_num_threads(1)
    tmp_path = tmp_path_factory.mktemp("grpo")
    train, _ = split_question_ids(pool, 0.25, seed=0)
    rows = task_rows(pool, train)
    rng = np.random.default_rng(0)
    corpus = [r["prompt"] for r in rows] + [random_workflow(rng, 3, 2).to_json() for _ in range(50)]
    directory = build_tiny_backbone(tmp_path / "bb", seed=0, corpus=corpus, vocab_size=320, hidden_size=32,
                                    num_hidden_layers=1, intermediate_size=64)
    model, tokenizer = load_backbone(directory)
    targets = [random_workflow(rng, 3, 1).to_json() for _ in rows]
    losses = warm_start(model, tokenizer, [r["prompt"] for r in rows], targets, steps=30, learning_rate=3e-3,
                        batch_size=16, seed=0)
    assert losses[-1] < losses[0]

    reward = RecordedReward(RecordedAnswers(pool.outcomes(train, expected=False)), max_steps=3)
    returned: list[list[float]] = []

    def brace_reward(prompts, completions, **kw):
        """Varies within a group even for a weak policy, so every step has a gradient."""
        out = [c.count("{") / 4 for c in completions]
        returned.append(out)
        return out

    settings = GRPOSettings(steps=2, prompts_per_step=2, num_generations=4, learning_rate=1e-3,
                            max_completion_length=32, temperature=1.0, beta=0.0, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    stdout, stderr = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, redirect_stdout(stdout), redirect_stderr(stderr):
        warnings.simplefilter("always")
        curve = train_grpo(model, tokenizer, rows, [brace_reward, reward.answer_reward], settings, tmp_path / "grpo")
    changed = any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    return GRPORun(curve, returned, changed, caught, stdout.getvalue(), stderr.getvalue())


def test_grpo_curve_comes_from_real_steps(grpo_run):
    assert [row["step"] for row in grpo_run.curve] == [1, 2]
    assert [row["brace_reward"] for row in grpo_run.curve] == pytest.approx([np.mean(r) for r in grpo_run.returned])
    assert grpo_run.changed


def test_grpo_raises_no_deprecation_warning(grpo_run):
    deprecations = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in grpo_run.warnings
                    if issubclass(w.category, (FutureWarning, DeprecationWarning))]
    assert deprecations == []


def test_grpo_shows_one_progress_bar_with_the_mean_reward_not_the_log_dicts(grpo_run):
    assert "'loss'" not in grpo_run.stdout + grpo_run.stderr  # the trainer's per-step log dicts
    assert "train_runtime" not in grpo_run.stdout + grpo_run.stderr
    assert "GRPO seed 0" in grpo_run.stderr and "2/2" in grpo_run.stderr
    assert f"mean_reward={grpo_run.curve[-1]['mean_reward']:.3f}" in grpo_run.stderr


def test_full_profile_stage_stops_with_a_message_on_a_machine_without_a_gpu(monkeypatch):
    import stages.common
    import stages.train_conductor as stage

    params = {"profile": "full", "seed": 0, "simulated_pool": {},
              "numerics": {"pin": True, "threads": torch.get_num_threads()},  # leaves the test process's threads alone
              "train_conductor": {"full": {"model_id": "m", "dataset": "d", "device": "cuda", "use_vllm": False}}}
    monkeypatch.setattr(stages.common, "load_params", lambda: params)  # what open_stage reads
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit, match="train_conductor: .*needs a CUDA GPU"):
        stage.main([])
