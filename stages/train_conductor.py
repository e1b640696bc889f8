"""train_conductor: GRPO on the Conductor over the recorded pool; the reward curve comes from real GRPO steps.

tiny/medium  SmolLM2-135M-Instruct (fetch's converted checkpoint, TRINITY's backbone) learns to write
      workflows for the recorded pool's training questions (data/routing): a format warm start on
      uniformly drawn workers, then ``trl.GRPOTrainer`` with format + the answering worker's
      recorded correctness, once per seed. Each seed's trained tensors go to
      artifacts/train_conductor/seeds (eval judges them on test); the seed with the best greedy
      *validation* accuracy is saved whole as the served policy (``fugu serve --mode ultra``,
      ``fugu route --ultra``).
full  A 3B-class instruct policy on nvidia/ToolScale on a GPU (docs/conductor.md). On a
      machine without a CUDA GPU it stops with a message saying so.
The code is :mod:`fugu.training.conductor_training`.
"""

from __future__ import annotations

import json
import shutil
import sys
import time

from fugu.data.matrix import load_split
from fugu.training.conductor_policy import save_trained
from fugu.training.conductor_training import (
    FullScaleUnavailable,
    check_full_scale,
    chosen_run,
    run_metrics,
    train_one,
)
from fugu.training.grpo import GPUMissing
from stages.common import checksums, open_stage, write_curve, write_metrics
from stages.paths import (
    BACKBONE_DIR,
    CONDUCTOR_POLICY_DIR,
    CONDUCTOR_REWARD_PLOT,
    CONDUCTOR_SEEDS,
    CONDUCTOR_SEEDS_INDEX,
    ROOT,
    ROUTING_DIR,
)

PLOT_COLUMNS = ["step", "mean_reward", "reward_std", "format_reward", "answer_reward", "data"]
PLOT_DATA = "recorded pool, SmolLM2-135M-Instruct"  # the report prints it in the curve's title
POLICY = "HuggingFaceTB/SmolLM2-135M-Instruct (artifacts/fetch/backbone, TRINITY's converted checkpoint)"


def main() -> None:
    params, profile, cfg = open_stage("train_conductor")
    if profile == "full":
        try:
            check_full_scale(ROOT / cfg["model_dir"], cfg["model_id"], cfg["dataset"])
        except (GPUMissing, FileNotFoundError, FullScaleUnavailable) as exc:
            sys.exit(f"train_conductor: {exc}")
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
                  not_run=not_run, timings={"wall_s": time.perf_counter() - started})


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
