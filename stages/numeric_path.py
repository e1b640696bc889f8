"""The pinned numeric path: which CPU kernels and how many threads every stage computes with.

Why: float results differ in the last bits by instruction set (MKL, ATen, oneDNN, numpy and
OpenBLAS each dispatch to the widest kernels the CPU has) and by thread count (reductions
split differently), enough to move a knife-edge verdict. The project's machines are either an
AVX2-class CPU or an Intel Xeon with AVX-512/AMX; restricting every library to its AVX2
kernels and fixing the thread count makes every Intel CPU with AVX2 compute the same bits, as
Intel documents MKL's reproducibility branch (measured on the Xeon: fingerprint
``549fbe1edad70899`` with 2 threads, other than its default path's). On non-Intel CPUs MKL
ignores ``MKL_CBWR`` and picks its own branch, so an AMD machine may compute other bits
(unmeasured: none was available): the features stage records a fingerprint of the bits it
computed, so that shows instead of hiding, and the verdicts are judged with a band that covers
it (verify/decision.py).

The variables are read when each library loads, so they must be set before numpy or torch
is imported: ``python -m stages <name>`` (stages/__main__.py) sets them first. This module
imports neither. Pure functions take the cpuinfo text; reading the machine is at the edge.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, MutableMapping

CPUINFO = Path("/proc/cpuinfo")
# x86-64-v3, the level NPY_ENABLE_CPU_FEATURES=X86_V3 needs (numpy refuses to import without
# one of them); `abm` is how /proc/cpuinfo names LZCNT. Every AVX2 CPU in practice has them all.
X86_V3_FLAGS = ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "movbe", "abm")
# Each library's AVX2 path: MKL's conditional-numerical-reproducibility branch (same bits on
# every Intel CPU with AVX2), ATen's vectorised kernels, oneDNN's JIT, numpy's SIMD dispatch,
# numpy's bundled OpenBLAS kernels.
AVX2_PATH = {
    "MKL_CBWR": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "NPY_ENABLE_CPU_FEATURES": "X86_V3",
    "OPENBLAS_CORETYPE": "Haswell",
}


@dataclass(frozen=True)
class NumericPath:
    """The environment a stage computes under, and whether it is the pinned AVX2 path."""

    pinned: bool
    threads: int
    env: dict[str, str] = field(default_factory=dict)
    why_not: str | None = None  # why the path is not pinned (None when it is)

    def describe(self) -> dict[str, Any]:
        """The record for a metrics file: the same on every machine on the path."""
        return {"pinned": self.pinned, "threads": self.threads, "env": dict(sorted(self.env.items())),
                "why_not": self.why_not}


def thread_env(threads: int) -> dict[str, str]:
    """Fixed thread counts, no dynamic adjustment: a reduction split another way sums other bits."""
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
            "MKL_DYNAMIC": "FALSE", "OMP_DYNAMIC": "FALSE"}


def cpuinfo_field(cpuinfo: str, name: str) -> str:
    """One field of the first processor listed in ``/proc/cpuinfo``'s text ("" if absent)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return ""


def cpu_flags(cpuinfo: str) -> set[str]:
    return set(cpuinfo_field(cpuinfo, "flags").split())


def cpu_record(cpuinfo: str) -> dict[str, Any]:
    """What decides the kernels: the vendor (MKL_CBWR holds only on Intel) and the widest
    instruction sets. Machine-dependent even when the bits agree, so never a DVC out."""
    flags = cpu_flags(cpuinfo)
    return {"vendor": cpuinfo_field(cpuinfo, "vendor_id"),
            "flags": [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]}


def read_cpuinfo() -> str:
    return CPUINFO.read_text() if CPUINFO.is_file() else ""


def numeric_path(numerics: Mapping[str, Any], cpuinfo: str, machine: str) -> NumericPath:
    """The path for ``params.yaml``'s ``numerics`` section on a CPU (``machine`` as ``platform.machine()``)."""
    threads = int(numerics["threads"])
    if threads < 1:
        raise ValueError(f"numerics.threads must be at least 1, got {threads}")
    why_not = None
    if not numerics.get("pin", False):
        why_not = "numerics.pin is false"
    elif machine.lower() not in ("x86_64", "amd64"):
        why_not = f"not an x86_64 CPU ({machine}): the pinned path is the AVX2 one"
    elif missing := [f for f in X86_V3_FLAGS if f not in cpu_flags(cpuinfo)]:
        why_not = f"the CPU lacks {', '.join(missing)} (x86-64-v3, the pinned AVX2 path)"
    if why_not:
        return NumericPath(pinned=False, threads=threads, env=thread_env(threads), why_not=why_not)
    return NumericPath(pinned=True, threads=threads, env={**AVX2_PATH, **thread_env(threads)})


def this_machine(numerics: Mapping[str, Any]) -> NumericPath:
    """:func:`numeric_path` for the CPU this process runs on."""
    return numeric_path(numerics, read_cpuinfo(), platform.machine())


def apply(path: NumericPath, environ: MutableMapping[str, str] = os.environ) -> None:
    """Set the path's variables (overriding any already set: the pipeline computes on one path).

    Effective only before numpy/torch are imported: they read these when they load.
    """
    environ.update(path.env)


def in_effect(path: NumericPath, environ: Mapping[str, str] = os.environ) -> NumericPath:
    """``path`` as this process actually runs it: not pinned if the environment does not hold it
    (a stage started as ``python -m stages.<name>`` instead of ``python -m stages <name>``)."""
    differing = sorted(k for k, v in path.env.items() if environ.get(k) != v)
    if not differing:
        return path
    unset = (f"the environment does not hold {', '.join(differing)}: run the stage as `python -m stages <name>`, "
             "which sets them before numpy/torch load")
    return NumericPath(pinned=False, threads=path.threads, env={k: environ[k] for k in path.env if k in environ},
                       why_not="; ".join(filter(None, [path.why_not, unset])))
