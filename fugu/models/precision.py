"""The router's precision when serving: fp32 everywhere, bf16 where the CPU multiplies bf16 natively.

Why two: on a CPU with AMX or AVX-512 BF16 a bf16 matmul runs ~13× the fp32 rate and a SmolLM2
forward ~2.8× faster (benchmarks/results/router_precision.json); on an AVX2-class CPU bf16 is
emulated and slower than fp32. The audit pipeline (features, training, eval, the committed
tables) stays fp32 on its pinned numeric path, whose numbers must agree across machines; bf16 is
a serving choice (``fugu serve --router-dtype``), and ``auto`` picks it only where the CPU has
native bf16 *and* the committed evidence shows a head trained on fp32 features decides the same
in bf16 (:func:`bf16_adopted`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch

log = logging.getLogger(__name__)

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
CHOICES = ("auto", *DTYPES)
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of a bf16 matmul in hardware
# oneDNN (torch's CPU bf16 matmul) uses bf16 hardware only when its ISA cap allows it: capped below
# these (``ONEDNN_MAX_CPU_ISA=AVX2``, how an AVX2-class CPU is emulated here) a bf16 matmul runs a
# reference path, measured ~75× slower than fp32, on a CPU whose flags say bf16.
BF16_ISAS = ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16", "AVX10_1_512",
             "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2")
ISA_CAP_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")
# bf16 serving is adopted only on this much evidence (issue 25): decisions agreeing with fp32 on at
# least MIN_AGREEMENT of at least MIN_QUESTIONS held-out questions, and an accuracy difference
# whose interval holds 0.
MIN_AGREEMENT, MIN_QUESTIONS = 0.99, 1000
EVIDENCE_FILE = Path("benchmarks/results/router_precision.json")  # relative to the project root


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's instruction-set flags (empty where /proc/cpuinfo is absent: no native bf16 assumed)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.partition(":")[2].split()}


def isa_cap(environment: Mapping[str, str] | None = None) -> str | None:
    """oneDNN's ISA cap from the environment (upper case), or None where it is not capped."""
    environment = os.environ if environment is None else environment
    for variable in ISA_CAP_VARIABLES:
        value = environment.get(variable, "").strip().upper()
        if value and value not in ("ALL", "DEFAULT"):
            return value
    return None


def native_bf16(flags: set[str], cap: str | None = None) -> bool:
    """Whether a bf16 matmul runs in hardware: the CPU has it (``flags``) and oneDNN's ISA ``cap``
    (:func:`isa_cap`) does not keep it from using it."""
    return any(flag in flags for flag in NATIVE_BF16_FLAGS) and (cap is None or cap in BF16_ISAS)


def this_cpu_native_bf16() -> bool:
    """:func:`native_bf16` of this machine, as this process runs it."""
    return native_bf16(cpu_flags(), isa_cap())


def cpu_kind(flags: set[str] | None = None, cap: str | None = None) -> str:
    """The CPU kind a measurement belongs to, for results files: native bf16 or AVX2 class, and
    whether the kind is emulated by an ISA cap (``ONEDNN_MAX_CPU_ISA``) on a larger CPU."""
    flags = cpu_flags() if flags is None else flags
    if native_bf16(flags, cap):
        return "native bf16 (AMX / AVX-512 BF16)"
    has_bf16 = any(flag in flags for flag in NATIVE_BF16_FLAGS)
    if has_bf16 and cap is not None:
        return f"no native bf16: emulated on a CPU with bf16 by ONEDNN_MAX_CPU_ISA={cap}"
    return "no native bf16 (AVX2 class)" if "avx2" in flags else "no native bf16"


