"""train_conductor: GRPO on the Conductor over the recorded pool; the reward curve comes from real GRPO steps.

tiny/medium  SmolLM2-135M-Instruct (fetch's converted checkpoint, TRINITY's backbone) learns to write
      workflows for the recorded pool's training questions (data/routing): a format warm start on
      uniformly drawn workers, then ``trl.GRPOTrainer`` with format + the answering worker's
      recorded correctness, once per seed. Each seed's trained tensors go to
      artifacts/train_conductor/seeds (eval judges them on test); the seed with the best greedy
      *validation* accuracy is saved whole as the served policy (``fugu serve --mode ultra``,
      ``fugu route --ultra``).
full  A 3B-class instruct policy (fetch's artifacts/fetch/conductor/policy) trained by GRPO on
      nvidia/ToolScale tasks (artifacts/fetch/conductor/toolscale) over a LIVE worker pool
      (``train_conductor.full.pool``: litellm workers, e.g. vLLM servers or APIs), every worker
      asked once before training; held-out tasks scored after (:mod:`fugu.training.conductor_full`).
      ``--device cpu`` (tests only: a tiny policy, a synthetic task sample, local worker servers)
      runs the same path on CPU, and the metrics record it as a stand-in run.
The reduced-scale code is :mod:`fugu.training.conductor_training`.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from fugu.data.matrix import load_split
from fugu.training.conductor_policy import save_trained
from fugu.training.conductor_training import chosen_run, run_metrics, train_one
from stages.common import checksums, device_override, open_stage, write_curve, write_metrics
from stages.paths import (
    BACKBONE_DIR,
    CONDUCTOR_FETCHED_POLICY,
    CONDUCTOR_POLICY_DIR,
    CONDUCTOR_REWARD_PLOT,
    CONDUCTOR_SEEDS,
    CONDUCTOR_SEEDS_INDEX,
    ROUTING_DIR,
    TOOLSCALE_DIR,
)

PLOT_COLUMNS = ["step", "mean_reward", "reward_std", "format_reward", "answer_reward", "data"]
PLOT_DATA = "recorded pool, SmolLM2-135M-Instruct"  # the report prints it in the curve's title
POLICY = "HuggingFaceTB/SmolLM2-135M-Instruct (artifacts/fetch/backbone, TRINITY's converted checkpoint)"


def main(argv: Sequence[str] | None = None) -> None:
    params, profile, cfg = open_stage("train_conductor")
    if profile == "full":
        device = device_override("train_conductor", "train_conductor.full.device", argv) or cfg["device"]
        return main_full(params, cfg, device)
    started = time.perf_counter()
    train, validation = load_split(ROUTING_DIR, "train"), load_split(ROUTING_DIR, "validation")
    runs = [train_one(cfg, BACKBONE_DIR, train, validation, int(seed)) for seed in cfg["seeds"]]
    save_seeds(runs, cfg)
    chosen = chosen_run(runs)
    save_policy(chosen.model, chosen.tokenizer)
    write_curve(CONDUCTOR_REWARD_PLOT, PLOT_COLUMNS, [{**row, "data": PLOT_DATA} for row in runs[0].curve])
    bootstrap = params["bootstrap"]
    metrics, not_run = run_metrics(runs, int(cfg["reward_window"]), POLICY, list(train.workers), len(train),
                                   int(bootstrap["resamples"]), float(bootstrap["confidence"]))
    write_metrics("train_conductor", profile, metrics, checksums(CONDUCTOR_POLICY_DIR, CONDUCTOR_SEEDS),
                  not_run=not_run, timings={"wall_s": time.perf_counter() - started,
                                            "per_seed": [run.wall_s for run in runs]})


def main_full(params, cfg, device: str) -> None:
    """The reference scale: check device and pool first (nothing loads before both are known good), then train."""
    from fugu.conductor.toolscale import read_task_file
    from fugu.pools.from_spec import pool_from_spec
    from fugu.pools.liveness import PoolDown, require_live
    from fugu.training.conductor_full import (
        GPUOutOfMemory,
        MissingExtra,
        full_metrics,
        prepare_device,
        split_tasks,
        train_full,
    )
    from fugu.training.grpo import GPUMissing

    started = time.perf_counter()
    try:
        prepare_device(device, bool(cfg["use_vllm"]))
        if not (CONDUCTOR_FETCHED_POLICY / "config.json").is_file():
            raise FileNotFoundError(f"no policy model at {CONDUCTOR_FETCHED_POLICY}: run fetch with profile: full "
                                    "(or set fetch.full.conductor_policy.path)")
        if not cfg.get("pool"):
            raise ValueError("train_conductor.full.pool lists no workers: describe the live pool (kind: litellm)")
        pool = pool_from_spec(cfg["pool"])
        workers = require_live(pool, float(cfg["pool"].get("timeout_s", 30.0)), "train_conductor.full.pool")
    except (GPUMissing, MissingExtra, FileNotFoundError, ValueError, PoolDown) as exc:
        sys.exit(f"train_conductor: {exc}")
    tasks = read_task_file(TOOLSCALE_DIR)
    if len(tasks.skipped):
        print(f"train_conductor: {len(tasks.skipped)} ToolScale records skipped (ids logged above)", file=sys.stderr)
    seed = int(cfg["seed"])
    train, held_out = split_tasks(tasks.tasks, float(cfg["held_out_fraction"]), seed)
    settings = {**cfg, "seed": seed, "max_steps": int(cfg["max_steps"])}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            run = train_full(settings, CONDUCTOR_FETCHED_POLICY, train, held_out, pool, device, Path(scratch))
    except GPUOutOfMemory as exc:
        sys.exit(f"train_conductor: {exc}")
    save_policy(run.model, run.tokenizer)
    shutil.rmtree(CONDUCTOR_SEEDS, ignore_errors=True)
    CONDUCTOR_SEEDS.mkdir(parents=True)  # a DVC out; the full profile trains one policy, saved whole
    CONDUCTOR_SEEDS_INDEX.write_text(json.dumps({"full_profile": "one policy, saved whole in the policy dir",
                                                 "seeds": []}, indent=2) + "\n")
    write_curve(CONDUCTOR_REWARD_PLOT, PLOT_COLUMNS, [{**row, "data": cfg["dataset"]} for row in run.curve])
    bootstrap = params["bootstrap"]
    metrics = full_metrics(run, tasks, len(train), int(cfg["reward_window"]), seed, int(bootstrap["resamples"]),
                           float(bootstrap["confidence"]), cfg["model_id"], cfg["dataset"], device, workers)
    write_metrics("train_conductor", "full", metrics, checksums(CONDUCTOR_POLICY_DIR, CONDUCTOR_SEEDS),
                  stand_in=metrics["stand_in"], timings={"wall_s": time.perf_counter() - started, **run.wall_s})


def save_seeds(runs, cfg) -> None:
    """Each seed's trained tensors and the settings eval needs to rebuild and read its policy."""
    shutil.rmtree(CONDUCTOR_SEEDS, ignore_errors=True)
    CONDUCTOR_SEEDS.mkdir(parents=True)
    for run in runs:
        save_trained(run.model, CONDUCTOR_SEEDS / f"seed_{run.seed}.safetensors")
    index = {"trainable_layers": int(cfg["trainable_layers"]), "question_chars": int(cfg["question_chars"]),
             "max_steps": int(cfg["max_steps"]), "max_new_tokens": int(cfg["grpo"]["max_completion_length"]),
             "batch_size": int(cfg["eval_batch_size"]), "cost_weight": float(cfg["cost_weight"]),
             "seeds": [{"seed": r.seed, "tensors": f"seed_{r.seed}.safetensors"} for r in runs]}
    CONDUCTOR_SEEDS_INDEX.write_text(json.dumps(index, indent=2) + "\n")


def save_policy(model, tokenizer) -> None:
    shutil.rmtree(CONDUCTOR_POLICY_DIR, ignore_errors=True)
    CONDUCTOR_POLICY_DIR.mkdir(parents=True)
    model.save_pretrained(CONDUCTOR_POLICY_DIR)
    tokenizer.save_pretrained(CONDUCTOR_POLICY_DIR)


if __name__ == "__main__":
    main()
