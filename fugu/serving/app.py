"""Fugu as one model: an OpenAI-compatible chat endpoint in front of a router and a pool.

Per request the router scores the *whole* conversation (so in a multi-turn exchange the
choice is made again at every step, with earlier assistant replies in the context), and the
workers are tried best-first (``fugu.routers.ranked``), at most ``max_attempts`` of them: a
worker that times out, raises, or returns an empty or garbled reply is skipped for the next.
The client sees one answer or one OpenAI-style error, and never which worker answered —
the pool is hidden unless the operator turns on ``expose_worker`` for debugging.

Ultra mode (``conductor`` given): the Conductor writes a workflow for the query (the last user
message), the executor runs it over the same pool, and the last step's output is the answer.
A plan that does not parse, or a run that fails, falls back to the routed path above, so a
weak Conductor costs quality, never availability.

Endpoints: ``POST /v1/chat/completions`` (plain, or ``stream: true`` as server-sent events
in the OpenAI chunk format), ``GET /v1/models``, ``GET /health``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any, AsyncIterator, Protocol

import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fugu.serving.wire import (
    AssistantMessage, ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, Choice, ChunkChoice,
    Delta, ModelCard, ModelList, check_token_limit, completion_id, error_body, now, usage_from,
)
from fugu.conductor.executor import execute
from fugu.types import Message
from fugu.pools.base import Pool, Reply
from fugu.routing.base import Router, ranked

log = logging.getLogger("fugu.serving.app")

# Control characters (other than tab/newline/CR) and U+FFFD mark a reply that was cut or
# mis-decoded on the way: such text is not worth returning when another worker could answer.
_GARBLED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


@dataclass(frozen=True)
class ServeConfig:
    served_model: str = "fugu-mini"      # the one model name clients see
    api_key: str | None = None           # bearer token; None = no auth
    request_timeout_s: float = 60.0      # whole request, all attempts
    worker_timeout_s: float = 30.0       # one worker attempt
    max_attempts: int = 3                # workers tried per request, best-first
    max_concurrency: int = 64            # requests in flight; beyond it → 429
    max_body_bytes: int = 1_000_000      # larger bodies → 413
    max_tokens_limit: int = 32_768       # larger max_tokens → 400
    expose_worker: bool = False          # debug only: name the worker in an X-Fugu-Worker header
    ultra_max_steps: int = 4             # ultra mode: the most steps a workflow may have
    ultra_time_budget_s: float = 30.0    # ultra mode: one workflow run, all steps

    def __post_init__(self) -> None:
        for name in ("request_timeout_s", "worker_timeout_s", "max_attempts", "max_concurrency",
                     "max_body_bytes", "max_tokens_limit", "ultra_max_steps", "ultra_time_budget_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ServeConfig.{name} must be positive, got {getattr(self, name)!r}")


class APIError(Exception):
    """An error the client gets as one OpenAI-style body with this status."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.message, self.type, self.code, self.param), status_code=self.status)


class AllWorkersFailed(RuntimeError):
    """Every worker tried for a request failed; ``failures`` says how (for the server log)."""

    def __init__(self, failures: list[str]):
        super().__init__("; ".join(failures))
        self.failures = failures


def usable(text: object) -> bool:
    """A reply worth returning: non-empty text, not garbled."""
    return isinstance(text, str) and bool(text.strip()) and not _GARBLED.search(text)


async def route_scores(router: Router, conversation: list[Message], n_workers: int) -> np.ndarray:
    """The router's scores for one conversation, [n_workers]; off the event loop (routers may run a model)."""
    scores = np.asarray(await asyncio.to_thread(router.scores, [conversation]), dtype=float)
    if scores.shape != (1, n_workers):
        raise RuntimeError(f"router {router.name!r} returned scores of shape {list(scores.shape)}, expected [1, {n_workers}]")
    if not np.isfinite(scores).any():
        raise RuntimeError(f"router {router.name!r} gave no worker a finite score")
    return scores[0]


