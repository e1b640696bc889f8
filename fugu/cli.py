"""The ``fugu`` command.

``fugu audit`` runs the whole pipeline (``dvc repro``: train, evaluate, verify claims,
render the report) in the current project directory and prints the verdict counts.
``fugu serve`` runs the OpenAI-compatible server in front of a worker pool (``fugu.serving.app``).
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
from typing import Callable


# What the pipeline trains, where `fugu serve` and `fugu route --ultra` look by default.
ULTRA_POLICY = "artifacts/train_conductor/policy"
TRAINED_SPEC = "artifacts/train_trinity/trinity.json"  # the trained TRINITY coordinator and its pool


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


def _priority_router(args: argparse.Namespace, pool):
    from fugu.routing.priority import PriorityRouter
    order = [w for w in (args.priority or "").split(",") if w]
    return PriorityRouter([w.name for w in pool.workers], order or None)


def _trinity_router(args: argparse.Namespace, pool):
    from fugu.trinity.spec import TrinitySpec, load_trinity
    from fugu.trinity.router import TrinityRouter

    trinity, vector = load_trinity(TrinitySpec.load(args.spec), root=args.project)
    return TrinityRouter(trinity, vector, [w.name for w in pool.workers])


# Routers `fugu serve --router NAME` can build: name → factory(parsed args, pool) → Router.
# A factory reads the flags it needs; adding a router is one entry (plus its flags).
ROUTER_SPECS: dict[str, Callable] = {
    "trinity": _trinity_router,    # the trained coordinator (--backbone, --vector)
    "priority": _priority_router,  # a stand-in, NOT TRINITY: fixed worker order (--priority)
}


def serve(args: argparse.Namespace) -> int:
    import uvicorn
    import yaml

    from fugu.pools.from_spec import pool_from_spec
    from fugu.serving.app import ServeConfig, create_app

    pool = pool_from_spec(yaml.safe_load(Path(args.workers).read_text()))
    try:
        router = ROUTER_SPECS[args.router](args, pool)
    except (FileNotFoundError, ValueError) as exc:  # a missing spec/vector, or one that does not fit the pool
        print(f"fugu serve: {exc}", file=sys.stderr)
        return 1
    config = ServeConfig(
        served_model=args.model, api_key=args.api_key or os.environ.get(args.api_key_env) or None,
        request_timeout_s=args.request_timeout, worker_timeout_s=args.worker_timeout,
        max_attempts=args.max_attempts, max_concurrency=args.max_concurrency,
        max_body_bytes=args.max_body_bytes, max_tokens_limit=args.max_tokens_limit,
        expose_worker=args.expose_worker, ultra_max_steps=args.max_steps,
        ultra_time_budget_s=args.workflow_budget,
    )
    conductor = None
    if args.mode == "ultra":
        from fugu.conductor.ultra import UltraConductor

        conductor = UltraConductor(args.policy)
    print(f"fugu serve: {config.served_model!r} on http://{args.host}:{args.port}/v1 "
          f"(mode: {args.mode}; router: {router.name}; auth: {'on' if config.api_key else 'off'})",
          file=sys.stderr, flush=True)
    uvicorn.run(create_app(router, pool, config, conductor), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def add_serve_command(commands) -> None:
    """``fugu serve``: every flag of the server, documented in ``fugu serve --help``."""
    run = commands.add_parser(
        "serve", help="serve the pool as one OpenAI-compatible model (POST /v1/chat/completions)",
        description="Serve a worker pool as one OpenAI-compatible model. The router scores the whole "
                    "conversation each request; workers are tried best-first with fallback; the client "
                    "never learns which worker answered.")
    run.add_argument("--workers", required=True, metavar="FILE",
                     help="YAML pool spec: kind (litellm | local_hf) and its workers (see fugu/pools/from_spec.py)")
    run.add_argument("--router", choices=sorted(ROUTER_SPECS), default="trinity",
                     help="which router scores the workers (default: trinity, the trained coordinator; "
                          "priority is a fixed-order stand-in)")
    run.add_argument("--spec", default=TRAINED_SPEC, metavar="FILE",
                     help="trinity router: the coordinator spec train_trinity writes (default: %(default)s)")
    run.add_argument("--project", default=".", help="project root the spec's paths are relative to (default: .)")
    run.add_argument("--mode", choices=["route", "ultra"], default="route",
                     help="route: the router picks one worker per request (TRINITY); ultra: the Conductor "
                          "writes a workflow over the pool and it is run, falling back to routing when the "
                          "plan does not parse or the run fails (default: route)")
    run.add_argument("--policy", default=ULTRA_POLICY, metavar="DIR",
                     help="ultra mode: the Conductor policy directory (default: %(default)s)")
    run.add_argument("--max-steps", type=int, default=4, help="ultra mode: the most steps a workflow may have (default: 4)")
    run.add_argument("--workflow-budget", type=float, default=30.0, metavar="S",
                     help="ultra mode: seconds for one workflow run, all steps (default: 30)")
    run.add_argument("--priority", default="", metavar="W1,W2,...",
                     help="priority router: worker order, best first (default: the pool's order)")
    run.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, loopback only)")
    run.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    run.add_argument("--model", default="fugu-mini", help="the model name clients send and see (default: fugu-mini)")
    run.add_argument("--api-key", default=None,
                     help="require 'Authorization: Bearer KEY' (default: read from --api-key-env; none = no auth)")
    run.add_argument("--api-key-env", default="FUGU_API_KEY",
                     help="environment variable holding the key when --api-key is not given (default: FUGU_API_KEY)")
    run.add_argument("--request-timeout", type=float, default=60.0, metavar="S",
                     help="seconds for a whole request, all attempts (default: 60) → 504 past it")
    run.add_argument("--worker-timeout", type=float, default=30.0, metavar="S",
                     help="seconds for one worker attempt before falling back (default: 30)")
    run.add_argument("--max-attempts", type=int, default=3, help="workers tried per request, best-first (default: 3)")
    run.add_argument("--max-concurrency", type=int, default=64,
                     help="requests in flight at once; more get 429 (default: 64)")
    run.add_argument("--max-body-bytes", type=int, default=1_000_000, help="larger request bodies get 413 (default: 1000000)")
    run.add_argument("--max-tokens-limit", type=int, default=32_768,
                     help="largest max_tokens a request may ask for; more gets 400 (default: 32768)")
    run.add_argument("--expose-worker", action="store_true",
                     help="DEBUG ONLY: name the answering worker in an X-Fugu-Worker header (reveals the pool)")
    run.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"],
                     help="uvicorn log level (default: warning)")
    run.set_defaults(handler=serve)
def route_ultra(args: argparse.Namespace) -> int:
    """``fugu route --ultra``: the workflow the Conductor writes for the query (not run)."""
    from transformers.utils import logging as hf_logging

    from fugu.conductor.ultra import UltraConductor, describe_workflow
    from fugu.trinity.spec import TrinitySpec

    hf_logging.disable_progress_bar()  # stdout is the workflow, nothing else
    try:
        names = ([n.strip() for n in args.worker_names.split(",") if n.strip()] if args.worker_names
                 else TrinitySpec.load(Path(args.project) / TRAINED_SPEC).workers)
        conductor = UltraConductor(Path(args.project) / args.policy)
    except (FileNotFoundError, OSError, ValueError) as exc:
        print(f"fugu route --ultra: {exc} (train the Conductor with `dvc repro train_conductor`, or pass "
              "--policy DIR and --worker-names a,b,c)", file=sys.stderr)
        return 1
    plan = conductor.plan(args.query, len(names), args.max_steps)
    if args.json:
        workflow = json.loads(plan.workflow.to_json()) if plan.workflow else None
        print(json.dumps({"workers": names, "workflow": workflow, "error": plan.error, "emitted": plan.text}, indent=2))
        return 0 if plan.workflow else 1
    if plan.workflow is None:
        print(f"the Conductor's output is not a valid workflow: {plan.error}\nit wrote: {plan.text!r}")
        return 1
    print(describe_workflow(plan.workflow, names))
    return 0


def route(args: argparse.Namespace) -> int:
    if args.ultra:
        return route_ultra(args)
    import numpy as np
    from transformers.utils import logging as hf_logging

    from fugu.trinity.spec import TrinitySpec, load_trinity

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
    command.add_argument("--ultra", action="store_true",
                         help="show the workflow the Conductor (Fugu-Ultra) writes for the query instead")
    command.add_argument("--policy", default=ULTRA_POLICY, metavar="DIR",
                         help="--ultra: the Conductor policy directory, relative to --project (default: %(default)s)")
    command.add_argument("--worker-names", metavar="A,B,...",
                         help=f"--ultra: the pool, in index order (default: the workers of {TRAINED_SPEC})")
    command.add_argument("--max-steps", type=int, default=4, help="--ultra: the most steps a workflow may have (default: 4)")
    command.set_defaults(handler=route)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fugu", description="OpenFugu: a policy over models, audited.")
    commands = parser.add_subparsers(dest="command", required=True)

    run_audit = commands.add_parser("audit", help="run the pipeline (dvc repro), verify claims, render the report")
    run_audit.add_argument("--project", default=".", help="project directory holding dvc.yaml (default: .)")
    run_audit.add_argument("--verdicts", default="reports/verdicts.json", help="verdicts file the report stage writes")
    run_audit.add_argument("--report", default="reports/audit.html", help="report file the report stage writes")
    run_audit.set_defaults(handler=audit)
    add_serve_command(commands)
    add_route_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
