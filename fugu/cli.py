"""The ``fugu`` command.

``fugu audit`` runs the whole pipeline (``dvc repro``: train, evaluate, verify claims,
render the report) in the current project directory and prints the verdict counts.
``fugu serve`` runs the OpenAI-compatible server in front of a worker pool (``fugu.serving.app``);
``fugu questions DIR`` lists the questions a replay pool can answer; ``fugu data add FILE`` adds a
recorded-outcomes file of one's own to the project (``fugu.data.adding``).
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

# What the pipeline writes, where the commands look by default (the paths the stages write to).
from fugu.pipeline_paths import (
    CONDUCTOR_POLICY_DIR,
    PARAMS_FILE,
    PROVENANCE_FILE,
    REPORT_HTML,
    ROUTING_DATA_DIR,
    SELF_TEST_SPEC,
    TRAINED_SPEC,
    VERDICTS,
)


def verdict_summary(counts: dict[str, int], report: Path) -> str:
    """One line: the verdict counts (those that occur) and where the report is."""
    found = ", ".join(f"{n} {outcome.replace('_', ' ')}" for outcome, n in counts.items() if n)
    return f"verdicts: {found or 'none'} ({sum(counts.values())} claims); report: {report}"


def audit(args: argparse.Namespace) -> int:
    # Stage commands call `python`: make it this interpreter, whose environment has fugu.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    code = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=args.project, env=env).returncode
    if code != 0:
        print(f"fugu audit: dvc repro failed with exit code {code}", file=sys.stderr)
        return code
    verdicts = Path(args.project) / args.verdicts
    counts = json.loads(verdicts.read_text())["counts"]
    print(verdict_summary(counts, Path(args.project) / args.report))
    return 0


def _priority_router(args: argparse.Namespace, pool):
    from fugu.routing.priority import PriorityRouter
    order = [w for w in (args.priority or "").split(",") if w]
    return PriorityRouter([w.name for w in pool.workers], order or None)


def _trinity_router(args: argparse.Namespace, pool):
    from fugu.models.precision import serving_precision
    from fugu.trinity.router import TrinityRouter
    from fugu.trinity.spec import TrinitySpec, load_trinity

    precision = serving_precision(args.router_dtype, root=Path(args.project))
    print(f"fugu serve: router dtype {precision.name} ({precision.why})", file=sys.stderr, flush=True)
    trinity, vector = load_trinity(TrinitySpec.load(args.spec), root=args.project)
    return TrinityRouter(trinity, vector, [w.name for w in pool.workers], max_tokens=args.router_max_tokens,
                         prefix_cache_mb=args.router_prefix_cache_mb, dtype=precision.dtype)


# Routers `fugu serve --router NAME` can build: name → factory(parsed args, pool) → Router.
# A factory reads the flags it needs; adding a router is one entry (plus its flags).
ROUTER_SPECS: dict[str, Callable] = {
    "trinity": _trinity_router,    # the trained coordinator (--spec, --router-max-tokens)
    "priority": _priority_router,  # a stand-in, NOT TRINITY: fixed worker order (--priority)
}


def api_key_from(args: argparse.Namespace) -> str | None:
    """The key from --api-key-file, else the --api-key-env variable, else None (no auth).

    Not a flag value: a command line is visible to every user in ``ps``. A file or variable
    that is set but empty is an error, never a silent "auth off".
    """
    if args.api_key_file:
        key = Path(args.api_key_file).read_text().strip()
        if not key:
            raise ValueError(f"the API key file {args.api_key_file} is empty")
        return key
    if args.api_key_env in os.environ:
        key = os.environ[args.api_key_env].strip()
        if not key:
            raise ValueError(f"{args.api_key_env} is set but empty: unset it for no auth, or give a key")
        return key
    return None


def serve_config(args: argparse.Namespace):
    from fugu.serving.config import ServeConfig

    return ServeConfig(
        served_model=args.model, ultra_model=args.ultra_model, api_key=api_key_from(args),
        request_timeout_s=args.request_timeout, worker_timeout_s=args.worker_timeout,
        router_timeout_s=args.router_timeout, router_concurrency=args.router_concurrency,
        router_long_tokens=args.router_long_tokens, router_long_concurrency=args.router_long_concurrency,
        router_max_batch=args.router_max_batch, router_batch_wait_ms=args.router_batch_wait_ms,
        conductor_timeout_s=args.conductor_timeout, conductor_concurrency=args.conductor_concurrency,
        conductor_max_tokens=args.conductor_max_tokens,
        body_timeout_s=args.body_timeout, max_attempts=args.max_attempts, max_concurrency=args.max_concurrency,
        max_body_bytes=args.max_body_bytes, max_tokens_limit=args.max_tokens_limit,
        expose_worker=args.expose_worker, ultra_max_steps=args.max_steps, ultra_time_budget_s=args.workflow_budget,
        fallback_order=tuple(w for w in args.fallback_order.split(",") if w),
        max_connections=args.max_connections, header_timeout_s=args.header_timeout,
        keep_alive_timeout_s=args.keep_alive_timeout,
    )


def router_threads(requested: int | None, concurrent_passes: int) -> int:
    """Torch threads per TRINITY forward: ``requested``, else the cores shared out among the
    ``concurrent_passes`` that may run at once (both lanes'). More busy threads than cores makes
    OpenMP's workers wait on each other: SmolLM2-135M on 2 cores shared with another job took
    0.26–4 s (p50) a pass at 2 threads, 0.35 s at 1 thread."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return requested or max(1, cores // concurrent_passes)


def serve(args: argparse.Namespace) -> int:
    import yaml

    from fugu.pools.from_spec import pool_from_spec
    from fugu.serving.app import create_app
    from fugu.serving.connections import ensure_fd_limit, guarded_server

    try:
        config = serve_config(args)
        ensure_fd_limit(config)
        pool = pool_from_spec(yaml.safe_load(Path(args.workers).read_text()))
        if args.router == "trinity":  # a process setting, so here and not in the router's factory
            import torch

            torch.set_num_threads(router_threads(args.router_threads,
                                                 args.router_concurrency + args.router_long_concurrency))
        router = ROUTER_SPECS[args.router](args, pool)
        conductor = None
        if args.mode == "ultra":
            from fugu.conductor.ultra import UltraConductor

            conductor = UltraConductor(args.policy, max_prompt_tokens=config.conductor_max_tokens)
        app = create_app(router, pool, config, conductor)
    except (FileNotFoundError, ValueError) as exc:  # a missing file, an empty key, a spec that does not fit the pool
        print(f"fugu serve: {exc}", file=sys.stderr)
        return 1
    models = [config.served_model] + ([config.ultra_model] if conductor is not None else [])
    print(f"fugu serve: {models} on http://{args.host}:{args.port}/v1 "
          f"(router: {router.name}; auth: {'on' if config.api_key else 'off'})", file=sys.stderr, flush=True)
    guarded_server(app, config, args.host, args.port, args.log_level).run()
    return 0


def add_serve_command(commands) -> None:
    """``fugu serve``: every flag of the server, documented in ``fugu serve --help``; defaults from ServeConfig."""
    from fugu.serving.config import ServeConfig
    from fugu.trinity.router import DEFAULT_MAX_TOKENS, DEFAULT_PREFIX_CACHE_MB

    d = ServeConfig()
    run = commands.add_parser(
        "serve", help="serve the pool as one OpenAI-compatible model (POST /v1/chat/completions, /v1/responses)",
        description="Serve a worker pool as one OpenAI-compatible model. The router scores the "
                    "conversation each request; workers are tried best-first with fallback; the client "
                    "never learns which worker answered.")
    run.add_argument("--workers", required=True, metavar="FILE",
                     help="YAML pool spec: kind (litellm | local_hf) and its workers (see fugu/pools/from_spec.py; "
                          "`python -m fugu.serving.worker_server ... --write-spec FILE` writes one)")
    run.add_argument("--router", choices=sorted(ROUTER_SPECS), default="trinity",
                     help="which router scores the workers (default: trinity, the trained coordinator; "
                          "priority is a fixed-order stand-in)")
    run.add_argument("--spec", default=TRAINED_SPEC, metavar="FILE",
                     help="trinity router: the coordinator spec train_trinity writes (default: %(default)s)")
    run.add_argument("--router-max-tokens", type=int, default=None, metavar="N",
                     help="trinity router: it reads only the last N tokens of the conversation (default: the "
                          f"spec's max_prompt_tokens, the cap it was trained with, else {DEFAULT_MAX_TOKENS})")
    run.add_argument("--router-prefix-cache-mb", type=float, default=DEFAULT_PREFIX_CACHE_MB, metavar="MB",
                     help="trinity router: keys/values of read conversations kept so the next turn reads only its "
                          "new tokens (0 = off; default: %(default)s)")
    run.add_argument("--router-dtype", choices=["auto", "fp32", "bf16"], default="auto",
                     help="trinity router: the backbone's precision when serving. auto: bf16 where the CPU multiplies "
                          "bf16 natively (AMX / AVX-512 BF16) and the committed precision benchmark shows bf16 decides "
                          "as fp32 (benchmarks/results/router_precision.json), else fp32; bf16 on other CPUs runs "
                          "slower, with a warning (default: %(default)s)")
    run.add_argument("--router-timeout", type=float, default=d.router_timeout_s, metavar="S",
                     help="the router's deadline; past it the request is answered in the fallback order "
                          "(default: %(default)s)")
    run.add_argument("--router-concurrency", type=int, default=d.router_concurrency, metavar="N",
                     help="router passes at once (besides the long lane's); none free within the deadline → "
                          "fallback order (default: %(default)s)")
    run.add_argument("--router-long-tokens", type=int, default=d.router_long_tokens, metavar="N",
                     help="a router pass that reads more tokens than N runs in the long lane, so small requests "
                          "never wait behind long ones (default: %(default)s)")
    run.add_argument("--router-long-concurrency", type=int, default=d.router_long_concurrency, metavar="N",
                     help="long router passes at once; none free within the deadline → fallback order "
                          "(default: %(default)s)")
    run.add_argument("--router-max-batch", type=int, default=d.router_max_batch, metavar="N",
                     help="requests waiting for a router slot are scored together, at most N in one pass; a lone "
                          "request never waits (1 = one pass per request; default: %(default)s)")
    run.add_argument("--router-batch-wait-ms", type=float, default=d.router_batch_wait_ms, metavar="MS",
                     help="under load, how long a batch of waiting requests gathers latecomers before its pass "
                          "starts (default: %(default)s)")
    run.add_argument("--router-threads", type=int, default=None, metavar="N",
                     help="trinity router: torch threads per forward pass (default: the cores divided by the passes "
                          "that may run at once, --router-concurrency + --router-long-concurrency, at least 1)")
    run.add_argument("--fallback-order", default=",".join(d.fallback_order), metavar="W1,W2,...",
                     help="workers to try when the router cannot decide in time (default: the pool's order)")
    run.add_argument("--project", default=".", help="project root the spec's paths are relative to (default: .)")
    run.add_argument("--mode", choices=["route", "ultra"], default="route",
                     help="route: serve the routing model only; ultra: also load the Conductor and serve it as "
                          "--ultra-model (a workflow over the pool, falling back to routing when the plan does not "
                          "parse or the run fails) (default: route)")
    run.add_argument("--policy", default=CONDUCTOR_POLICY_DIR, metavar="DIR",
                     help="ultra mode: the Conductor policy directory (default: %(default)s)")
    run.add_argument("--max-steps", type=int, default=d.ultra_max_steps,
                     help="ultra mode: the most steps a workflow may have (default: %(default)s)")
    run.add_argument("--workflow-budget", type=float, default=d.ultra_time_budget_s, metavar="S",
                     help="ultra mode: seconds for one workflow run, all steps (default: %(default)s)")
    run.add_argument("--conductor-timeout", type=float, default=d.conductor_timeout_s, metavar="S",
                     help="ultra mode: the Conductor's deadline to write a plan; past it its generation stops and "
                          "the request is routed (default: %(default)s)")
    run.add_argument("--conductor-concurrency", type=int, default=d.conductor_concurrency, metavar="N",
                     help="ultra mode: plans written at once; a request finding none free is routed at once "
                          "(default: %(default)s)")
    run.add_argument("--conductor-max-tokens", type=int, default=d.conductor_max_tokens, metavar="N",
                     help="ultra mode: the Conductor reads at most N tokens, the end of a longer question "
                          "(default: %(default)s, lowered to fit the policy's positions)")
    run.add_argument("--priority", default="", metavar="W1,W2,...",
                     help="priority router: worker order, best first (default: the pool's order)")
    run.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1, loopback only)")
    run.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    run.add_argument("--model", default=d.served_model, help="the routing model's name (default: %(default)s)")
    run.add_argument("--ultra-model", default=d.ultra_model, help="the Conductor model's name (default: %(default)s)")
    run.add_argument("--api-key-file", default=None, metavar="FILE",
                     help="require 'Authorization: Bearer KEY' with KEY read from FILE (an empty file is an error)")
    run.add_argument("--api-key-env", default="FUGU_API_KEY",
                     help="else the key is read from this environment variable; set but empty is an error; "
                          "unset = no auth (default: %(default)s). There is no --api-key: ps would show it")
    run.add_argument("--request-timeout", type=float, default=d.request_timeout_s, metavar="S",
                     help="seconds for a whole request, all attempts (default: %(default)s) → 504 past it")
    run.add_argument("--worker-timeout", type=float, default=d.worker_timeout_s, metavar="S",
                     help="seconds for one worker attempt before falling back (default: %(default)s)")
    run.add_argument("--body-timeout", type=float, default=d.body_timeout_s, metavar="S",
                     help="seconds for the request body to arrive (default: %(default)s) → 408 past it")
    run.add_argument("--max-attempts", type=int, default=d.max_attempts,
                     help="workers tried per request, best-first (default: %(default)s)")
    run.add_argument("--max-concurrency", type=int, default=d.max_concurrency,
                     help="requests in flight at once; more get 429 with Retry-After (default: %(default)s)")
    run.add_argument("--max-connections", type=int, default=d.max_connections,
                     help="open connections at once; at the cap an idle kept-alive one, else the one waiting "
                          "longest for its request head, is closed to make room; when all are busy a newcomer gets "
                          "503 and is closed. Needs this + --max-concurrency + 128 open files: the "
                          "soft ulimit -n is raised that far, or the server refuses to start (default: %(default)s)")
    run.add_argument("--header-timeout", type=float, default=d.header_timeout_s, metavar="S",
                     help="seconds for a request's head (request line and headers) to arrive, from connecting or "
                          "from its first byte on a kept-alive connection (default: %(default)s) → 408 and close")
    run.add_argument("--keep-alive-timeout", type=float, default=d.keep_alive_timeout_s, metavar="S",
                     help="seconds an idle kept-alive connection stays open; keep it above clients' own idle "
                          "expiry (httpx: 5) so they never reuse a connection the server is closing "
                          "(default: %(default)s)")
    run.add_argument("--max-body-bytes", type=int, default=d.max_body_bytes,
                     help="larger request bodies get 413 (default: %(default)s)")
    run.add_argument("--max-tokens-limit", type=int, default=d.max_tokens_limit,
                     help="largest max_tokens a request may ask for; more gets 400 (default: %(default)s)")
    run.add_argument("--expose-worker", action="store_true", default=d.expose_worker,
                     help="DEBUG ONLY: name the answering worker in an X-Fugu-Worker header (reveals the pool)")
    run.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"],
                     help="uvicorn log level (default: warning)")
    run.set_defaults(handler=serve)


