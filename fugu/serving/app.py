"""Fugu as one model: an OpenAI-compatible server in front of a router and a pool.

Per request the router scores the conversation (so in a multi-turn exchange the choice is made
again at every step, with earlier assistant replies in the context), and the workers are tried
best-first (``fugu.routing.base.ranked``), at most ``max_attempts`` of them: a worker that
times out, raises, or returns an empty or garbled reply is skipped for the next. The client
sees one answer or one OpenAI-style error, and never which worker answered — the pool is
hidden unless the operator turns on ``expose_worker`` for debugging.

**When the router cannot decide.** The router runs off the event loop with a deadline of its
own (``router_timeout_s``), in two lanes: a pass that reads more than ``router_long_tokens``
tokens runs among at most ``router_long_concurrency`` long passes, any other among at most
``router_concurrency``, so a small request never waits for a slot behind long ones (no global
lock: a pass that overruns keeps its slot until it ends, the request does not wait for it).
A request whose slot comes with less deadline left than recent passes took does not start
one (it would overrun). If it overruns, has no free slot in time, or fails, the request is answered in the
**fallback order**: ``fallback_order`` when the operator set one, else the pool's own order.
Each such request is counted (``router_timeout``, ``router_busy``, ``router_error`` in
``GET /metrics``) and logged. So a huge prompt costs at most its deadline and never blocks
small requests behind it.

**Modes by model name.** ``fugu-mini`` (``served_model``) routes; with a Conductor given,
``fugu-ultra`` (``ultra_model``) runs its workflow over the same pool (the last step's output
is the answer), falling back to routing when the plan does not parse or the run fails. The plan
is bounded like a router pass: the Conductor reads at most ``conductor_max_tokens`` tokens,
writes at most ``conductor_concurrency`` plans at once (none free: routed at once) and stops
generating when ``conductor_timeout_s`` passes or the client leaves; each reason for falling
back is counted in ``GET /metrics``.

**Generation fields** (tools, tool_choice, response_format, reasoning_effort, stop,
max_tokens, temperature, top_p, seed, ...; on the Responses API as spelled there) are
forwarded to the chosen worker in litellm's form when the pool says it honours them
(``pool.supported_options``); otherwise, and for fields no worker here can honour, the
request is a 400 naming the field. One table decides every field of both endpoints
(``fugu.serving.fields``). Tool calls and ``finish_reason: "tool_calls"`` (Responses:
``function_call`` items) come back in plain and streamed replies.

**Streaming** relays the worker's own stream (``pool.stream``) as it arrives; a worker that
fails before its first piece is replaced by the next; ``stream_options.include_usage`` adds a
usage chunk. Usage is always reported: the worker's counts, or counted with a tokenizer and
labelled ``source: "counted"``.

**Load and hostile clients.** A client that disconnects cancels its worker call and frees its
slot (plain and streamed). The body must arrive within ``body_timeout_s`` (408), be at most
``max_body_bytes`` (413) and be valid, encodable JSON that passes strict validation (400).
Beyond ``max_concurrency`` requests in flight: 429 with ``Retry-After``. A wrong method: 405
with ``Allow``.

Endpoints: ``POST /v1/chat/completions``, ``POST /v1/responses`` (the Responses API: ``input``
as a string or items, ``instructions``, function tools, plain or streamed events), ``GET /v1/models``,
``GET /metrics`` (counters), ``GET /health`` (no auth: only ``{"status": "ok"}``; with the key
also the router and the models).

**Layout** (after vLLM's ``entrypoints/openai``): this file is the routes, each a few lines;
``service.FuguService`` holds the state and runs a request; ``protocol`` declares the wire
models and ``rendering`` writes replies and streams in them; ``fallback`` is the best-first
policy over workers, ``admission`` the limits on requests and router passes, ``ultra`` the
Conductor's mode; ``connections`` the limits per connection (head deadline, cap, keep-alive)
under uvicorn; ``asgi`` is the body deadline and the cancellation on disconnect,
``parsing`` the strict body checks, ``fields`` what becomes of each request field,
``openapi`` the published schema, ``config`` the knobs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fugu.pools.base import Pool
from fugu.routing.base import Router
from fugu.serving.asgi import AppClock
from fugu.serving.config import ServeConfig
from fugu.serving.errors import APIError
from fugu.serving.openapi import ServerLimits, generation_docs, install_schema
from fugu.serving.protocol import ModelList
from fugu.serving.rendering import CHAT, RESPONSES
from fugu.serving.service import FuguService
from fugu.serving.ultra import Planner

__all__ = ["ServeConfig", "create_app"]


def service_of(request: Request) -> FuguService:
    """The app's service: the routes are module-level (one set for every app), the state is per app."""
    return request.app.state.service


async def authorize(request: Request) -> None:
    await service_of(request).authorize(request)


routes = APIRouter()
authorized = [Depends(authorize)]


@routes.get("/health", responses={200: {"description": "the server is up"}})
async def health(request: Request) -> dict[str, Any]:
    """Only ``{"status": "ok"}`` to anyone; with the valid key also the router and the served models."""
    return await service_of(request).health(request)


@routes.get("/v1/models", dependencies=authorized, response_model=ModelList)
async def models(request: Request) -> ModelList:
    return service_of(request).model_list()


@routes.get("/metrics", dependencies=authorized)
async def metrics(request: Request) -> dict[str, int]:
    return service_of(request).metrics()


@routes.post("/v1/chat/completions", dependencies=authorized, **generation_docs(
    "ChatCompletionRequest", "ChatCompletion",
    "a chat completion, or with stream: true server-sent chat.completion.chunk events"))
async def chat_completions(request: Request) -> Response:
    return await service_of(request).serve(request, CHAT)


@routes.post("/v1/responses", dependencies=authorized, **generation_docs(
    "ResponsesRequest", "ResponseObject", "a response object, or with stream: true server-sent response.* events"))
async def responses(request: Request) -> Response:
    return await service_of(request).serve(request, RESPONSES)


async def api_error(_: Request, exc: APIError) -> JSONResponse:
    return exc.response()


async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    """FastAPI's own 404 and 405 (with ``Allow``) in OpenAI's error shape, like every other error."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
    return APIError(exc.status_code, str(exc.detail), code=code, headers=dict(exc.headers or {})).response()


def create_app(router: Router, pool: Pool, config: ServeConfig, conductor: Planner | None = None) -> FastAPI:
    """The server: ``router`` scores ``pool.workers`` (in that order); ``conductor`` adds the
    ultra mode. See the module docstring."""
    service = FuguService(router, pool, config, conductor)
    app = FastAPI(title="OpenFugu", version="1", summary="One OpenAI-compatible model in front of a pool of models.")
    app.state.service, app.state.stats = service, service.stats
    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.include_router(routes)
    app.add_middleware(AppClock, stats=service.stats)
    install_schema(app, ServerLimits(secured=config.api_key is not None, honoured=service.supported,
                                     ultra_model=config.ultra_model if conductor is not None else None,
                                     max_tokens=config.max_tokens_limit))
    return app