async def answer_with_fallback(pool: Pool, order: list[str], conversation: list[Message],
                               worker_timeout_s: float) -> Reply:
    """The first usable reply of the workers in ``order``; AllWorkersFailed if none gives one."""
    failures = []
    for worker in order:
        try:
            reply = await asyncio.wait_for(pool.answer(worker, conversation), worker_timeout_s)
        except TimeoutError:
            failures.append(f"{worker}: no reply within {worker_timeout_s:g}s")
            continue
        except Exception as exc:  # any worker failure, whatever the pool raises, means: try the next
            failures.append(f"{worker}: {type(exc).__name__}: {exc}")
            continue
        if usable(reply.text):
            return reply
        failures.append(f"{worker}: unusable reply {reply.text!r:.80}")
    raise AllWorkersFailed(failures)


class Planner(Protocol):
    """What ultra mode needs of a Conductor (``fugu.conductor.ultra.UltraConductor``)."""

    def plan(self, question: str, n_workers: int, max_steps: int): ...


async def conductor_reply(conductor: Planner, pool: Pool, conversation: list[Message],
                          config: ServeConfig) -> Reply | None:
    """The workflow's answer, or None (with the reason logged) when the plan or its run fails."""
    question = next((m["content"] for m in reversed(conversation) if m["role"] == "user"), None)
    if question is None:
        return None
    plan = await asyncio.to_thread(conductor.plan, question, len(pool.workers), config.ultra_max_steps)
    if plan.workflow is None:
        log.warning("conductor plan did not parse (%s); routing instead", plan.error)
        return None
    run = await execute(plan.workflow, pool, question, max_steps=config.ultra_max_steps,
                        time_budget_s=config.ultra_time_budget_s, max_attempts=config.max_attempts)
    if not run.ok or run.final_reply is None or not usable(run.answer):
        log.warning("conductor workflow failed (%s); routing instead", run.error or "unusable answer")
        return None
    return run.final_reply