def questions(args: argparse.Namespace) -> int:
    """``fugu questions DIR``: the questions a replay pool has records for (what it can answer)."""
    from fugu.pools.replay import ReplayPool

    try:
        pool = ReplayPool.from_dir(Path(args.data_dir))
    except (FileNotFoundError, ValueError) as exc:
        print(f"fugu questions: {exc}", file=sys.stderr)
        return 1
    table = pool.table.drop_duplicates("question_id")
    if args.grep:
        table = table[table["question"].str.contains(args.grep, case=False, regex=False)]
    rows = table.head(args.limit) if args.limit else table
    if args.as_request:  # a ready chat request for the first question, e.g. for curl -d @request.json
        if rows.empty:
            print("fugu questions: no question matches", file=sys.stderr)
            return 1
        print(json.dumps({"model": args.as_request, "messages": [{"role": "user", "content": rows.iloc[0]["question"]}]}))
        return 0
    if args.json:
        print(json.dumps([{"question_id": r.question_id, "question": r.question} for r in rows.itertuples()], indent=2))
    else:
        for row in rows.itertuples():
            print(" ".join(str(row.question).split()))
    print(f"({len(rows)} of {len(table)} questions; workers: {', '.join(w.name for w in pool.workers)})", file=sys.stderr)
    return 0


