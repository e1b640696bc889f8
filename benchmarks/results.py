"""Where benchmark numbers go: one JSON file per benchmark, with the machine it ran on.

A ``--quick`` run only checks that a benchmark works; its numbers go to ``<name>_quick.json``
(ignored by git) and never over the real ones, which are committed and quoted by the README.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from fugu.models.precision import cpu_flags, cpu_kind, isa_cap

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def result_path(name: str, quick: bool, out_dir: Path | None = None) -> Path:
    return (out_dir or RESULTS_DIR) / f"{name}{'_quick' if quick else ''}.json"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``platform.processor()`` is empty on Linux)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return ""


def commit() -> str:
    """The commit the numbers were measured at (``+dirty`` with uncommitted changes other than
    results files: one benchmark's output must not mark the next one's), or "unknown"."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=RESULTS_DIR, capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short=12", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ":(top,exclude)benchmarks/results")
    return f"{head}{'+dirty' if changed else ''}" if head else "unknown"


def write_result(name: str, numbers: dict[str, Any], quick: bool, out_dir: Path | None = None) -> Path:
    """Write ``numbers`` with the machine they were measured on; returns the file."""
    path = result_path(name, quick, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(),
               "processor": platform.processor() or cpu_model(), "cpus": os.cpu_count(),
               "cpu_kind": cpu_kind(cpu_flags(), isa_cap())}
    path.write_text(json.dumps({"benchmark": name, "quick": quick, "commit": commit(), "machine": machine, **numbers},
                               indent=2) + "\n")
    return path
