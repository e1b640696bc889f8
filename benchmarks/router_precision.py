"""bf16 against fp32 for the served router: speed, decision agreement and accuracy, in one run.

    python -m benchmarks.router_precision [--questions 1000] [--threads 2] [--quick]

The trained TRINITY head (``artifacts/train_trinity``, trained on fp32 features of the tiny
train split) scores held-out real questions of the medium profile's test split (built here from
``data/routing`` with medium's subset, so no medium run is needed; disjoint from every train
split) through SmolLM2-135M-Instruct held in fp32 and in bf16 (``Trinity.cast``). Measured:

- ``agreement``: the share of questions on which both precisions pick the same worker;
- ``accuracy`` of each (the picked worker's recorded correctness) and their paired difference
  with the project's bootstrap interval;
- ``speed``: seconds per question of each (the coordinator's own length-bucketed batches), and
  at batch 1 on a 256-token prompt;
- ``matmul``: the CPU's fp32 and bf16 matmul rate at the model's own shapes (every decoder
  projection, q/k/v/o and the MLP's, each timed over a batch's tokens and weighted by how often a
  forward multiplies it), and each forward's achieved rate as a fraction of it: what the forward
  would reach if it were its matmuls alone; and where one batch's forward spends its CPU time
  (``time_shares``: matmuls, attention, the rest), by torch's profiler.

``fugu serve --router-dtype auto`` serves bf16 only where the CPU has native bf16 and this
file's ``agreement`` and ``accuracy_difference`` pass ``fugu.models.precision.bf16_adopted``.
On a CPU without native bf16 (or oneDNN capped below it: the AVX2 emulation, ``make
bench-avx2``) only fp32 is measured, its speed against the matmul rate at the model's shapes,
and bf16 is ``not_run`` with the slowdown measured there (a bf16 forward over the questions
would take hours, and ``auto`` serves fp32 on such a CPU anyway).
Writes benchmarks/results/router_precision.json.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from benchmarks.recorded import recorded_split
from benchmarks.results import write_result
from fugu.data.matrix import Outcomes
from fugu.models.backbone import meta_model
from fugu.models.precision import (
    bf16_adopted,
    cpu_flags,
    cpu_kind,
    isa_cap,
    matmul_seconds,
    this_cpu_native_bf16,
)
from fugu.stats.estimate import Resamples, difference, mean, pooled_estimate
from fugu.trinity.coordinator import layout_for
from fugu.trinity.spec import TrinitySpec, load_trinity
from fugu.trinity.vector import save_vector
from stages.common import load_params, stage_params
from stages.paths import BACKBONE_DIR, ROOT, TRAINED_SPEC, relative

DTYPES = (("fp32", torch.float32), ("bf16", torch.bfloat16))


def decoder_shapes(model: torch.nn.Module) -> collections.Counter[tuple[int, int]]:
    """[in, out] of every matmul a forward runs per token (the decoder's 2-D weights), counted."""
    return collections.Counter((int(p.shape[1]), int(p.shape[0])) for name, p in model.named_parameters()
                               if "layers." in name and p.dim() == 2)


def matmul_rate(dtype: torch.dtype, tokens: int, shapes: collections.Counter[tuple[int, int]], reps: int = 5) -> float:
    """GFLOP/s of the decoder's own matmuls over ``tokens`` rows in ``dtype``: each distinct shape
    timed alone (best of ``reps``), weighted by how often a forward multiplies it."""
    flops = seconds = 0.0
    for (k, n), count in shapes.items():
        a, b = torch.randn(tokens, k).to(dtype), torch.randn(k, n).to(dtype)
        a @ b  # first call: kernel selection
        flops += count * 2.0 * tokens * k * n
        seconds += count * min(_timed(lambda: a @ b) for _ in range(reps))
    return flops / seconds / 1e9


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def forward_flops(model: torch.nn.Module, tokens: int) -> float:
    """2 × the decoder's matmul parameters × tokens: what one forward multiplies (embeddings are looked up)."""
    decoder = sum(p.numel() for name, p in model.named_parameters() if "layers." in name and p.dim() == 2)
    return 2.0 * decoder * tokens


def random_head_spec(backbone: Path, workers: list[str], out: Path, coordinator: dict) -> TrinitySpec:
    """A seeded random head-only vector over ``backbone`` (no trained vector yet: a fresh clone), with
    the tiny profile's coordinator settings (``coordinator``); labelled so in the results, and never
    adoptable evidence."""
    spec = TrinitySpec(backbone_dir=str(backbone), vector=str(out / "vector.npy"), workers=workers,
                       roles=list(coordinator["roles"]), svf_layers=list(coordinator["svf_layers"]),
                       prompt_format=coordinator["prompt_format"], batch_size=int(coordinator["batch_size"]),
                       max_prompt_tokens=coordinator["max_prompt_tokens"], trained_on="a seeded random head (benchmark)")
    layout = layout_for(meta_model(backbone), len(workers), len(spec.roles), spec.svf_layers)  # shapes only
    vector = np.random.default_rng(0).normal(0, 0.1, layout.size).astype(np.float32)
    vector[: layout.n_svf] = 0.0  # head only, as the trained vector is
    save_vector(out / "vector.npy", vector, layout)
    return spec


def precision_run(spec: TrinitySpec, dtype: torch.dtype, outcomes: Outcomes) -> dict:
    """One precision's decisions, accuracy and speed on ``outcomes``."""
    trinity, vector = load_trinity(spec, ROOT)
    svf, head = trinity.layout.unpack(vector)
    trinity.cast(dtype, svf)
    conversations = outcomes.conversations()
    order = [trinity.workers.index(w) for w in outcomes.workers]
    started = time.perf_counter()
    states = trinity.hidden_states(conversations, svf)                       # [n, hidden]
    seconds = time.perf_counter() - started
    scores = (states @ head[: trinity.layout.n_agents].T)[:, order]          # [n, workers], the pool's order
    tokens = sum(len(r) for r in trinity.prompt_ids(conversations)[0])
    long_prompt = [{"role": "user", "content": " ".join(["word"] * 400)}]
    trinity.hidden_states([long_prompt], svf, max_tokens=256)
    batch1_s = min(_timed(lambda: trinity.hidden_states([long_prompt], svf, max_tokens=256)) for _ in range(3))
    picks = scores.argmax(axis=1)
    return {"picks": picks, "correct": outcomes.scores[np.arange(len(picks)), picks], "seconds": seconds,
            "tokens": tokens, "batch1_s": batch1_s, "flops": forward_flops(trinity.model, tokens),
            "flops_batch1": forward_flops(trinity.model, 256), "states": states,
            "shapes": decoder_shapes(trinity.model),
            "time_shares": time_shares(lambda: trinity.hidden_states(conversations[: trinity.batch_size], svf))}


# torch's CPU op names, by what they compute (the rest is elementwise work: norms, rotary, SiLU, casts)
OP_KINDS = {"matmul": ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"),
            "attention": ("aten::_scaled_dot_product_flash_attention_for_cpu", "aten::_softmax")}


def time_shares(forward: Callable[[], object]) -> dict[str, float]:
    """Where one forward's CPU time goes, by kind of op (torch.profiler's self time of one batch):
    the share spent multiplying is the most any faster matmul can save."""
    forward()  # warm
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiled:
        forward()
    self_us = {event.key: event.self_cpu_time_total for event in profiled.key_averages()}
    total = sum(self_us.values())
    shares = {kind: sum(us for op, us in self_us.items() if op in ops) / total for kind, ops in OP_KINDS.items()}
    return {**{kind: round(share, 3) for kind, share in shares.items()},
            "other": round(1.0 - sum(shares.values()), 3)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.router_precision", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000, help="held-out questions (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: %(default)s)")
    parser.add_argument("--backbone", type=Path, default=BACKBONE_DIR,
                        help="the backbone when no trained vector exists (default: fetch's SmolLM2 copy)")
    parser.add_argument("--quick", action="store_true", help="40 questions: checks the benchmark runs")
    parser.add_argument("--out-dir", type=Path, default=None, help="results directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    params = load_params()
    outcomes = recorded_split("medium", "test", 40 if args.quick else args.questions)
    scratch = tempfile.TemporaryDirectory()
    if TRAINED_SPEC.is_file():
        spec, head = TrinitySpec.load(TRAINED_SPEC), f"the trained head of {relative(TRAINED_SPEC)} (fp32 features)"
    elif (args.backbone / "config.json").is_file():
        spec = random_head_spec(args.backbone, list(outcomes.workers), Path(scratch.name),
                                stage_params({**params, "profile": "tiny"}, "trinity"))
        head = "a seeded random head-only vector (no trained vector: run `dvc repro`); not evidence for `auto`"
    else:
        print(f"router_precision: no trained vector ({relative(TRAINED_SPEC)}) and no backbone at {args.backbone}: "
              "run `dvc repro` first (skipped)")
        return 0
    print(f"{len(outcomes.question_ids)} held-out questions, workers {list(outcomes.workers)}", flush=True)
    native = this_cpu_native_bf16()
    runs = {}
    for name, dtype in DTYPES if native else DTYPES[:1]:
        runs[name] = precision_run(spec, dtype, outcomes)
        print(f"{name}: {runs[name]['seconds'] / len(outcomes.question_ids) * 1000:.1f} ms/question, "
              f"batch 1 at 256 tokens {runs[name]['batch1_s'] * 1000:.0f} ms", flush=True)
    scratch.cleanup()
    n = len(outcomes.question_ids)
    numbers = {
        "questions": f"the first {n} of the medium profile's test split (pool {stage_params(params, 'fetch')['routing']['pool']}), held out from every "
                     "train split",
        "head": head,
        "trained_head": TRAINED_SPEC.is_file(),
        "cpu_native_bf16": native,
        "threads": args.threads,
        **speeds(runs, spec_batch(spec)),
    }
    if native:
        numbers.update(compared(runs["fp32"], runs["bf16"]))
        adopted, why = bf16_adopted(numbers)
    else:
        slowdown = matmul_seconds(torch.bfloat16) / matmul_seconds(torch.float32)
        why = (f"not run: this CPU ({cpu_kind(cpu_flags(), isa_cap())}) multiplies bf16 in software, {slowdown:.0f}× "
               "fp32's time per matmul here; `fugu serve --router-dtype auto` serves fp32 on it")
        numbers["not_run"], adopted = {"bf16": why}, False
    numbers["bf16_adopted_where_native"] = {"adopted": adopted, "why": why}
    path = write_result("router_precision", numbers, args.quick, args.out_dir)
    fractions = ", ".join(f"{d} {v['fraction_of_matmul_rate']:.2f}" for d, v in numbers["speed"].items())
    print(f"forward vs matmul at the model's shapes: {fractions}; bf16 adopted: {adopted} ({why}); wrote {path}")
    return 0


def speeds(runs: dict[str, dict], batch_size: int) -> dict:
    """Each dtype's speed, and the matmul rate at the model's shapes it is measured against."""
    fp32 = runs["fp32"]
    n = len(fp32["picks"])
    rates = {name: {"tokens": tokens, **{d: round(matmul_rate(dtype, tokens, fp32["shapes"]), 1)
                                          for d, dtype in DTYPES if d in runs}}
             for name, tokens in (("batch", int(fp32["tokens"] / n * batch_size)), ("batch1_256", 256))}
    speed = {name: {"ms_per_question": round(run["seconds"] / n * 1000, 2),
                    "time_shares": run["time_shares"],
                    "batch1_256_tokens_ms": round(run["batch1_s"] * 1000, 1),
                    "achieved_gflops": round(run["flops"] / run["seconds"] / 1e9, 1),
                    "fraction_of_matmul_rate": round(run["flops"] / run["seconds"] / 1e9 / rates["batch"][name], 3),
                    "batch1_fraction_of_matmul_rate": round(run["flops_batch1"] / run["batch1_s"] / 1e9
                                                            / rates["batch1_256"][name], 3)}
             for name, run in runs.items()}
    return {"speed": speed, "matmul_gflops": rates,
            "matmul_shapes": {f"{k}x{n}": count for (k, n), count in sorted(fp32["shapes"].items())}}


def compared(fp32: dict, bf16: dict) -> dict:
    """bf16 against fp32 on the same questions: decisions, hidden states, accuracy, speed-up."""
    n = len(fp32["picks"])
    resamples = Resamples.draw(n, 1, 2000, seed=0)
    cosine = np.sum(fp32["states"] * bf16["states"], 1) / (
        np.linalg.norm(fp32["states"], axis=1) * np.linalg.norm(bf16["states"], axis=1))
    return {"agreement": {"n": n, "share": float(np.mean(fp32["picks"] == bf16["picks"]))},
            "hidden_state_cosine": {"min": float(cosine.min()), "mean": float(cosine.mean())},
            "accuracy": {name: pooled_estimate(mean, [run["correct"]], resamples, [0])
                         for name, run in (("fp32", fp32), ("bf16", bf16))},
            "accuracy_difference": pooled_estimate(difference, [bf16["correct"], fp32["correct"]], resamples, [0]),
            "speedup_bf16": round(fp32["seconds"] / bf16["seconds"], 2),
            "speedup_bf16_batch1": round(fp32["batch1_s"] / bf16["batch1_s"], 2)}


def spec_batch(spec: TrinitySpec) -> int:
    return int(spec.batch_size)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