def add_questions_command(commands) -> None:
    command = commands.add_parser("questions", help="list the questions a replay pool can answer (one a line)")
    command.add_argument("data_dir", help="the replay pool folder (the one `fetch` writes: artifacts/fetch/routing)")
    command.add_argument("--grep", help="only questions containing this text (case-insensitive)")
    command.add_argument("--limit", type=int, default=20, help="at most this many (0 = all; default: %(default)s)")
    command.add_argument("--json", action="store_true", help="print question ids and texts as JSON")
    command.add_argument("--as-request", metavar="MODEL",
                         help="print a chat-completions request body asking MODEL the first question instead")
    command.set_defaults(handler=questions)


def data_add(args: argparse.Namespace) -> int:
    """``fugu data add FILE``: convert, show what was understood, then add it (all or nothing)."""
    from fugu.data.adding import apply_addition, plan_addition, pool_line, preview

    project = Path(args.project)
    try:
        price = _price_pair(args.price) if args.price else None
        view = preview(Path(args.file), args.layout, args.separator, args.category, tuple(args.models or ()))
        print(view.describe())
        addition = plan_addition(view, Path(args.file), project / ROUTING_DATA_DIR, project / PARAMS_FILE,
                                 project / PROVENANCE_FILE, args.license, args.source, price)
        if args.dry_run:
            print("(dry run: nothing written)")
            return 0
        apply_addition(addition)
    except (ValueError, OSError) as exc:  # AddError, ConversionError, ListingError, a bad --price
        print(f"fugu data add: {exc}", file=sys.stderr)
        return 1
    print(f"added {addition.target} (row in {ROUTING_DATA_DIR}/README.md, fetch.routing.formats entry in "
          f"{PARAMS_FILE}, prices in {PROVENANCE_FILE})")
    print(f"route over its models:\n  {pool_line(view)}")
    return 0


