"""Hostile and keep-alive connections against ``fugu serve`` (fixed-order router, instant worker).

**Slowloris** (``SLOW_CONNECTIONS`` half-open connections, under ``ulimit -n 1024``): each sends
``POST /v1/chat/completions HTTP/1.1\\r\\nHost: x\\r\\n`` and nothing more, at the server's
default limits (``--max-connections``, ``--header-timeout``). Recorded: how each attack
connection ended (408, 503, reset, still open at the bound), the seconds until the server had
closed every one, whether normal requests made during the attack got 200, the server's
``/metrics`` counters, and its log: lines and tracebacks (before: none closed in 60 s, normal
requests failed with ``EMFILE``, 169k log lines).

**Keep-alive** (``KEEP_ALIVE_CLIENTS`` clients, one kept-alive connection each): each sends
32 requests, pausing 4.98–5.02 s before every ``PAUSE_EVERY``-th: httpx's own idle expiry and
uvicorn's old fixed keep-alive are both 5 s, and the server's timer starts a moment before the
client's (at its response, not the client's read of it), so a reuse in that moment meets a
closing connection. Run once with ``--keep-alive-timeout 5`` (uvicorn's default before the flag)
and once at the flag's default; ``errors`` counts requests that did not get a 200.

    python -m benchmarks.serve_connections [--quick] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import selectors
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from benchmarks.results import write_result
from fugu.pools.simulated import SimulatedPool
from fugu.serving.config import ServeConfig
from fugu.serving.worker_server import free_port, spawned

ROOT = Path(__file__).resolve().parent.parent
SEED, N_WORKERS = 0, 2
SERVER_NOFILE = 1024  # the common default ulimit -n, which the attack used to exhaust
SLOW_CONNECTIONS = 1100
HALF_HEAD = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
KEEP_ALIVE_CLIENTS, PAUSE_EVERY, PAUSE_S = 96, 8, (4.98, 5.02)


def fugu_command(spec: Path, port: int, *flags: str) -> list[str]:
    """``fugu serve`` (fixed order) under ``ulimit -n SERVER_NOFILE``."""
    return ["sh", "-c", f'ulimit -n {SERVER_NOFILE} && exec "$0" "$@"', sys.executable, "-m", "fugu.cli", "serve",
            "--workers", str(spec), "--port", str(port), "--router", "priority", *flags]


def endings(socks: list[socket.socket], bound_s: float) -> tuple[dict[str, int], float]:
    """How each connection ended (the status the server sent before closing, ``reset``, or
    ``open`` at ``bound_s``), and the seconds until the last one the server closed was closed."""
    ended: dict[str, int] = {}
    received = {s: b"" for s in socks}
    started, last = time.monotonic(), 0.0
    watch = selectors.DefaultSelector()  # epoll: select() stops at descriptor 1024
    for s in socks:
        watch.register(s, selectors.EVENT_READ)
    open_socks = set(socks)
    while open_socks and time.monotonic() - started < bound_s:
        for key, _ in watch.select(timeout=0.5):
            s = key.fileobj
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                chunk, received[s] = b"", received[s] or b"reset"
            if chunk:
                received[s] += chunk
                continue
            status = received[s][9:12].decode() if received[s].startswith(b"HTTP/1.1") else received[s].decode() or "eof"
            ended[status] = ended.get(status, 0) + 1
            watch.unregister(s)
            open_socks.discard(s)
            last = time.monotonic() - started
    watch.close()
    if open_socks:
        ended["open"] = len(open_socks)
    return ended, round(last, 2)


def slowloris(spec: Path, tmp: Path, n_connections: int) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_file = tmp / "slowloris.log"
    with spawned(fugu_command(spec, port), f"{url}/health", log_file, cwd=ROOT):
        socks, normal = [], []
        started = time.monotonic()
        for i in range(n_connections):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(HALF_HEAD)
            socks.append(s)
            if i % (n_connections // 4) == n_connections // 4 - 1:  # a normal client, four times during the attack
                with contextlib.suppress(httpx.HTTPError):
                    normal.append(httpx.post(f"{url}/v1/chat/completions", timeout=30,
                                             json={"model": "fugu-mini", "messages": [{"role": "user",
                                                                                       "content": QUESTION}]}).status_code)
        opened_s = time.monotonic() - started
        ended, all_closed_s = endings(socks, bound_s=3 * ServeConfig().header_timeout_s)
        for s in socks:
            s.close()
        metrics = httpx.get(f"{url}/metrics").json()
    log_text = log_file.read_text()
    return {"connections": n_connections, "server_ulimit_n": SERVER_NOFILE, "opened_in_s": round(opened_s, 2),
            "ended": ended, "all_closed_after_s": all_closed_s, "normal_requests_status": normal,
            "metrics": {k: v for k, v in metrics.items() if k.startswith(("connections_", "header_", "accept_"))},
            "log_lines": len(log_text.splitlines()), "log_tracebacks": log_text.count("Traceback"),
            "limits": {"max_connections": ServeConfig().max_connections,
                       "header_timeout_s": ServeConfig().header_timeout_s}}


async def keep_alive_run(url: str, requests_per_client: int) -> dict:
    errors: dict[str, int] = {}
    done = 0
    rng = random.Random(SEED)
    pauses = [[rng.uniform(*PAUSE_S) if (i + 1) % PAUSE_EVERY == 0 else 0.0 for i in range(requests_per_client)]
              for _ in range(KEEP_ALIVE_CLIENTS)]

    async def client(plan: list[float]) -> None:
        nonlocal done
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=1)) as http:
            for pause in plan:
                await asyncio.sleep(pause)
                try:
                    reply = await http.post(f"{url}/v1/chat/completions",
                                            json={"model": "fugu-mini", "messages": [{"role": "user",
                                                                                      "content": QUESTION}]})
                    kind = None if reply.status_code == 200 else str(reply.status_code)
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                if kind:
                    errors[kind] = errors.get(kind, 0) + 1
                done += 1

    started = time.monotonic()
    await asyncio.gather(*(client(plan) for plan in pauses))
    return {"requests": done, "errors": sum(errors.values()), "errors_by_kind": errors,
            "seconds": round(time.monotonic() - started, 1)}


def keep_alive(spec: Path, tmp: Path, requests_per_client: int) -> dict:
    runs = {}
    for name, timeout in (("keep_alive_5s", 5.0), ("keep_alive_default", ServeConfig().keep_alive_timeout_s)):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = fugu_command(spec, port, "--keep-alive-timeout", str(timeout), "--max-concurrency", "256")
        with spawned(command, f"{url}/health", tmp / f"{name}.log", cwd=ROOT):
            runs[name] = {"keep_alive_timeout_s": timeout, **asyncio.run(keep_alive_run(url, requests_per_client))}
        print(f"{name}: {runs[name]['errors']} errors of {runs[name]['requests']} requests "
              f"({runs[name]['errors_by_kind']})", flush=True)
    return {"clients": KEEP_ALIVE_CLIENTS, "requests_per_client": requests_per_client, "pause_every": PAUSE_EVERY,
            "pause_s": list(PAUSE_S), "runs": runs}


QUESTION = SimulatedPool.generate(16, 2, N_WORKERS, SEED).questions[0].text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve_connections",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer connections and requests (a smoke run)")
    parser.add_argument("--out-dir", type=Path, default=None, help="results directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the client holds every attack connection
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * SLOW_CONNECTIONS)), hard))
    os.environ.pop("FUGU_API_KEY", None)
    pool = SimulatedPool.generate(16, 2, N_WORKERS, SEED)
    with tempfile.TemporaryDirectory() as tmp_dir, contextlib.ExitStack() as servers:
        tmp = Path(tmp_dir)
        worker_port = free_port()
        worker_url = f"http://127.0.0.1:{worker_port}"
        servers.enter_context(spawned(
            [sys.executable, "-m", "fugu.serving.worker_server", "--port", str(worker_port), "simulated",
             "--n-questions", "16", "--n-categories", "2", "--n-workers", str(N_WORKERS), "--seed", str(SEED)],
            f"{worker_url}/v1/models", tmp / "worker.log", cwd=ROOT))
        spec = tmp / "workers.yaml"
        spec.write_text(yaml.safe_dump({"kind": "litellm", "workers": [
            {"name": w.name, "model": f"openai/{w.name}", "api_base": f"{worker_url}/v1", "api_key": "local"}
            for w in pool.workers]}))
        attack = slowloris(spec, tmp, 200 if args.quick else SLOW_CONNECTIONS)
        print(f"slowloris: {attack['connections']} half-open connections ended {attack['ended']}, all closed after "
              f"{attack['all_closed_after_s']} s; normal requests {attack['normal_requests_status']}; "
              f"log {attack['log_lines']} lines, {attack['log_tracebacks']} tracebacks", flush=True)
        kept = keep_alive(spec, tmp, 8 if args.quick else 32)
    path = write_result("serve_connections", {
        "slowloris": attack, "keep_alive": kept,
        "setup": {"server": "fugu serve --router priority -> LiteLLMPool -> worker_server (SimulatedPool, instant)",
                  "client": "raw sockets (slowloris), httpx.AsyncClient per client (keep-alive)"}}, args.quick, args.out_dir)
    print(f"wrote {path}")
    failed = attack["ended"].get("open", 0) or attack["log_tracebacks"] or kept["runs"]["keep_alive_default"]["errors"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
