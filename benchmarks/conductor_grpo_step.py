"""GRPO's cost on a CPU: seconds per step of SmolLM2-135M-Instruct, full fine-tune vs top layers only.

    python -m benchmarks.conductor_grpo_step [--steps 3] [--trainable-layers 2] [--quick]

One configuration of the tiny profile's shape (``--prompts`` × ``--generations`` completions of at
most ``--completion-tokens`` tokens, prompts as train_conductor writes them) trained for ``--steps``
GRPO steps, once with every parameter trainable and once with the top ``--trainable-layers``
layers only (fugu/training/conductor_policy.py). The reward is trivial (does the text name a worker?): what is measured is generation + forward +
backward, not the reward.
It computes on the pipeline's pinned numeric path (params.yaml ``numerics``; set before torch loads,
and recorded as in effect); the machine's load average is recorded next to the times: on a 2-core
machine another process makes two-thread kernels wait, and the times are then upper bounds.
Writes benchmarks/results/conductor_grpo_step.json; needs artifacts/fetch/backbone and
artifacts/fetch/routing (``dvc repro fetch``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.results import write_result
from stages.numeric_path import apply, in_effect, this_machine
from stages.paths import BACKBONE_DIR, PARAMS_FILE


def _names_a_worker(prompts, completions, **_) -> list[float]:
    return [float('"worker"' in str(c)) for c in completions]


def seconds_per_step(trainable_layers: int | None, args: argparse.Namespace) -> float:
    """Wall seconds per GRPO step; ``trainable_layers`` None trains every parameter."""
    from benchmarks.recorded import recorded_split
    from fugu.conductor.recorded_task import task_rows
    from fugu.models.backbone import load_backbone
    from fugu.training.conductor_policy import load_policy
    from fugu.training.grpo import GRPOSettings, train_grpo

    model, tokenizer = (load_backbone(args.backbone) if trainable_layers is None
                        else load_policy(args.backbone, trainable_layers))
    rows = task_rows(recorded_split("tiny", "train"), tokenizer, args.question_chars)
    settings = GRPOSettings(args.steps, args.prompts, args.generations, 1e-5, args.completion_tokens, 1.0, 0.0, 0)
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        train_grpo(model, tokenizer, rows, [_names_a_worker], settings, Path(scratch))
        return (time.perf_counter() - started) / args.steps


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conductor_grpo_step", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--completion-tokens", type=int, default=24)
    parser.add_argument("--question-chars", type=int, default=120)
    parser.add_argument("--trainable-layers", type=int, default=2)
    parser.add_argument("--backbone", type=Path, default=BACKBONE_DIR,
                        help="SmolLM2-135M-Instruct as a transformers dir (default: fetch's converted copy)")
    parser.add_argument("--quick", action="store_true", help="one step: checks the benchmark runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps = 1
    path = this_machine(yaml.safe_load(PARAMS_FILE.read_text())["numerics"])
    apply(path)  # effective only if torch and numpy are not loaded yet (recorded below)
    import torch

    torch.set_num_threads(path.threads)

    load_before = os.getloadavg()[0]
    result = {
        "shape": {"prompts": args.prompts, "generations": args.generations, "completion_tokens": args.completion_tokens,
                  "question_chars": args.question_chars, "steps": args.steps},
        "numeric_path": in_effect(path).describe(),
        "s_per_step": {"full_fine_tune": seconds_per_step(None, args),
                       f"top_{args.trainable_layers}_layers": seconds_per_step(args.trainable_layers, args)},
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
    }
    out = write_result("conductor_grpo_step", result, args.quick)
    print(json.dumps(result, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
