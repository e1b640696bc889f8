"""TRINITY features at the machine's limit: tokens/s and achieved GFLOP/s of the backbone's
forward pass, against a plain fp32 matmul measured in the same run, for three batching
policies on mixed lengths and, per prompt length (50, 200, 800 tokens), batch 1 vs equal-length
batches (``per_length``: the fastest per length, and whether it reaches 0.7 of the matmul rate);
and what one SVF candidate costs (decomposition once, recomposition per candidate).

    python -m benchmarks.trinity_features [--backbone artifacts/fetch/backbone] [--threads 2] [--quick]

The prompts are seeded word salads of 20–300 tokens (the spread of real questions), so the
policies differ only in how they batch. FLOPs counted: 2 × (transformer-layer matmul
parameters) per token plus attention's 4 × layers × hidden × (tokens attended) per token;
the embedding lookup is free and the lm_head is never run (TRINITY reads hidden states).
Padding tokens are computed but not counted: that is the waste batching trades for.
Writes benchmarks/results/trinity_features.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.results import write_result
from fugu.models.backbone import load_backbone
from fugu.trinity.coordinator import Trinity
from stages.paths import BACKBONE_DIR

WORDS = ("the of a to in is that for it as with was on be at by this had not are but from or have an they which "
         "one you were her all she there would their we him been has when who will more no if out so said what "
         "up its about into than them can only other new some could time these two may then do first any my now "
         "prime integer equation theorem velocity molecule contract statute river poem algorithm matrix").split()


def matmul_gflops(threads: int, size: int = 1024, repeats: int = 10) -> float:
    """fp32 GFLOP/s of a plain square matmul: the machine's practical peak for this workload."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * size ** 3 * repeats / (time.perf_counter() - started) / 1e9


def forward_flops(model: torch.nn.Module, lengths: list[int]) -> float:
    """FLOPs of the base model's forward over prompts of ``lengths`` (no padding, no lm_head)."""
    cfg = model.config
    layer_params = sum(p.numel() for n, p in model.named_parameters() if ".layers." in n and p.ndim == 2)
    attention = 4 * cfg.num_hidden_layers * cfg.hidden_size  # QKᵀ and AV, per (query, key) pair
    return float(sum(2 * layer_params * n + attention * n * (n + 1) / 2 for n in lengths))


def prompts(n: int, seed: int) -> list[list[dict[str, str]]]:
    rng = np.random.default_rng(seed)
    return [[{"role": "user", "content": " ".join(rng.choice(WORDS, int(k)))}] for k in rng.integers(15, 260, n)]


