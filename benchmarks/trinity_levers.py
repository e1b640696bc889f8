"""The router's speed levers, each with what it does to the routing decisions.

    python -m benchmarks.trinity_levers [--backbone artifacts/fetch/backbone] [--quick]

Measured on the real backbone (SmolLM2-135M-Instruct, fetch's converted copy), in one run:

- ``prefix_reuse``: a growing multi-turn exchange (6 turns, each a question and a reply);
  at every turn the per-step router re-scores the whole conversation. Full recompute vs the
  KV-prefix cache (:mod:`fugu.trinity.prefix_cache`): seconds per turn, the turn-6 ratio, and
  whether decisions and scores stay those of the full recompute.
- ``int8``: dynamic int8 quantisation of the backbone's Linear layers
  (``torch.ao.quantization.quantize_dynamic``), SVF offsets written first (a quantised Linear
  holds packed weights SVF cannot adapt);
- ``threads``: torch intra-op threads 1 vs 2;
- ``prompt_cap``: ``max_prompt_tokens`` 256 (the tiny profile's) vs 4,096 (the reference's).

For each lever: the speed-up over its baseline, measured in the same run, and the fraction
of routing decisions that agree with the baseline's. Decisions are those of the trained
vector on the real test questions when ``dvc repro`` has produced them (``decisions_of``
says which), else of a seeded random head on synthetic prompts, labelled so. A lever is
adoptable as a default only at >= 99% agreement (``adopt``). Writes
benchmarks/results/trinity_levers.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from benchmarks.results import write_result
from benchmarks.trinity_features import prompts
from fugu.models.backbone import Backbone, load_backbone
from fugu.trinity.coordinator import Trinity
from fugu.trinity.spec import TrinitySpec, load_trinity
from fugu.types import Conversation
from stages.paths import (  # where the pipeline writes them (one definition)
    BACKBONE_DIR,
    ROOT,
    ROUTING_DIR,
    TRAINED_SPEC,
)

SAMPLE = 40  # conversations the thread and cap levers time (each side is one pass over them)
ADOPT_AT = 0.99  # a lever becomes a default only if at least this fraction of decisions is unchanged
WORKERS, ROLES = ["w0", "w1", "w2", "w3"], ["solver", "thinker", "verifier"]


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``fn`` over ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of rows whose argmax (the routing decision) is the same."""
    return float(np.mean(a.argmax(1) == b.argmax(1)))


def growing_exchange(turns: int, seed: int) -> list[Conversation]:
    """Turn k: k questions of 40–80 words and k − 1 replies of 100–160 (each turn extends the last)."""
    rng = np.random.default_rng(seed)
    words = [m[0]["content"].split() for m in prompts(4 * turns, seed)]
    pool = [w for ws in words for w in ws]
    messages: list[dict[str, str]] = []
    out = []
    for _ in range(turns):
        messages = messages + [{"role": "user", "content": " ".join(rng.choice(pool, int(rng.integers(40, 80))))}]
        out.append(list(messages))
        messages = messages + [{"role": "assistant", "content": " ".join(rng.choice(pool, int(rng.integers(100, 160))))}]
    return out


def routed_setting(backbone_dir: str, quick: bool) -> tuple[Callable[..., Trinity], np.ndarray,
                                                             list[Conversation], str]:
    """(coordinator factory, vector, conversations, what the decisions are of)."""
    if TRAINED_SPEC.is_file() and (ROUTING_DIR / "splits.csv").is_file() and not quick:
        from fugu.data.matrix import load_split

        spec = TrinitySpec.load(TRAINED_SPEC)
        trinity, vector = load_trinity(spec, ROOT)
        test = load_split(ROUTING_DIR, "test")
        return partial(coordinator, spec, Backbone(trinity.model, trinity.tokenizer)), vector, test.conversations(), \
            f"the trained vector ({TRAINED_SPEC.relative_to(ROOT)}) on the {len(test.questions)} real test questions"
    spec = TrinitySpec(backbone_dir=backbone_dir, vector="(seeded random head)", workers=WORKERS, roles=ROLES,
                       svf_layers=[28], max_prompt_tokens=256)
    build = partial(coordinator, spec, load_backbone(backbone_dir))
    layout = build().layout
    vector = np.random.default_rng(0).normal(0, 0.1, layout.size).astype(np.float32)
    vector[:layout.n_svf] = 0.0  # head only, as the trained vector is
    n = 6 if quick else 60
    return build, vector, prompts(n, seed=1), f"a seeded random head on {n} synthetic prompts (no trained vector: run `dvc repro`)"


def coordinator(spec: TrinitySpec, backbone: Backbone, max_prompt_tokens: int | None = None,
                prefix_cache_mb: float = 0.0) -> Trinity:
    """The spec's coordinator over ``backbone``, with another prompt cap or a prefix cache if asked."""
    trinity = replace(spec, max_prompt_tokens=max_prompt_tokens or spec.max_prompt_tokens).build(backbone)
    trinity.set_prefix_cache(prefix_cache_mb)
    return trinity


def agent_scores(trinity: Trinity, vector: np.ndarray, conversations: Sequence[Conversation]) -> np.ndarray:
    """[n, n_agents] under the coordinator's own batching (length-sorted, as the features stage reads)."""
    svf, head = trinity.layout.unpack(vector)
    states = trinity.hidden_states(conversations, svf)
    return states @ head[: trinity.layout.n_agents].T


