"""The Conductor trained with GRPO on recorded real outcomes, and the guard of the reference scale.

Reduced scale (:func:`train_one`, once per seed): SmolLM2-135M-Instruct, the checkpoint TRINITY
uses (:mod:`fugu.training.conductor_policy`), learns to write workflows for the recorded pool's
training questions (:mod:`fugu.conductor.recorded_task`): a short format warm start on workflows
whose workers are drawn uniformly (syntax only, never who is good), then ``trl.GRPOTrainer`` with
the reward format + the answering worker's recorded correctness
(:mod:`fugu.training.recorded_reward`). Each seed's greedy policy is read on the *validation*
split, which chooses the seed that is served; the test split is not an argument here (eval judges
it). With a recorded pool only the last step's worker decides the answer, so the Conductor learns
whom to ask and the format, not how to compose.

Reference scale: a 3B-class instruct policy on nvidia/ToolScale over a live pool,
:mod:`fugu.training.conductor_full`.

``settings`` is the run's knobs as a dict: ``max_steps``, ``reward_window``, ``question_chars``,
``trainable_layers``, ``cost_weight``, ``eval_batch_size``, ``warm_start`` (steps, learning_rate,
batch_size) and ``grpo`` (GRPOSettings but the seed).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fugu.conductor.recorded_task import RecordedAnswers, format_targets, greedy_plans, held_out_record, task_rows
from fugu.data.matrix import Outcomes
from fugu.training.conductor_policy import load_policy
from fugu.training.grpo import GRPOSettings, train_grpo, warm_start, window_gain_estimate
from fugu.training.recorded_reward import RecordedReward

TASK = ("workflows over the recorded pool (data/routing, real outcomes of real LLMs); a workflow's answer is the "
        "recorded answer of its last step's worker, so earlier steps cannot change it: at this scale the Conductor "
        "learns whom to ask and the format, not how to compose")


@dataclass
class ConductorRun:
    """One seed's run: the trained policy, its GRPO curve, warm-start losses, the training parse
    failures, the validation record of its greedy policy after GRPO, and wall times."""
    seed: int
    model: Any
    tokenizer: Any
    curve: list[dict]
    losses: list[float]
    parse_failures: dict[str, Any]
    validation: dict[str, Any]
    wall_s: dict[str, float]


def train_one(settings: dict[str, Any], backbone_dir: Path, train: Outcomes, validation: Outcomes,
              seed: int) -> ConductorRun:
    """One seed: SmolLM2 with its top layers trainable, the format warm start, GRPO, the validation record."""
    model, tokenizer = load_policy(backbone_dir, int(settings["trainable_layers"]))
    chars, max_steps = int(settings["question_chars"]), int(settings["max_steps"])
    grpo = GRPOSettings(seed=seed, **settings["grpo"])
    rows = task_rows(train, tokenizer, chars)
    clock = {"start": time.perf_counter()}
    warm = settings["warm_start"]
    targets = format_targets(np.random.default_rng([seed, 9]), len(rows), len(train.workers))
    losses = warm_start(model, tokenizer, [r["prompt"] for r in rows], targets, steps=int(warm["steps"]),
                        learning_rate=float(warm["learning_rate"]), batch_size=int(warm["batch_size"]), seed=seed)
    clock["warm_start"] = time.perf_counter()
    reward = RecordedReward(RecordedAnswers(train), max_steps, float(settings["cost_weight"]))
    with tempfile.TemporaryDirectory() as scratch:
        curve = train_grpo(model, tokenizer, rows, [reward.format_reward, reward.answer_reward], grpo, Path(scratch))
    clock["grpo"] = time.perf_counter()
    plans = greedy_plans(model, tokenizer, validation, chars, max_steps, grpo.max_completion_length,
                         int(settings["eval_batch_size"]), desc=f"conductor seed {seed}: greedy plans on validation")
    clock["validation"] = time.perf_counter()
    wall = {"warm_start": clock["warm_start"] - clock["start"], "grpo": clock["grpo"] - clock["warm_start"],
            "validation_read": clock["validation"] - clock["grpo"]}
    failures = {"rate": reward.failure_rate(), "kinds": dict(sorted(reward.failures.items())),
                "completions": reward.completions}
    return ConductorRun(seed, model, tokenizer, curve, losses, failures, held_out_record(plans, validation), wall)


def chosen_run(runs: list[ConductorRun]) -> ConductorRun:
    """The seed served: the best greedy accuracy on *validation* (ties → the earlier seed); never test."""
    return runs[int(np.argmax([r.validation["accuracy"] for r in runs]))]


def run_metrics(runs: list[ConductorRun], window: int, backbone: str, pool: list[str], n_train: int,
                n_resamples: int, level: float) -> tuple[dict[str, Any], dict[str, str]]:
    """(metrics, not_run) of the runs, one per seed: the reward gain pooled over seeds with its
    interval, the validation records, the training parse failures, the chosen seed (wall times are
    machine-dependent: the stage writes them to its timings file, never to a DVC-tracked metric)."""
    seeds = [r.seed for r in runs]
    curves = [[row["mean_reward"] for row in run.curve] for run in runs]
    metrics = {
        "mock": False,
        "policy": backbone,
        "pool": pool,
        "task": TASK,
        "reward": "format (1 if the completion parses into a valid workflow) + the answering worker's recorded "
                  "correctness (0 for a failed plan) − cost_weight × its estimated USD per 1,000 answers; max 2",
        "n_train_questions": n_train,
        "seeds": seeds,
        "grpo_steps": len(runs[0].curve),
        "reward_window": window,
        "first_window_mean_reward": [float(np.mean(c[:window])) for c in curves],
        "last_window_mean_reward": [float(np.mean(c[-window:])) for c in curves],
        "reward_gain": window_gain_estimate(curves, window, n_resamples, seeds[0], seeds, level),
        "warm_start": [{"steps": len(r.losses), "first_loss": r.losses[0], "last_loss": r.losses[-1]} for r in runs],
        "training_parse_failures": [r.parse_failures for r in runs],
        "validation": {"per_seed": [r.validation for r in runs], "chosen_seed": chosen_run(runs).seed},
        "trainable_parameters": sum(p.numel() for p in runs[0].model.parameters() if p.requires_grad),
        "policy_parameters": sum(p.numel() for p in runs[0].model.parameters()),
    }
    not_run = {"final_mean_reward": "full scale only (3B-class policy on nvidia/ToolScale, GPU); "
                                    "the tiny profile measures reward_gain"}
    return metrics, not_run
