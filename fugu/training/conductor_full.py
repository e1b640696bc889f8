"""The Conductor at the reference scale: GRPO with trl on ToolScale tasks over a live worker pool.

The policy (a 3B-class instruct model fetched by ``fetch``) writes a workflow for each task;
:class:`~fugu.training.toolscale_reward.LiveToolScaleReward` executes it on the live pool (litellm
to vLLM servers or APIs) and scores the final answer's tool calls against the gold actions. Every
parameter of the policy learns (the reference fine-tunes the whole model). A held-out share of the
tasks is never trained on: the trained policy's greedy workflows are executed and scored on it.

Where it runs is the caller's ``device``: ``cuda`` (bf16; several GPUs through ``accelerate
launch`` with a DeepSpeed config from configs/accelerate/; rollouts through vLLM with ``use_vllm``,
which needs the ``[gpu]`` extra) or ``cpu`` (float32: the stand-in run the tests make with a tiny
random policy, a synthetic task sample and local worker servers; its metrics say so).
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fugu.conductor.prompts import conductor_messages
from fugu.conductor.toolscale import TaskSet, ToolTask
from fugu.models.backbone import load_backbone
from fugu.models.generation import generate
from fugu.pools.base import Pool
from fugu.training.grpo import GRPOSettings, require_gpu, train_grpo, window_gain_estimate
from fugu.training.toolscale_reward import DESCRIPTION, ExecutionSettings, LiveToolScaleReward

DEVICES = ("cuda", "cpu")
# The settings that size a GRPO step's GPU memory, in the order to lower them.
MEMORY_KEYS = ("train_conductor.full.grpo.num_generations", "train_conductor.full.grpo.prompts_per_step",
               "train_conductor.full.grpo.max_completion_length")


class MissingExtra(RuntimeError):
    """A GPU-only engine (vLLM, DeepSpeed) is asked for but not installed; the message says how."""


class GPUOutOfMemory(RuntimeError):
    """GRPO ran out of GPU memory; the message names the settings to lower."""


def prepare_device(device: str, use_vllm: bool) -> None:
    """Stop before loading anything if ``device`` cannot run: no CUDA GPU, or vLLM asked for but absent."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cpu":
        if use_vllm:
            raise ValueError("train_conductor.full.use_vllm needs device cuda (vLLM generates on GPUs only)")
        return
    require_gpu("train_conductor with profile: full")
    if use_vllm and importlib.util.find_spec("vllm") is None:
        raise MissingExtra("train_conductor.full.use_vllm is true but vLLM is not installed: "
                           "pip install -e '.[gpu]' (vLLM and DeepSpeed, CUDA builds), or set use_vllm: false")


def split_tasks(tasks: list[ToolTask], held_out_fraction: float, seed: int) -> tuple[list[ToolTask], list[ToolTask]]:
    """(train, held_out) by a seeded permutation; held-out tasks are never trained on."""
    if not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    order = np.random.default_rng(seed).permutation(len(tasks))
    n_held = max(1, int(round(held_out_fraction * len(tasks))))
    if n_held >= len(tasks):
        raise ValueError(f"{len(tasks)} tasks are too few to hold {n_held} out and train on the rest")
    return [tasks[i] for i in order[n_held:]], [tasks[i] for i in order[:n_held]]


def task_rows(tasks: list[ToolTask], tokenizer, n_workers: int) -> list[dict]:
    """One row per task: the Conductor's chat prompt, and the id the reward finds its gold actions by."""
    return [{"prompt": tokenizer.apply_chat_template(conductor_messages(t.brief(), n_workers), tokenize=False,
                                                     add_generation_prompt=True), "task_id": t.task_id}
            for t in tasks]


@dataclass
class FullConductorRun:
    """The trained policy, its GRPO curve, the held-out record, the reward's failure counts, wall times."""
    model: Any
    tokenizer: Any
    curve: list[dict]
    held_out: dict[str, Any]
    failures: dict[str, Any]
    wall_s: dict[str, float]