def per_length(trinity: Trinity, peak: float, lengths: tuple[int, ...], n: int) -> dict[str, dict]:
    """At each prompt length (exactly, by the end-keeping cap): batch 1 vs equal-length batches of 4
    and 8, as tokens/s and the fraction of the matmul rate; ``best`` is the fastest per length."""
    rng = np.random.default_rng(3)
    out: dict[str, dict] = {}
    for length in lengths:
        conversations = [[{"role": "user", "content": " ".join(rng.choice(WORDS, 2 * length))}] for _ in range(n)]
        flops = forward_flops(trinity.model, [length] * n)
        row: dict[str, dict] = {}
        for batch_size in (1, 4, 8):
            trinity.token_states(conversations[:batch_size], batch_size=batch_size, max_tokens=length)  # warm-up
            started = time.perf_counter()
            trinity.token_states(conversations, batch_size=batch_size, max_tokens=length)
            seconds = time.perf_counter() - started
            row[f"batch_{batch_size}"] = {"tokens_per_s": round(length * n / seconds, 1),
                                          "ratio_to_matmul": round(flops / seconds / 1e9 / peak, 3)}
        best = max(row, key=lambda k: row[k]["tokens_per_s"])
        out[str(length)] = {**row, "best": best, "best_ratio_to_matmul": row[best]["ratio_to_matmul"],
                            "meets_0_7_of_matmul": row[best]["ratio_to_matmul"] >= 0.7}
        print(f"{length:4d} tokens: " + "  ".join(f"{k} {v['ratio_to_matmul']:.2f}" for k, v in row.items())
              + f"  (of matmul; best {best})", flush=True)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.trinity_features", description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default=str(BACKBONE_DIR),
                        help="a converted backbone directory (fetch writes SmolLM2-135M-Instruct there)")
    parser.add_argument("--svf-layers", type=int, nargs="+", default=[28])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2, the tiny profile's cores)")
    parser.add_argument("--n", type=int, default=24, help="prompts per policy")
    parser.add_argument("--quick", action="store_true", help="few prompts: checks the benchmark runs")
    args = parser.parse_args(argv)
    if not (Path(args.backbone) / "config.json").is_file():
        print(f"trinity_features: no backbone at {args.backbone}: run `dvc repro fetch` first (skipped)")
        return 0
    if args.quick:  # a smoke run: its numbers go to trinity_features_quick.json, never over the real ones
        args.n = 4
    torch.set_num_threads(args.threads)

    backbone = load_backbone(args.backbone)
    trinity = Trinity.build(backbone, ["w0", "w1", "w2", "w3"], ["solver", "thinker", "verifier"], args.svf_layers)
    conversations = prompts(args.n, seed=0)
    lengths = [len(r) for r in trinity.prompt_ids(conversations)[0]]
    flops = forward_flops(backbone.model, lengths)
    trinity.hidden_states(conversations[:1])  # warm-up

    peak = matmul_gflops(args.threads)
    policies = {"batch_1": (1, 0.0), "sorted_batch_8_pad_25pct": (8, 0.25), "batch_8_any_padding": (8, 1e9)}
    results: dict[str, dict[str, float]] = {}
    reference = None
    for name, (batch_size, tolerance) in policies.items():
        trinity.pad_tolerance = tolerance
        started = time.perf_counter()
        states = trinity.token_states(conversations, positions=("penultimate", "last"), batch_size=batch_size)
        seconds = time.perf_counter() - started
        reference = states["penultimate"] if reference is None else reference
        results[name] = {
            "seconds": round(seconds, 3), "forward_passes": len(trinity.batches(lengths, batch_size)),
            "tokens_per_s": round(sum(lengths) / seconds, 1), "prompts_per_s": round(len(lengths) / seconds, 3),
            "gflops": round(flops / seconds / 1e9, 2), "ratio_to_matmul": round(flops / seconds / 1e9 / peak, 3),
            "max_abs_diff_to_batch_1": float(np.abs(states["penultimate"] - reference).max()),
        }
        print(f"{name:28s} {results[name]['tokens_per_s']:8.1f} tok/s  {results[name]['gflops']:6.1f} GFLOP/s  "
              f"{results[name]['ratio_to_matmul']:.2f} of matmul", flush=True)
    trinity.pad_tolerance = 0.0  # equal lengths: no padding in any batch
    by_length = per_length(trinity, peak, (50,) if args.quick else (50, 200, 800), n=8)
    peak_after = matmul_gflops(args.threads)  # the machine is shared: bracket the run

    # SVF: the decomposition happens once per coordinator (lazily, at the first non-zero z);
    # every candidate then costs one recomposition plus the forward passes.
    trinity.pad_tolerance = 0.25
    started = time.perf_counter()
    for index in range(len(trinity.svf.keys)):
        trinity.svf.factors(index)
    decompose_s = time.perf_counter() - started
    z = np.random.default_rng(0).normal(0, 0.05, trinity.svf.n_offsets).astype(np.float32)
    started = time.perf_counter()
    trinity.svf.apply(z)
    recompose_s = time.perf_counter() - started
    trinity.svf.restore()
    best = max(results.values(), key=lambda r: r["tokens_per_s"])
    path = write_result("trinity_features", {
        "backbone": args.backbone, "architecture": type(backbone.model).__name__,
        "parameters": int(sum(p.numel() for p in backbone.model.parameters())), "threads": args.threads,
        "n_prompts": len(lengths), "prompt_tokens": {"total": sum(lengths), "min": min(lengths), "max": max(lengths)},
        "matmul_gflops": {"before": round(peak, 2), "after": round(peak_after, 2)},
        "policies": results, "per_length": by_length,
        "best_policy": next(n for n, r in results.items() if r is best),
        "svf": {"targets": trinity.svf.keys, "n_offsets": trinity.svf.n_offsets,
                "decompose_once_s": round(decompose_s, 3), "recompose_per_candidate_s": round(recompose_s, 3)},
        "note": "2 shared cores: other processes may run at the same time; matmul before/after brackets the run",
    }, args.quick)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