def prefix_reuse(build: Callable[..., Trinity], vector: np.ndarray, turns: int, repeats: int) -> dict:
    """Seconds per turn: full recompute vs reuse of the previous turn's prefix (cache warm from turn k − 1)."""
    exchange = growing_exchange(turns, seed=2)
    full, reusing = build(max_prompt_tokens=4096), build(max_prompt_tokens=4096, prefix_cache_mb=256)
    rows = []
    for turn, conversation in enumerate(exchange):
        full_s = timed(lambda: full.scores([conversation], vector), repeats)

        reuse_times, computed = [], 0
        for _ in range(repeats + 1):  # the server's situation: the cache holds the previous turn only
            reusing.prefix_cache.clear()
            if turn:
                reusing.scores([exchange[turn - 1]], vector)
            reused_before = reusing.prefix_cache.reused_tokens
            started = time.perf_counter()
            reusing.scores([conversation], vector)
            reuse_times.append(time.perf_counter() - started)
            computed = len(reusing.prompt_ids([conversation])[0][0]) - (reusing.prefix_cache.reused_tokens - reused_before)
        want_a, want_r = full.scores([conversation], vector)
        got_a, got_r = reusing.scores([conversation], vector)  # warm: the same prompt again
        rows.append({
            "turn": turn + 1, "tokens": len(full.prompt_ids([conversation])[0][0]),
            "tokens_computed_with_reuse": int(computed),
            "full_s": round(full_s, 4), "reuse_s": round(statistics.median(reuse_times[1:]), 4),
            "same_decision": bool(want_a.argmax() == got_a.argmax() and want_r.argmax() == got_r.argmax()),
            "max_abs_score_diff": float(max(np.abs(want_a - got_a).max(), np.abs(want_r - got_r).max())),
        })
        print(f"turn {turn + 1}: {rows[-1]['tokens']:5d} tokens  full {rows[-1]['full_s'] * 1000:7.1f} ms  "
              f"reuse {rows[-1]['reuse_s'] * 1000:7.1f} ms", flush=True)
    last = rows[-1]
    return {"turns": rows, "last_turn_ratio": round(last["reuse_s"] / last["full_s"], 3),
            "goal": "turn 6 with reuse <= 0.3 x a full recompute", "meets_goal": last["reuse_s"] <= 0.3 * last["full_s"],
            "all_decisions_same": all(r["same_decision"] for r in rows)}


def lever(name: str, baseline: Callable[[], np.ndarray], variant: Callable[[], np.ndarray]) -> dict:
    """Speed-up of ``variant`` over ``baseline`` (both return agent scores; one timed pass each, the
    same pass whose decisions are compared) and their decision agreement."""
    base_s, base_scores = timed_once(baseline)
    variant_s, variant_scores = timed_once(variant)
    agree = agreement(base_scores, variant_scores)
    result = {"baseline_s": round(base_s, 3), "variant_s": round(variant_s, 3), "speedup": round(base_s / variant_s, 3),
              "decision_agreement": round(agree, 4), "max_abs_score_diff": float(np.abs(base_scores - variant_scores).max()),
              "adopt": bool(agree >= ADOPT_AT and base_s > variant_s)}
    print(f"{name:10s} speed-up {result['speedup']:.2f}x  agreement {agree:.3f}  adopt {result['adopt']}", flush=True)
    return result


def timed_once(fn: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def quantised(build: Callable[..., Trinity], vector: np.ndarray) -> Trinity:
    """A coordinator whose backbone Linear layers are int8, the vector's offsets baked in (a copy of the weights)."""
    trinity = build()
    trinity.quantise_int8(trinity.layout.unpack(vector)[0])
    return trinity


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.trinity_levers", description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default=str(BACKBONE_DIR),
                        help="a converted backbone directory (fetch writes SmolLM2-135M-Instruct there)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads of the baselines (default: 2)")
    parser.add_argument("--quick", action="store_true", help="few prompts and turns: checks the benchmark runs")
    args = parser.parse_args(argv)
    if not (Path(args.backbone) / "config.json").is_file():
        print(f"trinity_levers: no backbone at {args.backbone}: run `dvc repro fetch` first (skipped)")
        return 0
    torch.set_num_threads(args.threads)
    repeats = 1 if args.quick else 3
    build, vector, conversations, decisions_of = routed_setting(args.backbone, args.quick)
    print(f"decisions of {decisions_of}", flush=True)
    base = build()
    reuse = prefix_reuse(build, vector, turns=3 if args.quick else 6, repeats=repeats)

    sample = conversations[:SAMPLE]  # threads and cap: a sample (int8, the lever that moves decisions, reads all)
    int8_trinity = quantised(build, vector)
    int8 = lever("int8", lambda: agent_scores(base, vector, conversations),
                 lambda: agent_scores(int8_trinity, vector, conversations))

    def at_threads(n: int) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            torch.set_num_threads(n)
            try:
                return agent_scores(base, vector, sample)
            finally:
                torch.set_num_threads(args.threads)
        return run
    threads = lever("threads", at_threads(1), at_threads(2))
    threads["compared"] = "1 thread (baseline) vs 2 threads"
    threads["n_conversations"] = len(sample)
    long_cap = build(max_prompt_tokens=4096)
    short_cap = build(max_prompt_tokens=256)
    cap = lever("prompt_cap", lambda: agent_scores(long_cap, vector, sample),
                lambda: agent_scores(short_cap, vector, sample))
    cap["compared"] = "max_prompt_tokens 4096 (baseline) vs 256"
    cap["prompts_longer_than_256"] = int(sum(len(r) > 256 for r in long_cap.prompt_ids(sample)[0]))
    cap["n_conversations"] = len(sample)
    path = write_result("trinity_levers", {
        "backbone": args.backbone, "threads": args.threads, "decisions_of": decisions_of,
        "n_conversations": len(conversations), "adopt_at_agreement": ADOPT_AT,
        "prefix_reuse": reuse, "int8": int8, "threads_lever": threads, "prompt_cap": cap,
        "note": "2 shared cores: each ratio's two sides are measured back to back in the same run",
    }, args.quick)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