def bf16_adopted(evidence: Mapping | None) -> tuple[bool, str]:
    """(whether ``auto`` may serve bf16, why): from the committed precision benchmark's result."""
    if not evidence:
        return False, f"no precision evidence ({EVIDENCE_FILE}): run `python -m benchmarks.router_precision`"
    if not evidence.get("trained_head"):
        return False, "the precision evidence was measured on a random head, not the trained one"
    agreement = evidence.get("agreement") or {}
    accuracy = evidence.get("accuracy_difference") or {}
    n, share, interval = agreement.get("n", 0), agreement.get("share", 0.0), accuracy.get("ci")
    if n < MIN_QUESTIONS:
        return False, f"the precision evidence covers {n} questions, fewer than {MIN_QUESTIONS}"
    if share < MIN_AGREEMENT:
        return False, f"bf16 decisions agree with fp32 on {share:.1%} of {n} questions, under {MIN_AGREEMENT:.0%}"
    if not interval or not interval[0] <= 0.0 <= interval[1]:
        return False, f"bf16 changes accuracy: difference interval {interval} excludes 0"
    return True, f"bf16 decisions agree with fp32 on {share:.1%} of {n} held-out questions, accuracy the same"


def pipeline_dtype(requested: str, pinned: bool) -> torch.dtype:
    """The backbone's dtype for the pipeline's features (``params.yaml`` ``features.dtype``): fp32,
    the audit's; bf16 only as an opt-in off the pinned numeric path, since the pinned path caps
    oneDNN at AVX2, where bf16 runs in software, and bf16 bits differ between CPU kinds, so a bf16
    run's numbers are this machine's alone. On a CPU without native bf16 it runs, slowly, with
    :func:`serving_precision`'s warning."""
    if requested not in DTYPES:
        raise ValueError(f"params.yaml features.dtype must be one of {list(DTYPES)}, got {requested!r}")
    if requested == "bf16":
        if pinned:
            raise ValueError("params.yaml features.dtype: bf16 needs numerics.pin: false (the pinned path caps "
                             "oneDNN at AVX2, where a bf16 matmul runs in software, ~75× slower than fp32)")
        return serving_precision("bf16").dtype
    return torch.float32


def read_evidence(root: Path) -> dict | None:
    path = Path(root) / EVIDENCE_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def matmul_seconds(dtype: torch.dtype, shape: tuple[int, int, int] = (256, 576, 1536), reps: int = 5) -> float:
    """Best of ``reps`` timings of one [m, k] @ [k, n] product in ``dtype`` (a SmolLM2 MLP's shape)."""
    m, k, n = shape
    a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)
    a @ b  # first call: kernel selection
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - started)
    return best


@dataclass(frozen=True)
class Precision:
    """The dtype the router serves in, and why (for the start-up line and ``/health``)."""
    name: str
    dtype: torch.dtype
    why: str


def serving_precision(requested: str, root: Path = Path("."), native: bool | None = None) -> Precision:
    """``--router-dtype``: ``fp32``; ``bf16`` (on a CPU without native bf16 it runs, slowly, with a
    warning naming the slowdown measured here and now); ``auto``: bf16 where the CPU has it and
    the committed evidence adopts it (:func:`bf16_adopted`), else fp32. ``native``: whether the
    CPU multiplies bf16 natively (None: this machine, :func:`this_cpu_native_bf16`)."""
    if requested not in CHOICES:
        raise ValueError(f"router dtype must be one of {CHOICES}, got {requested!r}")
    native = this_cpu_native_bf16() if native is None else native
    if requested == "fp32":
        return Precision("fp32", torch.float32, "asked for fp32")
    if requested == "bf16":
        if not native:
            slowdown = matmul_seconds(torch.bfloat16) / matmul_seconds(torch.float32)
            log.warning("--router-dtype bf16 on a CPU without native bf16 (no %s, or oneDNN capped below it): a "
                        "bf16 matmul measured %.1f× the time of fp32 here; serving runs, slower than fp32",
                        " or ".join(NATIVE_BF16_FLAGS), slowdown)
            return Precision("bf16", torch.bfloat16, f"asked for bf16; emulated on this CPU ({slowdown:.1f}× slower "
                                                     "matmul than fp32)")
        return Precision("bf16", torch.bfloat16, "asked for bf16; native on this CPU")
    if not native:
        return Precision("fp32", torch.float32, "auto: this CPU has no native bf16")
    adopted, why = bf16_adopted(read_evidence(root))
    return Precision("bf16", torch.bfloat16, f"auto: {why}") if adopted else \
        Precision("fp32", torch.float32, f"auto: {why}")