def _price_pair(text: str) -> tuple[float, float]:
    try:
        value_in, value_out = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--price must be two numbers 'in,out' (USD per million tokens), got {text!r}") from None
    if value_in < 0 or value_out < 0:
        raise ValueError(f"--price must not be negative, got {text!r}")
    return value_in, value_out


def add_data_command(commands) -> None:
    data = commands.add_parser("data", help="the recorded-outcomes files a pool is drawn from")
    actions = data.add_subparsers(dest="data_command", required=True)
    command = actions.add_parser(
        "add", help="add a recorded-outcomes file of your own (long or wide layout) to data/routing",
        description="Convert FILE as the fetch stage will, show what was understood, then copy it into data/routing "
                    "with its README row (sha256 and counts measured), its fetch.routing.formats entry in params.yaml "
                    "and a price for each new model in configs/provenance.yaml; prints the pool setting to use. "
                    "Nothing is written when the file does not convert.")
    command.add_argument("file", help="a .csv/.tsv/.jsonl/.json/.parquet file (text ones may be gzipped)")
    command.add_argument("--layout", choices=("auto", "long", "wide"), default="auto",
                         help="long: a row per (question, model); wide: a row per question, a score column per "
                              "model (RouterBench, RouteLLM); auto: long if a model column is found")
    command.add_argument("--separator", help="wide: per-model fields are '<model><SEP><field>' "
                                             "(RouterBench: '|', the default; RouteLLM: '_')")
    command.add_argument("--category", help="the one category of a file without a category column "
                                            "(default: the file's name)")
    command.add_argument("--models", nargs="+", metavar="MODEL",
                         help="wide: the score columns; long: the models kept (default: every one found)")
    command.add_argument("--license", default="not stated", help="the data's licence, for the README row")
    command.add_argument("--source", default="not stated", help="where the data comes from, for the README row")
    command.add_argument("--price", metavar="IN,OUT",
                         help="USD per million tokens for models litellm's cost map does not know "
                              "(default: recorded as cost unknown, never 0)")
    command.add_argument("--project", default=".", help="project directory holding params.yaml (default: .)")
    command.add_argument("--dry-run", action="store_true", help="show what was understood; write nothing")
    command.set_defaults(handler=data_add)


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


