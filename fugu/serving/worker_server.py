"""A local OpenAI-compatible *worker* server: any fugu Pool over HTTP, one model name per worker.

It makes an offline pool (recorded real outputs, or the simulated MOCK) reachable the way a
real deployment reaches its workers — over HTTP, through litellm — so the whole serving path
(client → fugu → litellm → worker) runs on one machine with no model weights. A request's
``model`` names the worker (``openai/<worker>`` in litellm terms); the reply is that
worker's answer from the pool. A pool failure is a 500, as a broken upstream would send.
``stream: true`` sends the answer as OpenAI chunks (one per word), so litellm's streaming
path is exercised too. ``--write-spec FILE`` writes the ``fugu serve --workers`` YAML that
reaches this server's workers, so the names always match.

Also here: ``free_port``, ``running`` (uvicorn in a background thread) and ``spawned`` (a
server subprocess, up once healthy, always stopped), which the stage, the tests and the
benchmark use to host this app and fugu's own.

    python -m fugu.serving.worker_server --port 8001 --write-spec workers.yaml replay artifacts/fetch/routing
    python -m fugu.serving.worker_server --port 8001 simulated --n-questions 240 --n-workers 4 --seed 0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import uvicorn
import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from fugu.pools.base import Pool, PoolError
from fugu.serving.config import ServeConfig
from fugu.serving.connections import guarded_server
from fugu.serving.protocol import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    ModelCard,
    ModelList,
    completion_id,
    error_body,
    now,
    usage_from,
)


def create_worker_app(pool: Pool, latency_s: float = 0.0) -> FastAPI:
    """``latency_s``: every answer waits this long first (a slow worker, for load benchmarks)."""
    names = {w.name for w in pool.workers}
    app = FastAPI(title="fugu local worker server")

    @app.get("/v1/models")
    async def models() -> ModelList:
        return ModelList(data=[ModelCard(id=name, created=0, owned_by="local") for name in sorted(names)])

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        try:
            chat = ChatCompletionRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse(error_body(str(exc.errors()[:1]), "invalid_request_error"), status_code=400)
        worker = chat.model.removeprefix("openai/")
        if worker not in names:
            return JSONResponse(error_body(f"no worker {worker!r}", "invalid_request_error", "model_not_found"),
                                status_code=404)
        if latency_s > 0:
            await asyncio.sleep(latency_s)
        try:
            reply = await pool.answer(worker, chat.conversation())
        except PoolError as exc:
            return JSONResponse(error_body(str(exc), "server_error", "pool_error"), status_code=500)
        if chat.stream:
            return StreamingResponse(_chunks(worker, reply.text, usage_from(reply.usage)), media_type="text/event-stream")
        completion = ChatCompletion(id=completion_id(), created=now(), model=worker,
                                    choices=[Choice(message=AssistantMessage(content=reply.text))],
                                    usage=usage_from(reply.usage))
        return JSONResponse(completion.model_dump(exclude_none=True))

    return app


def _chunks(worker: str, text: str, usage) -> Iterator[str]:
    ident, created = completion_id(), now()

    def event(choices, **extra) -> str:
        chunk = ChatCompletionChunk(id=ident, created=created, model=worker, choices=choices, **extra)
        return f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"

    yield event([ChunkChoice(delta=Delta(role="assistant", content=""))])
    for word in re.findall(r"\s*\S+\s*", text) or [text]:
        yield event([ChunkChoice(delta=Delta(content=word))])
    yield event([ChunkChoice(delta=Delta(), finish_reason="stop")])
    if usage is not None:
        yield event([], usage=usage)
    yield "data: [DONE]\n\n"


def pool_spec(pool: Pool, base_url: str) -> dict:
    """The ``fugu serve --workers`` spec that reaches ``pool``'s workers on this server at ``base_url``."""
    return {"kind": "litellm", "workers": [
        {"name": w.name, "model": f"openai/{w.name}", "api_base": f"{base_url}/v1", "api_key": "local"}
        for w in pool.workers]}


# How long a worker server keeps an idle connection open: as long as fugu's own server does. At
# uvicorn's default (5 s) it closed connections that litellm's pool (aiohttp, 15 s) still held, so a
# request after a ~5 s lull could be sent on a connection the worker was closing: every worker attempt
# failed at once and the client got a 502 (seen in the serve_connections benchmark's keep-alive run).
WORKER_KEEP_ALIVE_S = ServeConfig().keep_alive_timeout_s


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now on ``host`` (the OS picks it; a race with another process is possible but rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(app: FastAPI, host: str = "127.0.0.1", port: int | None = None,
            startup_timeout_s: float = 20.0, limits: ServeConfig | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yields its base URL, stops it on exit.
    With ``limits`` (fugu's own app) under its connection limits, as ``fugu serve`` runs it."""
    port = port or free_port(host)
    # A short graceful shutdown: a request to a hung worker must not hold the exit open.
    options = {"lifespan": "off", "timeout_graceful_shutdown": 1}
    server = (guarded_server(app, limits, host, port, **options) if limits is not None
              else uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                 timeout_keep_alive=WORKER_KEEP_ALIVE_S, **options)))
    thread = threading.Thread(target=server.run, name=f"uvicorn:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on {host}:{port} within {startup_timeout_s:g}s")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def spawned(command: list[str], health_url: str, log_file: Path, env: dict[str, str] | None = None,
            cwd: Path | None = None, startup_timeout_s: float = 60.0) -> Iterator[subprocess.Popen]:
    """Run a server ``command`` until the with-block ends; yields once ``health_url`` answers 200.

    Output goes to ``log_file`` (a pipe nobody reads would fill and stall the server); its tail
    is in the error when the server dies or never becomes healthy. Stopped on every exit path.
    """
    with open(log_file, "w") as log:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(process, health_url, startup_timeout_s, log_file)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(process: subprocess.Popen, url: str, timeout_s: float, log_file: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:4]} exited with code {process.returncode}:\n{log_file.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{process.args[:4]} not healthy at {url} within {timeout_s:g}s:\n{log_file.read_text()[-3000:]}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fugu.serving.worker_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0, metavar="S",
                        help="wait S seconds before each answer (a slow worker, for load tests)")
    parser.add_argument("--write-spec", type=Path, metavar="FILE",
                        help="write the `fugu serve --workers` YAML for this server's workers to FILE, then serve")
    kinds = parser.add_subparsers(dest="pool", required=True)
    sim = kinds.add_parser("simulated", help="the simulated pool (a MOCK: seeded skill matrix)")
    sim.add_argument("--n-questions", type=int, default=240)
    sim.add_argument("--n-categories", type=int, default=4)
    sim.add_argument("--n-workers", type=int, default=4)
    sim.add_argument("--seed", type=int, default=0)
    replay = kinds.add_parser("replay", help="recorded real outcomes (the folder fetch writes)")
    replay.add_argument("data_dir", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pool == "simulated":
        from fugu.pools.simulated import SimulatedPool
        pool: Pool = SimulatedPool.generate(args.n_questions, args.n_categories, args.n_workers, args.seed)
    else:
        from fugu.pools.replay import ReplayPool
        pool = ReplayPool.from_dir(args.data_dir)
    if args.write_spec:
        args.write_spec.write_text(yaml.safe_dump(pool_spec(pool, f"http://{args.host}:{args.port}"), sort_keys=False))
        print(f"wrote {args.write_spec}: workers {[w.name for w in pool.workers]}", file=sys.stderr, flush=True)
    uvicorn.run(create_worker_app(pool, args.latency), host=args.host, port=args.port, log_level="warning",
                timeout_keep_alive=WORKER_KEEP_ALIVE_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())
