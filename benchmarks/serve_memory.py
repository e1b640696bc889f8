"""The TRINITY server's resident memory under distinct prompts: with the KV-prefix cache at its
default cap and with it off, against the cap plus a stated margin.

Every prompt is new (~4 KB of seeded random words), so every one is read in full and stored,
and once the cache is full every store evicts: the worst case for memory the cache can add. The
router is ``fugu serve --router trinity`` over SmolLM2-135M-Instruct with a seeded random
vector (``benchmarks.router_targets``; the cost is measured, not the routes) and the trained
spec's prompt cap (256 tokens: 11.25 MiB of keys and values per prompt), in front of the local
instant worker. The server's RSS (``/proc/<pid>/status``) is read after a warm-up request and
after every request; ``within_cap_plus_margin`` says whether the growth with the cache stayed
within the cache's cap plus ``MARGIN_MB`` over the growth without it.

    python -m benchmarks.serve_memory [--quick] [--prompts N] [--backbone DIR] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

import httpx
import numpy as np
import yaml

from benchmarks import router_targets
from benchmarks.results import write_result
from fugu.pools.simulated import SimulatedPool
from fugu.serving.worker_server import free_port, spawned
from fugu.trinity.router import DEFAULT_PREFIX_CACHE_MB

ROOT = Path(__file__).resolve().parent.parent
SEED, N_WORKERS, PROMPT_BYTES = 0, 2, 4096
MARGIN_MB = 64  # what the cache may add beyond its cap: allocator slack around its tensors


def rss_mb(pid: int) -> float:
    """Resident memory in MiB (the unit of --router-prefix-cache-mb)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def distinct_prompts(n: int, question: str, seed: int = SEED) -> list[str]:
    """``n`` prompts of ~``PROMPT_BYTES`` bytes: ``question`` (so the simulated worker answers), then
    random words, so no two share the token window the router reads (their end)."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(5000)]
    return [(question + "\n" + " ".join(rng.choice(words, PROMPT_BYTES // 5)))[:PROMPT_BYTES] for _ in range(n)]


def measure(url: str, pid: int, prompts: list[str]) -> dict:
    """RSS (MiB) after the first prompt (the warm-up) and after each of the others, one request at a time."""
    with httpx.Client(timeout=120) as client:
        def ask(text: str) -> None:
            reply = client.post(f"{url}/v1/chat/completions",
                                json={"model": "fugu-mini", "messages": [{"role": "user", "content": text}]})
            reply.raise_for_status()

        ask(prompts[0])
        start = rss_mb(pid)
        trace = []
        for text in prompts[1:]:
            ask(text)
            trace.append(rss_mb(pid))
        metrics = client.get(f"{url}/metrics").json()
    return {"rss_start_mb": round(start, 1), "rss_end_mb": round(trace[-1], 1), "rss_peak_mb": round(max(trace), 1),
            "growth_mb": round(trace[-1] - start, 1), "rss_every_10_mb": [round(r, 1) for r in trace[::10]],
            "fallbacks": sum(metrics.get(k, 0) for k in ("router_timeout", "router_busy", "router_error"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 prompts (a smoke run)")
    parser.add_argument("--prompts", type=int, default=None, help="distinct prompts per run (default: 120)")
    parser.add_argument("--backbone", type=Path, default=None, help="SmolLM2-135M-Instruct as a transformers dir")
    parser.add_argument("--out-dir", type=Path, default=None, help="results directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    n = args.prompts or (20 if args.quick else 120)
    pool = SimulatedPool.generate(16, 2, N_WORKERS, SEED)
    prompts = distinct_prompts(n, pool.questions[0].text)
    workers = [w.name for w in pool.workers]
    os.environ.pop("FUGU_API_KEY", None)
    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp_dir, contextlib.ExitStack() as servers:
        tmp = Path(tmp_dir)
        worker_url = f"http://127.0.0.1:{free_port()}"
        servers.enter_context(spawned(
            [sys.executable, "-m", "fugu.serving.worker_server", "--port", worker_url.rsplit(":", 1)[1], "simulated",
             "--n-questions", "16", "--n-categories", "2", "--n-workers", str(N_WORKERS), "--seed", str(SEED)],
            f"{worker_url}/v1/models", tmp / "worker.log", cwd=ROOT))
        spec = tmp / "workers.yaml"
        spec.write_text(yaml.safe_dump({"kind": "litellm", "workers": [
            {"name": w, "model": f"openai/{w}", "api_base": f"{worker_url}/v1", "api_key": "local"} for w in workers]}))
        coordinator = router_targets.write_coordinator(
            tmp / "coordinator", router_targets.real_backbone(tmp / "smollm2", args.backbone), workers, SEED)
        for name, cache_mb in (("cache_off", 0), ("cache_on", DEFAULT_PREFIX_CACHE_MB)):
            url = f"http://127.0.0.1:{free_port()}"
            command = [sys.executable, "-m", "fugu.cli", "serve", "--workers", str(spec), "--port", url.rsplit(":", 1)[1],
                       "--router", "trinity", "--spec", str(coordinator), "--project", str(coordinator.parent),
                       "--router-prefix-cache-mb", str(cache_mb), "--router-timeout", "60"]
            with spawned(command, f"{url}/health", tmp / f"{name}.log", cwd=ROOT, startup_timeout_s=300) as server:
                runs[name] = {"prefix_cache_mb": cache_mb, **measure(url, server.pid, prompts)}
            print(f"{name}: RSS {runs[name]['rss_start_mb']:.0f} -> {runs[name]['rss_end_mb']:.0f} MB "
                  f"(peak {runs[name]['rss_peak_mb']:.0f}) over {n} distinct prompts", flush=True)
    added = runs["cache_on"]["growth_mb"] - runs["cache_off"]["growth_mb"]
    bound = DEFAULT_PREFIX_CACHE_MB + MARGIN_MB  # MiB, as the RSS is read
    within = added <= bound
    print(f"the cache added {added:.0f} MB of RSS; cap + margin {bound:.0f} MB: {'within' if within else 'OVER'}")
    path = write_result("serve_memory", {
        "prompts": n, "prompt_bytes": PROMPT_BYTES, "runs": runs, "cache_added_mb": round(added, 1),
        "cap_mb": DEFAULT_PREFIX_CACHE_MB, "margin_mb": MARGIN_MB, "within_cap_plus_margin": within,
        "setup": {"router": "fugu serve --router trinity, SmolLM2-135M-Instruct, seeded random vector, "
                            "256-token prompt cap", "worker": "fugu.serving.worker_server over SimulatedPool (instant)",
                  "requests": "one at a time, every prompt distinct"}}, args.quick, args.out_dir)
    print(f"wrote {path}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
