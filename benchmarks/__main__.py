"""``python -m benchmarks`` runs every registered benchmark; ``python -m benchmarks NAME`` one."""

import importlib
import sys

# The registry: module names under benchmarks/, each exposing main(argv) -> int.
BENCHMARKS = ["conductor_executor"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmarks {unknown}; known: {BENCHMARKS}", file=sys.stderr)
        return 2
    for name in names:
        code = importlib.import_module(f"benchmarks.{name}").main([])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
