"""``python -m benchmarks [--quick]``: run every benchmark; each writes benchmarks/results/<name>.json."""

from __future__ import annotations

import importlib
import sys

MODULES = ["cmaes"]


def main(argv: list[str]) -> int:
    for name in MODULES:
        print(f"== benchmarks.{name}")
        importlib.import_module(f"benchmarks.{name}").main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