def route_spec(requested: str | None, project: Path) -> tuple[Path, str]:
    """The spec `fugu route` uses and what it is: the one asked for, else the trained coordinator when
    `train_trinity` has run, else the self-test's planted one (a load-and-route check, not a trained router)."""
    if requested:
        return Path(requested), "the coordinator spec asked for"
    if (project / TRAINED_SPEC).exists():
        return project / TRAINED_SPEC, "the trained coordinator"
    return project / SELF_TEST_SPEC, ("the self-test's planted coordinator over its fixture's workers "
                                    "(`dvc repro train_trinity` trains one over the real pool)")


def route(args: argparse.Namespace) -> int:
    if args.ultra:
        return route_ultra(args)
    import numpy as np
    from transformers.utils import logging as hf_logging

    from fugu.trinity.spec import TrinitySpec, load_trinity

    hf_logging.disable_progress_bar()  # stdout is the decision, nothing else

    spec_path, which = route_spec(args.spec, Path(args.project))
    print(f"fugu route: {spec_path}, {which}", file=sys.stderr)  # stderr: stdout stays the decision alone
    try:
        spec = TrinitySpec.load(spec_path)
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
        print(json.dumps({"spec": str(spec_path), "worker": decision.worker, "role": decision.role,
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
    command.add_argument("--spec", default=None, metavar="FILE",
                         help=f"coordinator spec (default: {TRAINED_SPEC}, the trained coordinator, when "
                              f"`train_trinity` has run, else {SELF_TEST_SPEC}, the self-test's planted vector over "
                              "its fixture's sim-worker-* names; relative to --project; the one used is named on stderr)")
    command.add_argument("--vector", help="a parameter vector (.npy) to use instead of the spec's")
    command.add_argument("--project", default=".", help="project root the spec's paths are relative to (default: .)")
    command.add_argument("--system", help="a system message placed before the query")
    command.add_argument("--available", help="comma-separated workers on offer (default: all)")
    command.add_argument("--json", action="store_true", help="print the decision as JSON")
    command.add_argument("--ultra", action="store_true",
                         help="show the workflow the Conductor (Fugu-Ultra) writes for the query instead")
    command.add_argument("--policy", default=CONDUCTOR_POLICY_DIR, metavar="DIR",
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
    run_audit.add_argument("--verdicts", default=VERDICTS, help="verdicts file the report stage writes")
    run_audit.add_argument("--report", default=REPORT_HTML, help="report file the report stage writes")
    run_audit.set_defaults(handler=audit)
    add_serve_command(commands)
    add_route_command(commands)
    add_questions_command(commands)
    add_data_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
