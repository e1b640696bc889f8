"""The ``fugu`` command.

``fugu audit`` runs the whole pipeline (``dvc repro``: train, evaluate, verify claims,
render the report) in the current project directory and prints the verdict counts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def audit(args: argparse.Namespace) -> int:
    # Stage commands call `python`: make it this interpreter, whose environment has fugu.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    code = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=args.project, env=env).returncode
    if code != 0:
        print(f"fugu audit: dvc repro failed with exit code {code}", file=sys.stderr)
        return code
    verdicts = Path(args.project) / args.verdicts
    counts = json.loads(verdicts.read_text())["counts"]
    print("verdicts: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
    print(f"report: {Path(args.project) / args.report}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fugu", description="OpenFugu: a policy over models, audited.")
    commands = parser.add_subparsers(dest="command", required=True)

    run_audit = commands.add_parser("audit", help="run the pipeline (dvc repro), verify claims, render the report")
    run_audit.add_argument("--project", default=".", help="project directory holding dvc.yaml (default: .)")
    run_audit.add_argument("--verdicts", default="reports/verdicts.json", help="verdicts file the report stage writes")
    run_audit.add_argument("--report", default="reports/audit.html", help="report file the report stage writes")
    run_audit.set_defaults(handler=audit)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
