"""``python -m stages <name>``: every DVC stage's one entry point, on the pinned numeric path.

Why one entry point: the numeric libraries read their kernel and thread settings
(stages/numeric_path.py) once, when they load, so the environment must be set before the
stage module imports numpy or torch; a stage cannot do it for itself. This module reads
``params.yaml``'s ``numerics`` section with yaml alone, sets the environment, then runs
``stages.<name>`` as ``__main__``, exactly as ``python -m stages.<name>`` would.
"""

from __future__ import annotations

import pkgutil
import runpy
import sys
from typing import Sequence

import yaml

import stages
from stages.numeric_path import apply, this_machine
from stages.paths import PARAMS_FILE

# Modules of the package that are not stages: what the stages share, and this runner.
SHARED_MODULES = frozenset({"builders", "common", "numeric_path", "paths"})
NUMERIC_LIBRARIES = ("numpy", "torch")


def stage_names() -> list[str]:
    """The runnable stages: every module of the ``stages`` package that is not shared code."""
    return sorted(m.name for m in pkgutil.iter_modules(stages.__path__)
                  if not m.name.startswith("_") and m.name not in SHARED_MODULES)


def main(argv: Sequence[str]) -> None:
    names = stage_names()
    if not argv or argv[0] not in names:
        raise SystemExit(f"usage: python -m stages <stage> [stage options], one of: {', '.join(names)}"
                         + (f" (got {' '.join(argv)!r})" if argv else ""))
    loaded = [m for m in NUMERIC_LIBRARIES if m in sys.modules]
    if loaded:  # e.g. a sitecustomize: the pin would silently not take
        raise SystemExit(f"{', '.join(loaded)} already imported before the numeric path was set")
    params = yaml.safe_load(PARAMS_FILE.read_text()) or {}
    if "numerics" not in params:
        raise SystemExit(f"{PARAMS_FILE}: no `numerics` section (pin, threads)")
    apply(this_machine(params["numerics"]))
    # a stage's own options (train_conductor's --device, for tests) follow its name; run_module sets argv[0]
    sys.argv = [sys.argv[0], *argv[1:]]
    runpy.run_module(f"stages.{argv[0]}", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
