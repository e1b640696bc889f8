"""train_conductor: GRPO on the Conductor; the reward curve comes from real GRPO steps.

tiny  A tiny Qwen3 causal LM learns to write workflows for questions of the simulated pool (a
      MOCK): a short format warm start, then ``trl.GRPOTrainer`` with the verifiable reward
      (format + executed answer), once per seed. Writes the first seed's per-step curve and
      trained policy; the metrics hold reward_gain (last window minus first window), the
      held-out reward of the greedy policy before and after GRPO, and routing references.
full  A 3B-class instruct policy on nvidia/ToolScale on a GPU (docs/conductor.md). On a
      machine without a CUDA GPU it stops with a message saying so.
The code is :mod:`fugu.training.conductor_training`.
"""

from __future__ import annotations

import shutil
import sys
import time

from fugu.training.conductor_training import FullScaleUnavailable, check_full_scale, run_metrics, train_one
from fugu.training.grpo import GPUMissing
from stages.builders import simulated_world
from stages.common import checksums, open_stage, write_curve, write_metrics
from stages.paths import CONDUCTOR_POLICY_DIR, CONDUCTOR_REWARD_PLOT, ROOT

PLOT_COLUMNS = ["step", "mean_reward", "reward_std", "format_reward", "answer_reward", "data"]
PLOT_DATA = "mock task, simulated pool"  # the report prints it in the curve's title


def main() -> None:
    params, profile, cfg = open_stage("train_conductor")
    if profile == "full":
        try:
            check_full_scale(ROOT / cfg["model_dir"], cfg["model_id"], cfg["dataset"])
        except (GPUMissing, FileNotFoundError, FullScaleUnavailable) as exc:
            sys.exit(f"train_conductor: {exc}")
    started = time.perf_counter()
    pool, train_ids, held_ids = simulated_world(params)
    seeds, bootstrap = [int(s) for s in cfg["seeds"]], params["bootstrap"]
    runs = [train_one(cfg, pool, train_ids, held_ids, seed) for seed in seeds]
    save_policy(runs[0].model, runs[0].tokenizer)
    write_curve(CONDUCTOR_REWARD_PLOT, PLOT_COLUMNS, [{**row, "data": PLOT_DATA} for row in runs[0].curve])
    metrics, not_run = run_metrics(runs, int(cfg["reward_window"]), pool, train_ids, held_ids, seeds,
                                   int(bootstrap["resamples"]), float(bootstrap["confidence"]))
    write_metrics("train_conductor", profile, metrics, checksums(CONDUCTOR_POLICY_DIR), not_run=not_run,
                  timings={"wall_s": time.perf_counter() - started})


def save_policy(model, tokenizer) -> None:
    shutil.rmtree(CONDUCTOR_POLICY_DIR, ignore_errors=True)
    CONDUCTOR_POLICY_DIR.mkdir(parents=True)
    model.save_pretrained(CONDUCTOR_POLICY_DIR)
    tokenizer.save_pretrained(CONDUCTOR_POLICY_DIR)


if __name__ == "__main__":
    main()
