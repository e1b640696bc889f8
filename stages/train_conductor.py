"""train_conductor: GRPO on the Conductor; the reward curve comes from real GRPO steps.

tiny  A tiny Qwen3 causal LM (fugu.models.backbone) learns to write workflows for questions of the
      simulated pool (a MOCK; fugu.conductor.task): a short format warm start, then
      ``trl.GRPOTrainer`` with the verifiable reward (format + executed answer). Writes the
      per-step curve, reward_gain (last window minus first window), held-out reward of the
      greedy policy before and after GRPO, and the trained policy.
full  A 3B-class instruct policy on nvidia/ToolScale on a GPU (docs/conductor.md). On a
      machine without a CUDA GPU it stops with a message saying so.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from fugu.conductor.recursion import estimate_skill
from fugu.conductor.task import random_workflow, task_rows, tokenizer_corpus
from fugu.data.matrix import best_single_index
from fugu.models.backbone import build_tiny_backbone, load_backbone
from fugu.pools.simulated import SimulatedPool
from fugu.training.conductor_reward import WorkflowReward, evaluate_policy
from fugu.training.grpo import (
    GPUMissing,
    GRPOSettings,
    require_gpu,
    train_grpo,
    warm_start,
    window_gain_estimate,
)
from stages.builders import simulated_world
from stages.common import checksums, open_stage, write_curve, write_metrics
from stages.paths import CONDUCTOR_POLICY_DIR, CONDUCTOR_REWARD_PLOT, ROOT

PLOT_COLUMNS = ["step", "mean_reward", "reward_std", "format_reward", "answer_reward", "data"]
PLOT_DATA = "mock task, simulated pool"  # the report prints it in the curve's title


def main() -> None:
    params, profile, cfg = open_stage("train_conductor")
    if profile == "full":
        try:
            train_full(cfg)
        except (GPUMissing, FileNotFoundError, FullScaleUnavailable) as exc:
            sys.exit(f"train_conductor: {exc}")
    started = time.perf_counter()
    metrics, not_run = train_tiny(cfg, *simulated_world(params), [int(s) for s in cfg["seeds"]], params["bootstrap"])
    write_metrics("train_conductor", profile, metrics, checksums(CONDUCTOR_POLICY_DIR), not_run=not_run,
                  timings={"wall_s": time.perf_counter() - started})


def train_tiny(cfg: dict[str, Any], pool: SimulatedPool, train_ids: list[str], held_ids: list[str],
               seeds: list[int], bootstrap: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """GRPO once per seed (the first seed's policy is saved); the reward gain pooled over seeds."""
    runs = [train_one(cfg, pool, train_ids, held_ids, seed) for seed in seeds]
    first = runs[0]
    save_policy(first["model"], first["tokenizer"])
    write_reward_curve(first["curve"])
    window = int(cfg["reward_window"])
    curves = [[row["mean_reward"] for row in run["curve"]] for run in runs]
    metrics = {
        "mock": bool(pool.mock),  # the task's pool is the simulated skill matrix: its own flag says so
        "task": "workflows over the simulated pool (mock); reward = format + executed answer, max 2",
        "seeds": seeds,
        "grpo_steps": len(first["curve"]),
        "reward_window": window,
        "first_window_mean_reward": [float(np.mean(c[:window])) for c in curves],
        "last_window_mean_reward": [float(np.mean(c[-window:])) for c in curves],
        "reward_gain": window_gain_estimate(curves, window, int(bootstrap["resamples"]), seeds[0], seeds,
                                            float(bootstrap["confidence"])),
        "warm_start": [{"steps": len(r["losses"]), "first_loss": r["losses"][0], "last_loss": r["losses"][-1]}
                       for r in runs],
        "held_out": {"n_questions": len(task_rows(pool, held_ids)),
                     "before_grpo": [r["before"] for r in runs], "after_grpo": [r["after"] for r in runs],
                     "reference": routing_references(pool, train_ids, held_ids)},
        "policy_parameters": sum(p.numel() for p in first["model"].parameters()),
    }
    not_run = {"final_mean_reward": "full scale only (3B-class policy on nvidia/ToolScale, GPU); "
                                    "the tiny profile measures reward_gain"}
    return metrics, not_run


def train_one(cfg: dict[str, Any], pool: SimulatedPool, train_ids: list[str], held_ids: list[str],
              seed: int) -> dict[str, Any]:
    """One GRPO run: a seeded tiny policy, its format warm start, GRPO, held-out reward before/after."""
    n_workers, max_steps = len(pool.workers), int(cfg["max_steps"])
    rows, held = task_rows(pool, train_ids), task_rows(pool, held_ids)
    warm = cfg["warm_start"]
    with tempfile.TemporaryDirectory() as scratch:
        corpus = tokenizer_corpus(rows, n_workers, int(warm["max_workflow_steps"]), seed)
        backbone_dir = build_tiny_backbone(Path(scratch) / "backbone", seed=seed, corpus=corpus, **cfg["backbone"])
        model, tokenizer = load_backbone(backbone_dir)
        rng = np.random.default_rng([seed, 9])
        targets = [random_workflow(rng, n_workers, int(warm["max_workflow_steps"])).to_json() for _ in rows]
        losses = warm_start(model, tokenizer, [r["prompt"] for r in rows], targets, steps=int(warm["steps"]),
                            learning_rate=float(warm["learning_rate"]), batch_size=int(warm["batch_size"]), seed=seed)
        reward = WorkflowReward(pool, max_steps, float(cfg["time_budget_s"]), int(cfg["max_attempts"]))
        grpo = GRPOSettings(seed=seed, **cfg["grpo"])
        before = evaluate_policy(model, tokenizer, held, reward, grpo.max_completion_length)
        curve = train_grpo(model, tokenizer, rows, [reward.format_reward, reward.answer_reward], grpo,
                           Path(scratch) / "grpo")
        after = evaluate_policy(model, tokenizer, held, reward, grpo.max_completion_length)
    return {"model": model, "tokenizer": tokenizer, "curve": curve, "losses": losses, "before": before, "after": after}


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


def train_full(cfg: dict[str, Any]) -> None:
    """The reference scale. Stops early and clearly on what is missing (docs/conductor.md)."""
    require_gpu("train_conductor with profile: full")
    model_dir = ROOT / cfg["model_dir"]
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"no policy model at {model_dir}: fetch {cfg['model_id']} there first")
    raise FullScaleUnavailable(
        f"profile full also needs a live worker pool that executes workflows on {cfg['dataset']} tasks "
        "(an OpenAI-compatible pool); none is built into this repository yet, so full-scale GRPO is not run")


def save_policy(model, tokenizer) -> None:
    shutil.rmtree(CONDUCTOR_POLICY_DIR, ignore_errors=True)
    CONDUCTOR_POLICY_DIR.mkdir(parents=True)
    model.save_pretrained(CONDUCTOR_POLICY_DIR)
    tokenizer.save_pretrained(CONDUCTOR_POLICY_DIR)


def write_reward_curve(curve: list[dict]) -> None:
    write_curve(CONDUCTOR_REWARD_PLOT, PLOT_COLUMNS, [{**row, "data": PLOT_DATA} for row in curve])


if __name__ == "__main__":
    main()
