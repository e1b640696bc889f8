"""Coordinator speed: decisions per second and p50 latency at batch 1 and 32, and the cost
of SVF (the SVD once, the recomposition per candidate), on the tiny backbone by default.

    python -m benchmarks.trinity_route [--backbone DIR] [--device cpu] [--threads 1]

Without ``--backbone`` it builds the tiny backbone (default sizes) in a temporary
directory. ``--reference-shape`` instead builds a randomly initialised model of Qwen3-0.6B's
shape from configs/qwen3-0.6b (speed only: random weights route meaninglessly). Writes
benchmarks/results/trinity_route.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.results import write_result
from fugu.models.backbone import Backbone, build_tiny_backbone, load_backbone
from fugu.trinity.coordinator import Trinity
from fugu.trinity.fixture import tiny_fixture

WORKERS = ["w0", "w1", "w2", "w3"]
ROLES = ["solver", "thinker", "verifier"]
REFERENCE_CONFIG = Path(__file__).resolve().parent.parent / "configs/qwen3-0.6b"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.trinity_route", description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", help="a saved backbone directory (default: build the tiny one)")
    parser.add_argument("--reference-shape", action="store_true", help="random model of Qwen3-0.6B's shape")
    parser.add_argument("--svf-layers", type=int, nargs="+", help="default: [26] with --reference-shape, else [0]")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="fewer repeats: checks the benchmark runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 2
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        backbone, label = _backbone(args, Path(tmp))
        layers = args.svf_layers or ([26] if args.reference_shape else [0])
        started = time.perf_counter()
        trinity = Trinity.build(backbone, WORKERS, ROLES, layers, batch_size=32)
        for index in range(len(trinity.svf.keys)):  # decomposed lazily: force it here, to time it
            trinity.svf.factors(index)
        svd_s = time.perf_counter() - started  # the decomposition of every target, once
        conversations = [c.messages for c in tiny_fixture(WORKERS, ROLES, n_per_cell=6, held_out_fraction=0.2, seed=0).cases]
        rng = np.random.default_rng(0)
        vector = rng.normal(0, 0.05, trinity.layout.size).astype(np.float32)

        results = {
            "backbone": label, "device": args.device, "threads": args.threads,
            "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None,
            "parameter_vector_size": trinity.layout.size, "svf_matrices": len(trinity.svf.keys),
            "svf": {"svd_once_s": svd_s, "recompose_p50_ms": _recompose_p50_ms(trinity, rng, args.repeats, args.device)},
        }
        trinity.svf.apply(vector[: trinity.layout.n_svf])  # measure routing, not recomposition
        for batch in (1, 32):
            results[f"batch_{batch}"] = _routing(trinity, conversations[:batch], vector, args.repeats, args.device)

    out = write_result("trinity_route", results, args.quick)
    print(json.dumps(results, indent=2))
    print(f"results: {out}")
    return 0


def _backbone(args: argparse.Namespace, tmp: Path) -> tuple[Backbone, str]:
    if args.reference_shape:
        from transformers import AutoConfig, AutoModelForCausalLM

        config = AutoConfig.from_pretrained(REFERENCE_CONFIG)
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).to(args.device).eval()
        tokenizer = load_backbone(build_tiny_backbone(tmp / "tok", seed=0, hidden_size=32, head_dim=16,
                                                      intermediate_size=64, num_hidden_layers=1)).tokenizer
        return Backbone(model, tokenizer), "random Qwen3-0.6B shape (configs/qwen3-0.6b), tiny tokenizer"
    path = Path(args.backbone) if args.backbone else build_tiny_backbone(tmp / "tiny", seed=0)
    return load_backbone(path, device=args.device), str(args.backbone or "tiny (default sizes)")


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _recompose_p50_ms(trinity: Trinity, rng: np.random.Generator, repeats: int, device: str) -> float:
    times = []
    for _ in range(repeats):
        offsets = rng.normal(0, 0.05, trinity.layout.n_svf).astype(np.float32)
        _sync(device)
        started = time.perf_counter()
        trinity.svf.apply(offsets)
        _sync(device)
        times.append(time.perf_counter() - started)
    trinity.svf.restore()
    return 1000 * statistics.median(times)


def _routing(trinity: Trinity, conversations: list, vector: np.ndarray, repeats: int, device: str) -> dict:
    trinity.decide(conversations, vector)  # warm-up
    times = []
    for _ in range(repeats):
        _sync(device)
        started = time.perf_counter()
        trinity.decide(conversations, vector)
        _sync(device)
        times.append(time.perf_counter() - started)
    p50 = statistics.median(times)
    return {"batch": len(conversations), "p50_latency_ms": 1000 * p50, "decisions_per_s": len(conversations) / p50,
            "repeats": repeats}


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
