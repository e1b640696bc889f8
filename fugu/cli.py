"""The ``fugu`` command.

``fugu audit`` runs the whole pipeline (``dvc repro``: train, evaluate, verify claims,
render the report) in the current project directory and prints the verdict counts.
``fugu route "query"`` prints the worker and role the TRINITY coordinator picks, and every
worker's score. Each command is added by an ``add_<name>_command(subparsers)`` function.
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


def route(args: argparse.Namespace) -> int:
    import numpy as np
    from transformers.utils import logging as hf_logging

    from fugu.trinity import TrinitySpec, load_trinity

    hf_logging.disable_progress_bar()  # stdout is the decision, nothing else

    try:
        spec = TrinitySpec.load(args.spec)
        if args.vector:
            spec = TrinitySpec(**{**spec.__dict__, "vector": args.vector})
        trinity, vector = load_trinity(spec, root=args.project)
    except (FileNotFoundError, ValueError) as exc:  # a missing artifact or a vector that does not fit
        print(f"fugu route: {exc}", file=sys.stderr)
        return 1
    conversation = ([{"role": "system", "content": args.system}] if args.system else []) + [
        {"role": "user", "content": args.query}]
    available = None
    if args.available:
        names = [n.strip() for n in args.available.split(",")]
        unknown = sorted(set(names) - set(trinity.workers))
        if unknown:
            print(f"fugu route: unknown workers {unknown}; the pool is {trinity.workers}", file=sys.stderr)
            return 2
        available = np.array([w in names for w in trinity.workers])
    decision = trinity.decide([conversation], vector, available=available)[0]
    if args.json:
        print(json.dumps({"worker": decision.worker, "role": decision.role,
                          "agent_scores": {k: (v if np.isfinite(v) else None) for k, v in decision.agent_scores.items()},
                          "role_scores": decision.role_scores}, indent=2))
        return 0
    print(f"worker: {decision.worker}")
    print(f"role:   {decision.role}")
    print("agent scores:")
    for name, score in sorted(decision.agent_scores.items(), key=lambda kv: -kv[1]):
        mark = "  <- chosen" if name == decision.worker else ""
        print(f"  {name:<32} {score:>10.4f}{mark}")
    print("role scores:")
    for name, score in decision.role_scores.items():
        print(f"  {name:<32} {score:>10.4f}")
    return 0


def add_route_command(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("route", help="which worker and role the TRINITY coordinator picks for a query, and why")
    command.add_argument("query", help="the user's query")
    command.add_argument("--spec", default="artifacts/self_test/trinity.json",
                         help="coordinator spec written by the self_test stage (default: %(default)s)")
    command.add_argument("--vector", help="a parameter vector (.npy) to use instead of the spec's")
    command.add_argument("--project", default=".", help="project root the spec's paths are relative to (default: .)")
    command.add_argument("--system", help="a system message placed before the query")
    command.add_argument("--available", help="comma-separated workers on offer (default: all)")
    command.add_argument("--json", action="store_true", help="print the decision as JSON")
    command.set_defaults(handler=route)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fugu", description="OpenFugu: a policy over models, audited.")
    commands = parser.add_subparsers(dest="command", required=True)

    run_audit = commands.add_parser("audit", help="run the pipeline (dvc repro), verify claims, render the report")
    run_audit.add_argument("--project", default=".", help="project directory holding dvc.yaml (default: .)")
    run_audit.add_argument("--verdicts", default="reports/verdicts.json", help="verdicts file the report stage writes")
    run_audit.add_argument("--report", default="reports/audit.html", help="report file the report stage writes")
    run_audit.set_defaults(handler=audit)
    add_route_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
