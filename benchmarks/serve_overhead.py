"""What fugu adds per request: latency (p50/p95) and requests/second at 1, 8 and 64 clients;
and fugu under load: 64 clients in front of a slow worker, every request accounted for.

Two targets, measured in the same run against the same instant worker (the local worker
server over the simulated pool: a dictionary look-up, so its own time is HTTP only):

    direct  client → worker server
    fugu    client → `fugu serve` → router → LiteLLMPool (litellm) → worker server

Both servers run as subprocesses, so the client's own work does not share their event loops.
The difference is fugu's whole overhead as deployed: parsing, routing, litellm, one more hop.

Load: the same path in front of a worker server that waits ``SLOW_WORKER_S`` per answer,
64 clients at once; ``lost`` counts requests that got no 200 (an error status or a transport
failure), which must be 0; p50/p95 are reported against the worker's own latency.

    python -m benchmarks.serve_overhead [--quick] [--out benchmarks/results/serve_overhead.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import yaml

from benchmarks.results import result_path
from fugu.pools.simulated import SimulatedPool
from fugu.serving.worker_server import free_port, spawned

ROOT = Path(__file__).resolve().parent.parent
LEVELS = (1, 8, 64)
SEED, N_QUESTIONS, N_WORKERS = 0, 16, 2
SLOW_WORKER_S, LOAD_CLIENTS = 0.5, 64


def requests_per_level(quick: bool) -> dict[int, int]:
    return {1: 20, 8: 48, 64: 128} if quick else {1: 300, 8: 800, 64: 2000}


async def measure(url: str, payload: dict, concurrency: int, n_requests: int) -> dict[str, float]:
    """``n_requests`` POSTs from ``concurrency`` clients at once: latency percentiles (ms), req/s."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for _ in range(min(concurrency, 8)):  # warm the connections and the servers' code paths
            await client.post(url, json=payload)
        remaining = n_requests

        async def one_client() -> None:
            nonlocal remaining, failures
            while remaining > 0:
                remaining -= 1
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
    latencies = latencies or [float("nan")]
    return {"p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95)),
            "requests_per_s": n_requests / wall, "requests": n_requests, "failures": failures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve_overhead", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few requests per level (a smoke run, seconds)")
    parser.add_argument("--out", type=Path, help="results JSON (default: benchmarks/results/serve_overhead[_quick].json)")
    args = parser.parse_args(argv)
    args.out = args.out or result_path("serve_overhead", args.quick)

    pool = SimulatedPool.generate(N_QUESTIONS, 2, N_WORKERS, SEED)
    question = [{"role": "user", "content": pool.questions[0].text}]
    worker_port, fugu_port = free_port(), free_port()
    worker_url, fugu_url = f"http://127.0.0.1:{worker_port}", f"http://127.0.0.1:{fugu_port}"
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "workers.yaml"
        spec.write_text(yaml.safe_dump({"kind": "litellm", "workers": [
            {"name": w.name, "model": f"openai/{w.name}", "api_base": f"{worker_url}/v1", "api_key": "local"}
            for w in pool.workers]}))
        worker_cmd = [sys.executable, "-m", "fugu.serving.worker_server", "--port", str(worker_port), "simulated",
                      "--n-questions", str(N_QUESTIONS), "--n-categories", "2", "--n-workers", str(N_WORKERS),
                      "--seed", str(SEED)]
        # The fixed-order router: this measures the serving path; TRINITY's own forward pass is
        # measured by benchmarks.trinity_route (and needs a trained spec a fresh clone lacks).
        fugu_cmd = [sys.executable, "-m", "fugu.cli", "serve", "--workers", str(spec), "--port", str(fugu_port),
                    "--router", "priority", "--max-concurrency", str(4 * max(LEVELS))]
        os.environ.pop("FUGU_API_KEY", None)  # no auth: the same request shape for both targets (empty = an error)
        env: dict[str, str] = {}
        with spawned(worker_cmd, f"{worker_url}/v1/models", Path(tmp) / "worker.log", env=env, cwd=ROOT), \
                spawned(fugu_cmd, f"{fugu_url}/health", Path(tmp) / "fugu.log", env=env, cwd=ROOT):
            for level, n in requests_per_level(args.quick).items():
                direct = asyncio.run(measure(f"{worker_url}/v1/chat/completions",
                                             {"model": pool.workers[0].name, "messages": question}, level, n))
                fugu = asyncio.run(measure(f"{fugu_url}/v1/chat/completions",
                                           {"model": "fugu-mini", "messages": question}, level, n))
                results[str(level)] = {
                    "direct": direct, "fugu": fugu,
                    "added_latency_ms": {"p50": fugu["p50_ms"] - direct["p50_ms"], "p95": fugu["p95_ms"] - direct["p95_ms"]},
                }
                print(f"{level:>3} clients: direct p50 {direct['p50_ms']:.1f} ms, {direct['requests_per_s']:.0f} req/s | "
                      f"fugu p50 {fugu['p50_ms']:.1f} ms, {fugu['requests_per_s']:.0f} req/s | "
                      f"fugu adds p50 {fugu['p50_ms'] - direct['p50_ms']:.1f} ms", flush=True)
        # Load: fugu in front of a slow worker, 64 clients at once.
        slow_port, load_port = free_port(), free_port()
        slow_url, load_url = f"http://127.0.0.1:{slow_port}", f"http://127.0.0.1:{load_port}"
        slow_spec = Path(tmp) / "slow.yaml"
        slow_spec.write_text(spec.read_text().replace(worker_url, slow_url))
        slow_cmd = [*worker_cmd[:3], "--port", str(slow_port), "--latency", str(SLOW_WORKER_S), *worker_cmd[5:]]
        load_cmd = [*fugu_cmd[:5], str(slow_spec), "--port", str(load_port), *fugu_cmd[8:]]
        with spawned(slow_cmd, f"{slow_url}/v1/models", Path(tmp) / "slow.log", env=env, cwd=ROOT), \
                spawned(load_cmd, f"{load_url}/health", Path(tmp) / "load.log", env=env, cwd=ROOT):
            n_load = 128 if args.quick else 640
            load = asyncio.run(measure(f"{load_url}/v1/chat/completions",
                                       {"model": "fugu-mini", "messages": question}, LOAD_CLIENTS, n_load))
        load = {"clients": LOAD_CLIENTS, "worker_latency_s": SLOW_WORKER_S, "lost": load["failures"], **load}
        print(f"load: {LOAD_CLIENTS} clients, worker {SLOW_WORKER_S:g}s: p50 {load['p50_ms']:.0f} ms, "
              f"p95 {load['p95_ms']:.0f} ms, {load['requests_per_s']:.0f} req/s, lost {load['lost']} of {n_load}", flush=True)
    report = {
        "benchmark": "serve_overhead", "quick": args.quick, "levels": results, "load_slow_worker": load,
        "setup": {"worker": "fugu.serving.worker_server over SimulatedPool (instant)", "fugu_path": "fugu serve -> priority router -> LiteLLMPool -> worker",
                  "cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results: {args.out}")
    ok = all(r[t]["failures"] == 0 for r in results.values() for t in ("direct", "fugu")) and load["lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