def create_app(router: Router, pool: Pool, config: ServeConfig, conductor: Planner | None = None) -> FastAPI:
    """The server: ``router`` scores ``pool.workers`` (in that order); ``conductor`` turns on
    ultra mode. See the module docstring."""
    workers = [w.name for w in pool.workers]
    if not workers:
        raise ValueError("the pool has no workers")
    app = FastAPI(title="OpenFugu", summary="One OpenAI-compatible model in front of a pool of models.")
    in_flight = 0
    # Which path produced each answer: "route" (no conductor), "workflow" (ultra mode's plan ran)
    # or "routing_fallback" (ultra mode, but the plan failed and routing answered): in /health,
    # and per response in X-Fugu-Path only with the debug flag (expose_worker).
    answered_by = {"route": 0, "workflow": 0, "routing_fallback": 0}

    async def authorize(request: Request) -> None:
        if config.api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), config.api_key.encode()):
            raise APIError(401, "Incorrect or missing API key: send 'Authorization: Bearer <key>'.",
                           code="invalid_api_key")

    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return APIError(exc.status_code, str(exc.detail), code=code).response()

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": config.served_model, "router": router.name,
                "mode": "route" if conductor is None else "ultra", "answered_by": dict(answered_by)}

    @app.get("/v1/models", dependencies=[Depends(authorize)], response_model=ModelList)
    async def models() -> ModelList:
        return ModelList(data=[ModelCard(id=config.served_model, created=0, owned_by="openfugu")])

    @app.post("/v1/chat/completions", dependencies=[Depends(authorize)])
    async def chat_completions(request: Request):
        nonlocal in_flight
        chat = parse_request(await read_body(request, config.max_body_bytes), config)
        if in_flight >= config.max_concurrency:
            raise APIError(429, f"server busy: {config.max_concurrency} requests in flight; retry shortly",
                           type="rate_limit_error", code="rate_limit_exceeded")
        in_flight += 1
        try:
            reply, path = await asyncio.wait_for(_answer(chat.conversation()), config.request_timeout_s)
        except TimeoutError:
            raise APIError(504, f"no answer within {config.request_timeout_s:g}s", type="server_error",
                           code="timeout") from None
        finally:
            in_flight -= 1
        answered_by[path] += 1
        headers = {"X-Fugu-Worker": reply.worker, "X-Fugu-Path": path} if config.expose_worker else {}
        if chat.stream:
            include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
            return StreamingResponse(sse_chunks(reply, config.served_model, include_usage),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache", **headers})
        completion = ChatCompletion(id=completion_id(), created=now(), model=config.served_model,
                                    choices=[Choice(message=AssistantMessage(content=reply.text))],
                                    usage=usage_from(reply.usage))
        return JSONResponse(completion.model_dump(exclude_none=True), headers=headers)

    async def _answer(conversation: list[Message]) -> tuple[Reply, str]:
        if conductor is not None:
            try:
                reply = await conductor_reply(conductor, pool, conversation, config)
            except Exception:
                log.exception("conductor failed; routing instead")
                reply = None
            if reply is not None:
                return reply, "workflow"
        path = "route" if conductor is None else "routing_fallback"
        try:
            scores = await route_scores(router, conversation, len(workers))
        except Exception:
            log.exception("router failed")
            raise APIError(500, "the coordinator failed to route this request", type="server_error",
                           code="router_error") from None
        order = [workers[i] for i in ranked(scores)][: config.max_attempts]
        try:
            return await answer_with_fallback(pool, order, conversation, config.worker_timeout_s), path
        except AllWorkersFailed as exc:
            log.warning("all %d workers failed: %s", len(order), exc)
            raise APIError(502, f"no worker produced an answer ({len(order)} tried); retry later",
                           type="server_error", code="upstream_failed") from None

    return app


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything over ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise APIError(413, f"request body of {declared} bytes exceeds the limit of {limit}", code="body_too_large")
    body = bytearray()
    async for block in request.stream():
        body += block
        if len(body) > limit:
            raise APIError(413, f"request body exceeds the limit of {limit} bytes", code="body_too_large")
    return bytes(body)


def parse_request(body: bytes, config: ServeConfig) -> ChatCompletionRequest:
    """A checked request, or a 400/404 APIError that names the offending field."""
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise APIError(400, f"the body is not valid JSON: {str(exc)[:200]}", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise APIError(400, "the body must be a JSON object", code="invalid_json")
    try:
        chat = ChatCompletionRequest.model_validate(payload)
        check_token_limit(chat, config.max_tokens_limit)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(part) for part in first["loc"]) or None
        raise APIError(400, f"{param or 'body'}: {first['msg']}", code="invalid_value", param=param) from None
    except ValueError as exc:
        raise APIError(400, str(exc), code="invalid_value", param="max_tokens") from None
    if chat.model != config.served_model:
        raise APIError(404, f"The model {chat.model[:100]!r} does not exist; this server serves {config.served_model!r}.",
                       code="model_not_found", param="model")
    return chat


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


async def sse_chunks(reply: Reply, model: str, include_usage: bool) -> AsyncIterator[str]:
    """The answer as OpenAI chunks: role, one chunk per word, finish, [usage], [DONE]."""
    ident, created = completion_id(), now()

    def event(choices: list[ChunkChoice], **extra) -> str:
        chunk = ChatCompletionChunk(id=ident, created=created, model=model, choices=choices, **extra)
        return f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"

    yield event([ChunkChoice(delta=Delta(role="assistant", content=""))])
    for piece in re.findall(r"\s*\S+\s*", reply.text) or [reply.text]:
        yield event([ChunkChoice(delta=Delta(content=piece))])
    yield event([ChunkChoice(delta=Delta(), finish_reason="stop")])
    usage = usage_from(reply.usage)
    if include_usage and usage is not None:
        yield event([], usage=usage)
    yield "data: [DONE]\n\n"