def train_full(settings: dict[str, Any], policy_dir: Path, train: list[ToolTask], held_out: list[ToolTask],
               pool: Pool, device: str, out_dir: Path) -> FullConductorRun:
    """GRPO on ``train`` over ``pool``, then the greedy policy executed on ``held_out``."""
    started = time.perf_counter()
    model, tokenizer = load_backbone(policy_dir, dtype=torch.bfloat16 if device == "cuda" else torch.float32)
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    execution = ExecutionSettings(int(settings["max_steps"]), float(settings["time_budget_s"]),
                                  int(settings["max_attempts"]))
    reward = LiveToolScaleReward([*train, *held_out], pool, execution)
    grpo = GRPOSettings(seed=int(settings["seed"]), **settings["grpo"])
    rows = task_rows(train, tokenizer, len(reward.workers))
    try:
        curve = train_grpo(model, tokenizer, rows, [reward.format_reward, reward.action_reward], grpo, out_dir,
                           use_cpu=device == "cpu", bf16=device == "cuda", use_vllm=bool(settings["use_vllm"]))
    except torch.cuda.OutOfMemoryError as exc:
        now = ", ".join(f"{k.rsplit('.', 1)[1]}={getattr(grpo, k.rsplit('.', 1)[1])}" for k in MEMORY_KEYS)
        raise GPUOutOfMemory(f"GRPO ran out of GPU memory ({now}): lower {MEMORY_KEYS[0]} first (per_device batch "
                             f"= prompts_per_step × num_generations), then {MEMORY_KEYS[1]} or {MEMORY_KEYS[2]}; or "
                             "spread the policy over more GPUs with configs/accelerate/zero2-8gpu.yaml") from exc
    trained = time.perf_counter()
    record = held_out_record(model, tokenizer, held_out, reward, grpo.max_completion_length,
                             int(settings["eval_batch_size"]))
    failures = {"rate": reward.failure_rate(), "kinds": dict(sorted(reward.failures.items())),
                "completions": reward.completions, "worker_calls": reward.worker_calls}
    return FullConductorRun(model, tokenizer, curve, record, failures,
                            {"grpo": trained - started, "held_out": time.perf_counter() - trained})


def held_out_record(model, tokenizer, tasks: list[ToolTask], reward: LiveToolScaleReward, max_new_tokens: int,
                    batch_size: int) -> dict[str, Any]:
    """The greedy policy's workflows on held-out tasks, executed and scored: mean format, action, total reward."""
    prompts = [r["prompt"] for r in task_rows(tasks, tokenizer, len(reward.workers))]
    texts = [t for i in range(0, len(prompts), batch_size)
             for t in generate(model, tokenizer, prompts[i:i + batch_size], max_new_tokens, sample=False)]
    formats = [float(reward.plan(t).workflow is not None) for t in texts]
    actions = reward.scores(texts, [t.task_id for t in tasks])
    return {"n_tasks": len(tasks), "format_rate": float(np.mean(formats)),
            "mean_action_score": float(np.mean(actions)),
            "mean_reward": float(np.mean(np.add(formats, actions)))}


def full_metrics(run: FullConductorRun, tasks: TaskSet, n_train: int, window: int, seed: int, n_resamples: int,
                 level: float, policy: str, dataset: str, device: str, pool: list[str]) -> dict[str, Any]:
    """Every full-scale key: the curve's windows and gain (claim conductor-grpo), ``final_mean_reward``, the
    held-out record, the data read and skipped, and ``stand_in`` (why this run is not the reference's, if so)."""
    curve = [row["mean_reward"] for row in run.curve]
    return {
        "mock": False,
        "policy": policy,
        "dataset": dataset,
        "device": device,
        "pool": pool,
        "task": "ToolScale tasks: the Conductor writes a workflow over the live pool; the executed workflow's "
                "final tool calls are scored against the gold actions",
        "reward": DESCRIPTION,
        "n_train_tasks": n_train,
        "n_held_out_tasks": run.held_out["n_tasks"],
        "skipped_records": {"count": len(tasks.skipped), "ids": sorted(tasks.skipped)[:50]},
        "seeds": [seed],
        "grpo_steps": len(curve),
        "reward_window": window,
        "first_window_mean_reward": [float(np.mean(curve[:window]))],
        "last_window_mean_reward": [float(np.mean(curve[-window:]))],
        "final_mean_reward": float(np.mean(curve[-window:])),
        "reward_gain": window_gain_estimate([curve], window, n_resamples, seed, [seed], level),
        "held_out": run.held_out,
        "training_failures": run.failures,
        "trainable_parameters": sum(p.numel() for p in run.model.parameters() if p.requires_grad),
        "policy_parameters": sum(p.numel() for p in run.model.parameters()),
        "stand_in": stand_in_reasons(device, tasks),
    }


def stand_in_reasons(device: str, tasks: TaskSet) -> list[str]:
    """Why a run is not at the reference scale, read from the run itself: the device, the records' own labels."""
    reasons = []
    if device == "cpu":
        reasons.append("trained on CPU (the --device cpu override); the reference trains on GPUs")
    reasons += [f"ToolScale records labelled stand-in: {label}" for label in tasks.stand_in]
    return reasons
