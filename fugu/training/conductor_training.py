"""The Conductor trained with GRPO at reduced scale, and the guard of the reference scale.

Reduced scale (:func:`train_one`, once per seed): a tiny Qwen3 causal LM (fugu.models.backbone)
learns to write workflows for questions of the simulated pool (a MOCK; fugu.conductor.task):
a short format warm start, then ``trl.GRPOTrainer`` with the verifiable reward (format +
executed answer; :mod:`fugu.training.grpo`). :func:`run_metrics` reads the runs: the reward
gain (last window minus first window, pooled over seeds), the held-out reward of the greedy
policy before and after GRPO, and two fixed routing policies to read it against.

Reference scale: a 3B-class instruct policy on nvidia/ToolScale on a GPU (docs/conductor.md);
:func:`check_full_scale` stops early and clearly on what is missing.

``settings`` is the run's knobs as a dict: ``max_steps``, ``time_budget_s``, ``max_attempts``,
``reward_window``, ``backbone`` (build_tiny_backbone's sizes), ``warm_start`` (steps,
learning_rate, batch_size, max_workflow_steps) and ``grpo`` (GRPOSettings but the seed).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fugu.conductor.recursion import estimate_skill
from fugu.conductor.task import random_workflow, task_rows, tokenizer_corpus
from fugu.data.matrix import best_single_index
from fugu.models.backbone import build_tiny_backbone, load_backbone
from fugu.pools.simulated import SimulatedPool
from fugu.training.conductor_reward import WorkflowReward, evaluate_policy
from fugu.training.grpo import GRPOSettings, require_gpu, train_grpo, warm_start, window_gain_estimate


@dataclass
class ConductorRun:
    """One seed's GRPO run: the trained policy, its per-step curve, the warm-start losses, and the
    held-out reward of its greedy workflows before and after GRPO."""
    model: Any
    tokenizer: Any
    curve: list[dict]
    losses: list[float]
    before: dict[str, float]
    after: dict[str, float]


def train_one(settings: dict[str, Any], pool: SimulatedPool, train_ids: list[str], held_ids: list[str],
              seed: int) -> ConductorRun:
    """One GRPO run: a seeded tiny policy, its format warm start, GRPO, held-out reward before/after."""
    n_workers, max_steps = len(pool.workers), int(settings["max_steps"])
    rows, held = task_rows(pool, train_ids), task_rows(pool, held_ids)
    warm = settings["warm_start"]
    with tempfile.TemporaryDirectory() as scratch:
        corpus = tokenizer_corpus(rows, n_workers, int(warm["max_workflow_steps"]), seed)
        backbone_dir = build_tiny_backbone(Path(scratch) / "backbone", seed=seed, corpus=corpus, **settings["backbone"])
        model, tokenizer = load_backbone(backbone_dir)
        rng = np.random.default_rng([seed, 9])
        targets = [random_workflow(rng, n_workers, int(warm["max_workflow_steps"])).to_json() for _ in rows]
        losses = warm_start(model, tokenizer, [r["prompt"] for r in rows], targets, steps=int(warm["steps"]),
                            learning_rate=float(warm["learning_rate"]), batch_size=int(warm["batch_size"]), seed=seed)
        reward = WorkflowReward(pool, max_steps, float(settings["time_budget_s"]), int(settings["max_attempts"]))
        grpo = GRPOSettings(seed=seed, **settings["grpo"])
        before = evaluate_policy(model, tokenizer, held, reward, grpo.max_completion_length)
        curve = train_grpo(model, tokenizer, rows, [reward.format_reward, reward.answer_reward], grpo,
                           Path(scratch) / "grpo")
        after = evaluate_policy(model, tokenizer, held, reward, grpo.max_completion_length)
    return ConductorRun(model, tokenizer, curve, losses, before, after)


def run_metrics(runs: list[ConductorRun], window: int, pool: SimulatedPool, train_ids: list[str],
                held_ids: list[str], seeds: list[int], n_resamples: int,
                level: float) -> tuple[dict[str, Any], dict[str, str]]:
    """(metrics, not_run) of the runs, one per seed (the first is the policy kept): the reward gain
    pooled over seeds, with its interval; the held-out rewards; the size of the policy."""
    first = runs[0]
    curves = [[row["mean_reward"] for row in run.curve] for run in runs]
    metrics = {
        "mock": bool(pool.mock),  # the task's pool is the simulated skill matrix: its own flag says so
        "task": "workflows over the simulated pool (mock); reward = format + executed answer, max 2",
        "seeds": seeds,
        "grpo_steps": len(first.curve),
        "reward_window": window,
        "first_window_mean_reward": [float(np.mean(c[:window])) for c in curves],
        "last_window_mean_reward": [float(np.mean(c[-window:])) for c in curves],
        "reward_gain": window_gain_estimate(curves, window, n_resamples, seeds[0], seeds, level),
        "warm_start": [{"steps": len(r.losses), "first_loss": r.losses[0], "last_loss": r.losses[-1]} for r in runs],
        "held_out": {"n_questions": len(task_rows(pool, held_ids)),
                     "before_grpo": [r.before for r in runs], "after_grpo": [r.after for r in runs],
                     "reference": routing_references(pool, train_ids, held_ids)},
        "policy_parameters": sum(p.numel() for p in first.model.parameters()),
    }
    not_run = {"final_mean_reward": "full scale only (3B-class policy on nvidia/ToolScale, GPU); "
                                    "the tiny profile measures reward_gain"}
    return metrics, not_run


def routing_references(pool: SimulatedPool, train_ids: list[str], held_ids: list[str]) -> dict[str, float]:
    """Held-out answer accuracy of two fixed policies chosen on *training* questions, to read
    the policy's answer reward against: always the best single worker, and the best worker
    per category (what a Conductor that reads the category tag could reach)."""
    skill = estimate_skill(pool, train_ids)
    held = pool.outcomes(held_ids, expected=False)
    rows = np.arange(len(held_ids))
    category = [pool.categories.index(c) for c in held.categories]
    best_single = best_single_index(pool.outcomes(train_ids, expected=False))
    return {"best_single_worker": float(held.scores[:, best_single].mean()),
            "best_worker_per_category": float(held.scores[rows, np.argmax(skill[category], axis=1)].mean())}


class FullScaleUnavailable(RuntimeError):
    """Something the full profile needs is not in this repository yet; the message names it."""


def check_full_scale(model_dir: Path, model_id: str, dataset: str) -> None:
    """The reference scale's prerequisites, in order: a CUDA GPU (``GPUMissing``), the policy model
    fetched to ``model_dir`` (``FileNotFoundError``), a live worker pool (``FullScaleUnavailable``:
    none is built into this repository yet, so this always stops; docs/conductor.md)."""
    require_gpu("train_conductor with profile: full")
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"no policy model at {model_dir}: fetch {model_id} there first")
    raise FullScaleUnavailable(
        f"profile full also needs a live worker pool that executes workflows on {dataset} tasks "
        "(an OpenAI-compatible pool); none is built into this repository yet, so full-scale GRPO is not run")
