"""``python -m benchmarks [--quick]``: run every benchmark in turn (each module exposes ``main(argv)``)."""

from __future__ import annotations

import importlib
import sys

# name → module; add a line for a new benchmark.
BENCHMARKS = {
    "cmaes": "benchmarks.cmaes",
    "trinity_route": "benchmarks.trinity_route",
    "trinity_features": "benchmarks.trinity_features",
    "trinity_levers": "benchmarks.trinity_levers",
    "router_precision": "benchmarks.router_precision",
    "conductor_executor": "benchmarks.conductor_executor",
    "conductor_grpo_step": "benchmarks.conductor_grpo_step",
    "serve_overhead": "benchmarks.serve_overhead",
    "serve_connections": "benchmarks.serve_connections",
    "serve_memory": "benchmarks.serve_memory",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    for name, module in BENCHMARKS.items():
        print(f"== {name}", flush=True)
        code = importlib.import_module(module).main(argv)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
