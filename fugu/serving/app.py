"""Fugu as one model: an OpenAI-compatible server in front of a router and a pool.

Per request the router scores the conversation (so in a multi-turn exchange the choice is made
again at every step, with earlier assistant replies in the context), and the workers are tried
best-first (``fugu.routing.base.ranked``), at most ``max_attempts`` of them: a worker that
times out, raises, or returns an empty or garbled reply is skipped for the next. The client
sees one answer or one OpenAI-style error, and never which worker answered — the pool is
hidden unless the operator turns on ``expose_worker`` for debugging.

**When the router cannot decide.** The router runs off the event loop with a deadline of its
own (``router_timeout_s``) and at most ``router_concurrency`` forward passes at once (no global
lock: a pass that overruns keeps its slot until it ends, the request does not wait for it).
A request whose slot comes with less deadline left than recent passes took does not start
one (it would overrun). If it overruns, has no free slot in time, or fails, the request is answered in the
**fallback order**: ``fallback_order`` when the operator set one, else the pool's own order.
Each such request is counted (``router_timeout``, ``router_busy``, ``router_error`` in
``GET /metrics``) and logged. So a huge prompt costs at most its deadline and never blocks
small requests behind it.

**Modes by model name.** ``fugu-mini`` (``served_model``) routes; with a Conductor given,
``fugu-ultra`` (``ultra_model``) runs its workflow over the same pool (the last step's output
is the answer), falling back to routing when the plan does not parse or the run fails.

**Generation fields** (tools, tool_choice, response_format, stop, max_tokens, temperature,
top_p, seed, ...) are forwarded to the chosen worker when the pool says it honours them
(``pool.supported_options``); otherwise the request is a 400 naming the field. Tool calls and
``finish_reason: "tool_calls"`` come back in plain and streamed replies.

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
as a string or messages, ``instructions``, plain or streamed events), ``GET /v1/models``,
``GET /metrics`` (counters), ``GET /health`` (no auth: only ``{"status": "ok"}``; with the key
also the router and the models).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Protocol

import anyio
import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fugu.conductor.executor import execute
from fugu.pools.base import Piece, Pool, Reply
from fugu.routing.base import Router, ranked
from fugu.serving.counting import count_tokens, count_usage
from fugu.serving.protocol import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    ErrorBody,
    ModelCard,
    ModelList,
    OutputMessage,
    OutputText,
    ResponseObject,
    ResponsesRequest,
    ResponseUsage,
    ToolCallDelta,
    Usage,
    check_token_limit,
    completion_id,
    error_body,
    finish_reason,
    message_id,
    now,
    response_id,
    usage_from,
)
from fugu.types import Message

log = logging.getLogger("fugu.serving.app")

# Control characters (other than tab/newline/CR) and U+FFFD mark a reply that was cut or
# mis-decoded on the way: such text is not worth returning when another worker could answer.
_GARBLED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class ServeConfig:
    """Every serving knob, with its default; ``fugu serve``'s flags take their defaults from here."""
    served_model: str = "fugu-mini"      # the routing mode's model name
    ultra_model: str = "fugu-ultra"      # the Conductor mode's model name (listed when a Conductor is loaded)
    api_key: str | None = None           # bearer token; None = no auth ("" is refused: it is not "off")
    request_timeout_s: float = 60.0      # whole request, all attempts (a stream: until its first piece)
    worker_timeout_s: float = 30.0       # one worker attempt; a stream: the longest gap between pieces
    router_timeout_s: float = 10.0       # the router's own deadline; past it → fallback order
    router_concurrency: int = 2          # router forward passes at once; none free in time → fallback order
    body_timeout_s: float = 10.0         # the whole body must arrive within this → else 408
    max_attempts: int = 3                # workers tried per request, best-first
    max_concurrency: int = 64            # requests in flight; beyond it → 429
    retry_after_s: int = 1               # the Retry-After a 429 carries
    max_body_bytes: int = 1_000_000      # larger bodies → 413
    max_tokens_limit: int = 32_768       # larger max_tokens → 400
    expose_worker: bool = False          # debug only: name the worker in an X-Fugu-Worker header
    ultra_max_steps: int = 4             # ultra mode: the most steps a workflow may have
    ultra_time_budget_s: float = 30.0    # ultra mode: one workflow run, all steps
    fallback_order: tuple[str, ...] = () # when the router cannot decide; () = the pool's order

    def __post_init__(self) -> None:
        for name in ("request_timeout_s", "worker_timeout_s", "router_timeout_s", "router_concurrency",
                     "body_timeout_s", "max_attempts", "max_concurrency", "retry_after_s", "max_body_bytes",
                     "max_tokens_limit", "ultra_max_steps", "ultra_time_budget_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ServeConfig.{name} must be positive, got {getattr(self, name)!r}")
        if self.api_key is not None and not self.api_key.strip():
            raise ValueError("ServeConfig.api_key is empty: an empty key would not protect anything; "
                             "give a key, or None for no auth")
        if self.served_model == self.ultra_model:
            raise ValueError(f"served_model and ultra_model must differ, both are {self.served_model!r}")


class APIError(Exception):
    """An error the client gets as one OpenAI-style body with this status."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.message, self.type, self.code, self.param), status_code=self.status,
                            headers=self.headers)


class AllWorkersFailed(RuntimeError):
    """Every worker tried for a request failed; ``failures`` says how (for the server log)."""

    def __init__(self, failures: list[str]):
        super().__init__("; ".join(failures))
        self.failures = failures


class ClientGone(Exception):
    """The client disconnected before its answer was ready; its work was cancelled."""


def usable(reply: Reply | object) -> bool:
    """A reply worth returning: tool calls, or non-empty text that is not garbled."""
    if isinstance(reply, Reply):
        if reply.tool_calls:
            return True
        reply = reply.text
    return isinstance(reply, str) and bool(reply.strip()) and not _GARBLED.search(reply)


def _call_pool(pool: Pool, method: str, worker: str, conversation: list[Message], options: dict[str, Any]):
    """``pool.<method>`` with the forwarded options (pools that take none are called without)."""
    return getattr(pool, method)(worker, conversation, **options) if options else \
        getattr(pool, method)(worker, conversation)


async def answer_with_fallback(pool: Pool, order: list[str], conversation: list[Message],
                               worker_timeout_s: float, options: dict[str, Any] | None = None) -> Reply:
    """The first usable reply of the workers in ``order``; AllWorkersFailed if none gives one."""
    failures = []
    for worker in order:
        try:
            reply = await asyncio.wait_for(_call_pool(pool, "answer", worker, conversation, options or {}),
                                           worker_timeout_s)
        except TimeoutError:
            failures.append(f"{worker}: no reply within {worker_timeout_s:g}s")
            continue
        except Exception as exc:  # any worker failure, whatever the pool raises, means: try the next
            failures.append(f"{worker}: {type(exc).__name__}: {exc}")
            continue
        if usable(reply):
            return reply
        failures.append(f"{worker}: unusable reply {reply.text!r:.80}")
    raise AllWorkersFailed(failures)


async def pieces_of(reply: Reply) -> AsyncIterator[Piece]:
    """A whole reply as stream pieces (pools that cannot stream): words, tool calls, the finish."""
    for word in re.findall(r"\s*\S+\s*", reply.text) or ([reply.text] if reply.text else []):
        yield Piece(text=word)
    if reply.tool_calls:
        yield Piece(tool_calls=[{"index": i, **call} for i, call in enumerate(reply.tool_calls)])
    yield Piece(finish_reason=reply.finish_reason, usage=dict(reply.usage))


@dataclass
class OpenStream:
    """A worker stream that has produced its first piece: the fallback point is behind it."""
    worker: str
    first: list[Piece]
    rest: AsyncIterator[Piece]


async def open_stream(pool: Pool, order: list[str], conversation: list[Message], worker_timeout_s: float,
                      options: dict[str, Any]) -> OpenStream:
    """The first worker in ``order`` whose stream yields content; the ones that fail before it are skipped."""
    failures = []
    for worker in order:
        if hasattr(pool, "stream"):
            stream = _call_pool(pool, "stream", worker, conversation, options).__aiter__()
        else:
            stream = None
        try:
            if stream is None:
                reply = await asyncio.wait_for(_call_pool(pool, "answer", worker, conversation, options),
                                               worker_timeout_s)
                if not usable(reply):
                    failures.append(f"{worker}: unusable reply {reply.text!r:.80}")
                    continue
                stream = pieces_of(reply).__aiter__()
            first: list[Piece] = []
            while True:  # up to the first piece with content (role-only pieces carry nothing)
                piece = await asyncio.wait_for(stream.__anext__(), worker_timeout_s)
                first.append(piece)
                if piece.tool_calls or (piece.text and not _GARBLED.search(piece.text)):
                    return OpenStream(worker, first, stream)
                if piece.text or piece.finish_reason:
                    raise ValueError(f"stream ended or garbled before any content: {piece!r:.80}")
        except (StopAsyncIteration, Exception) as exc:
            reason = "empty stream" if isinstance(exc, StopAsyncIteration) else \
                f"no first piece within {worker_timeout_s:g}s" if isinstance(exc, TimeoutError) else \
                f"{type(exc).__name__}: {exc}"
            failures.append(f"{worker}: {reason}")
            if stream is not None and hasattr(stream, "aclose"):
                await _quietly(stream.aclose())
    raise AllWorkersFailed(failures)


async def _quietly(awaitable: Awaitable) -> None:
    try:
        await awaitable
    except Exception:
        pass


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


class RouterUndecided(Exception):
    """The router gave no order in time (``reason``: router_timeout, router_busy, router_error)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BoundedRouter:
    """The router with a deadline and a bound on concurrent passes, and no lock across a pass.

    A pass runs in a thread (routers may run a model); the request stops waiting at the
    deadline, but the thread cannot be interrupted, so its slot is freed only when it ends —
    which is what keeps a flood of huge prompts from piling up passes.

    A request that gets a slot with less of its deadline left than recent passes took (their
    median) does not start one: its result would come too late and be thrown away, and the
    requests queued behind it need that compute (measured: 64 clients on a 3-pass/s router with
    a 10 s deadline threw away over half the passes it started; benchmarks/serve_overhead.py).
    """

    RECENT_PASSES = 16

    def __init__(self, router: Router, n_workers: int, timeout_s: float, concurrency: int):
        self.router, self.n_workers, self.timeout_s = router, n_workers, timeout_s
        self._slots = asyncio.Semaphore(concurrency)
        self._recent_s: collections.deque[float] = collections.deque(maxlen=self.RECENT_PASSES)

    async def scores(self, conversation: list[Message]) -> np.ndarray:
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._slots.acquire(), self.timeout_s)
        except TimeoutError:
            raise RouterUndecided("router_busy") from None
        if self._recent_s and self.timeout_s - (time.monotonic() - started) < float(np.median(self._recent_s)):
            self._slots.release()
            raise RouterUndecided("router_busy")
        loop = asyncio.get_running_loop()
        pass_started = time.monotonic()
        try:
            future = loop.run_in_executor(None, self.router.scores, [conversation])
        except BaseException:
            self._slots.release()
            raise

        def pass_ended(_: asyncio.Future) -> None:
            self._recent_s.append(time.monotonic() - pass_started)
            self._slots.release()
        future.add_done_callback(pass_ended)
        try:
            raw = await asyncio.wait_for(asyncio.shield(future), max(0.0, self.timeout_s - (time.monotonic() - started)))
        except TimeoutError:
            raise RouterUndecided("router_timeout") from None
        except Exception as exc:
            log.warning("router %r failed: %s: %s", self.router.name, type(exc).__name__, exc)
            raise RouterUndecided("router_error") from exc
        scores = np.asarray(raw, dtype=float)
        if scores.shape != (1, self.n_workers) or not np.isfinite(scores).any():
            log.warning("router %r returned unusable scores of shape %s", self.router.name, list(scores.shape))
            raise RouterUndecided("router_error")
        return scores[0]


class RelayResponse(StreamingResponse):
    """A stream that stops (cancelling the worker's) the moment the client goes, then runs ``on_close``."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None], **kwargs):
        super().__init__(content, **kwargs)
        self._on_close = on_close

    async def __call__(self, scope, receive, send) -> None:
        try:
            async with anyio.create_task_group() as group:
                async def relay() -> None:
                    try:
                        await self.stream_response(send)
                    except OSError:
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(relay)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        finally:
            self._on_close()
            await _quietly(self.body_iterator.aclose())


async def until_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_client_goes(request: Request, work: Awaitable) -> Any:
    """``work``'s result; if the client disconnects first, ``work`` is cancelled and ClientGone raised."""
    task, watch = asyncio.ensure_future(work), asyncio.ensure_future(until_disconnect(request))
    try:
        done, _ = await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
    if task in done:
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    raise ClientGone


def create_app(router: Router, pool: Pool, config: ServeConfig, conductor: Planner | None = None) -> FastAPI:
    """The server: ``router`` scores ``pool.workers`` (in that order); ``conductor`` adds the
    ultra mode. See the module docstring."""
    workers = [w.name for w in pool.workers]
    if not workers:
        raise ValueError("the pool has no workers")
    unknown = [w for w in config.fallback_order if w not in workers]
    if unknown:
        raise ValueError(f"fallback_order names workers the pool lacks: {unknown}")
    fallback = list(config.fallback_order) + [w for w in workers if w not in config.fallback_order]
    supported = frozenset(getattr(pool, "supported_options", frozenset()))
    count_tokens("")  # load the tokenizer now (seconds, once per process), not on a request's clock
    app = FastAPI(title="OpenFugu", version="1",
                  summary="One OpenAI-compatible model in front of a pool of models.")
    app.state.stats = stats = collections.Counter()
    bounded = BoundedRouter(router, len(workers), config.router_timeout_s, config.router_concurrency)
    in_flight = 0
    modes = {config.served_model: "route", **({config.ultra_model: "ultra"} if conductor is not None else {})}

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
        return APIError(exc.status_code, str(exc.detail), code=code, headers=dict(exc.headers or {})).response()

    @app.get("/health", responses={200: {"description": "the server is up"}})
    async def health(request: Request) -> dict[str, Any]:
        """Only ``{"status": "ok"}`` to anyone; with the valid key also the router and the served models."""
        if config.api_key is None:
            return {"status": "ok"}
        try:
            await authorize(request)
        except APIError:
            return {"status": "ok"}
        return {"status": "ok", "router": router.name, "models": list(modes)}

    @app.get("/v1/models", dependencies=[Depends(authorize)], response_model=ModelList)
    async def models() -> ModelList:
        described = {"route": "routing: the coordinator picks one worker per request",
                     "ultra": "Conductor: a workflow over the pool, its last step answers"}
        return ModelList(data=[ModelCard(id=name, created=0, owned_by="openfugu", description=described[mode])
                               for name, mode in modes.items()])

    @app.get("/metrics", dependencies=[Depends(authorize)])
    async def metrics() -> dict[str, int]:
        return {"in_flight": in_flight, **{k: stats[k] for k in sorted(stats)}}

    def take_slot() -> Callable[[], None]:
        nonlocal in_flight
        if in_flight >= config.max_concurrency:
            stats["rate_limited"] += 1
            raise APIError(429, "server busy: too many requests in flight; retry shortly", type="rate_limit_error",
                           code="rate_limit_exceeded", headers={"Retry-After": str(config.retry_after_s)})
        in_flight += 1
        released = False

        def release() -> None:
            nonlocal in_flight, released
            if not released:
                released = True
                in_flight -= 1
        return release

    async def order_for(conversation: list[Message]) -> list[str]:
        try:
            scores = await bounded.scores(conversation)
        except RouterUndecided as why:
            stats[why.reason] += 1
            log.warning("router could not decide (%s); answering in the fallback order", why.reason)
            return fallback[: config.max_attempts]
        return [workers[i] for i in ranked(scores)][: config.max_attempts]

    async def answer(conversation: list[Message], options: dict[str, Any], mode: str) -> tuple[Reply, str]:
        """The reply and which path produced it: ``route``, ``workflow`` (ultra mode's plan ran) or
        ``routing_fallback`` (ultra mode, but the plan failed and routing answered). Counted in
        /metrics as ``answered_by_<path>``; named per response only with the debug flag."""
        if mode == "ultra":
            try:
                reply = await conductor_reply(conductor, pool, conversation, config)
            except Exception:
                log.exception("conductor failed; routing instead")
                reply = None
            if reply is not None:
                return reply, answered("workflow")
        path = "routing_fallback" if mode == "ultra" else "route"
        order = await order_for(conversation)
        try:
            return await answer_with_fallback(pool, order, conversation, config.worker_timeout_s, options), answered(path)
        except AllWorkersFailed as exc:
            log.warning("all %d workers failed: %s", len(order), exc)
            raise upstream_failed() from None

    def answered(path: str) -> str:
        stats[f"answered_by_{path}"] += 1
        return path

    async def open_relay(conversation: list[Message], options: dict[str, Any], mode: str) -> tuple[OpenStream, str]:
        if mode == "ultra":
            reply, path = await answer(conversation, options, mode)
            return OpenStream(reply.worker, [], pieces_of(reply).__aiter__()), path
        order = await order_for(conversation)
        try:
            return await open_stream(pool, order, conversation, config.worker_timeout_s, options), answered("route")
        except AllWorkersFailed as exc:
            log.warning("all %d workers failed before their first piece: %s", len(order), exc)
            raise upstream_failed() from None

    async def usage_of(conversation: list[Message], text: str, counts: dict[str, int]) -> Usage:
        worker_usage = usage_from(counts)
        if worker_usage is not None:
            return worker_usage
        stats["usage_counted"] += 1
        counted = await asyncio.to_thread(count_usage, conversation, text)
        return Usage(prompt_tokens=counted["prompt_tokens"], completion_tokens=counted["completion_tokens"],
                     total_tokens=counted["prompt_tokens"] + counted["completion_tokens"], source="counted")

    async def serve_request(request: Request, model_type: type[BaseModel]):
        """Read, check, admit and answer one request; the endpoint-specific part is the wire format."""
        body = await read_body(request, config)
        parsed = parse_request(body, model_type, config)
        if parsed.model not in modes:
            raise APIError(404, f"The model {parsed.model[:100]!r} does not exist; this server serves "
                                f"{sorted(modes)}.", code="model_not_found", param="model")
        mode, options = modes[parsed.model], parsed.options()
        refused = parsed.unsupported() or next((name for name in options if name not in supported), None) \
            or (next(iter(options), None) if mode == "ultra" else None)
        if refused:
            raise APIError(400, f"{refused}: not supported by {parsed.model!r} on this server (its workers "
                                "cannot honour it); remove the field", code="unsupported_parameter", param=refused)
        release = take_slot()
        handed_off = False
        try:
            conversation = parsed.conversation()
            if parsed.stream:
                opened, path = await unless_client_goes(request, deadline(open_relay(conversation, options, mode)))
                events = (chat_events if model_type is ChatCompletionRequest else response_events)(
                    opened, parsed, conversation)
                handed_off = True
                return RelayResponse(events, on_close=release, media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", **debug_headers(opened.worker, path)})
            reply, path = await unless_client_goes(request, deadline(answer(conversation, options, mode)))
            usage = await usage_of(conversation, reply_text(reply), reply.usage)
            body = (chat_completion if model_type is ChatCompletionRequest else response_object)(reply, parsed, usage)
            return JSONResponse(body, headers=debug_headers(reply.worker, path))
        except ClientGone:
            stats["client_disconnected"] += 1
            return Response(status_code=499)
        finally:
            if not handed_off:
                release()

    async def deadline(work: Awaitable) -> Any:
        try:
            return await asyncio.wait_for(work, config.request_timeout_s)
        except TimeoutError:
            raise APIError(504, f"no answer within {config.request_timeout_s:g}s", type="server_error",
                           code="timeout") from None

    def debug_headers(worker: str, path: str) -> dict[str, str]:
        return {"X-Fugu-Worker": worker, "X-Fugu-Path": path} if config.expose_worker else {}

    def chat_completion(reply: Reply, chat: ChatCompletionRequest, usage: Usage) -> dict[str, Any]:
        message = AssistantMessage(content=reply.text if reply.text or not reply.tool_calls else None,
                                   tool_calls=reply.tool_calls or None)
        finish = "tool_calls" if reply.tool_calls else finish_reason(reply.finish_reason)
        return ChatCompletion(id=completion_id(), created=now(), model=chat.model,
                              choices=[Choice(message=message, finish_reason=finish)],
                              usage=usage).model_dump(exclude_none=True)

    def response_object(reply: Reply, request: ResponsesRequest, usage: Usage) -> dict[str, Any]:
        return ResponseObject(id=response_id(), created_at=now(), model=request.model,
                              instructions=request.instructions,
                              output=[OutputMessage(id=message_id(), content=[OutputText(text=reply.text)])],
                              usage=response_usage(usage)).model_dump(exclude_none=True)

    async def relay_pieces(opened: OpenStream) -> AsyncIterator[Piece]:
        for piece in opened.first:
            yield piece
        while True:
            try:
                piece = await asyncio.wait_for(opened.rest.__anext__(), config.worker_timeout_s)
            except StopAsyncIteration:
                return
            yield piece

    async def chat_events(opened: OpenStream, chat: ChatCompletionRequest,
                          conversation: list[Message]) -> AsyncIterator[str]:
        """The relayed stream as OpenAI chunks: role, content/tool-call deltas, finish, [usage], [DONE]."""
        ident, created = completion_id(), now()

        def event(choices: list[ChunkChoice], **extra) -> str:
            chunk = ChatCompletionChunk(id=ident, created=created, model=chat.model, choices=choices, **extra)
            return f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"

        yield event([ChunkChoice(delta=Delta(role="assistant", content=""))])
        text, finish, counts, called = [], "stop", {}, False
        try:
            async for piece in relay_pieces(opened):
                if piece.text or piece.tool_calls:
                    text.append(piece.text + "".join(json.dumps(c.get("function", {})) for c in piece.tool_calls or []))
                    called = called or bool(piece.tool_calls)
                    deltas = [ToolCallDelta.model_validate(c) for c in piece.tool_calls] if piece.tool_calls else None
                    yield event([ChunkChoice(delta=Delta(content=piece.text or None, tool_calls=deltas))])
                finish = piece.finish_reason or finish
                counts = piece.usage or counts
        except Exception as exc:  # the worker broke mid-stream: too late to fall back, say so in-band
            stats["stream_broken"] += 1
            log.warning("stream from %s broke after its first piece: %s: %s", opened.worker, type(exc).__name__, exc)
            message = "the answer was interrupted upstream; retry the request"
            yield f"data: {json.dumps(error_body(message, 'server_error', 'upstream_interrupted'))}\n\n"
            return
        yield event([ChunkChoice(delta=Delta(), finish_reason="tool_calls" if called else finish_reason(finish))])
        if chat.stream_options and chat.stream_options.include_usage:
            usage = await usage_of(conversation, "".join(text), counts)
            yield event([], usage=usage)
        yield "data: [DONE]\n\n"

    async def response_events(opened: OpenStream, request: ResponsesRequest,
                              conversation: list[Message]) -> AsyncIterator[str]:
        """The relayed stream as Responses API events, created → deltas → completed."""
        ident, item_id, sequence = response_id(), message_id(), 0
        base = ResponseObject(id=ident, created_at=now(), status="in_progress", model=request.model, output=[],
                              instructions=request.instructions)

        def event(kind: str, **fields) -> str:
            nonlocal sequence
            sequence += 1
            return f"event: {kind}\ndata: {json.dumps({'type': kind, 'sequence_number': sequence, **fields})}\n\n"

        yield event("response.created", response=base.model_dump(exclude_none=True))
        yield event("response.in_progress", response=base.model_dump(exclude_none=True))
        item = {"type": "message", "id": item_id, "status": "in_progress", "role": "assistant", "content": []}
        yield event("response.output_item.added", output_index=0, item=item)
        part = {"type": "output_text", "text": "", "annotations": []}
        yield event("response.content_part.added", item_id=item_id, output_index=0, content_index=0, part=part)
        text, counts = [], {}
        try:
            async for piece in relay_pieces(opened):
                if piece.text:
                    text.append(piece.text)
                    yield event("response.output_text.delta", item_id=item_id, output_index=0, content_index=0,
                                delta=piece.text, logprobs=[])
                counts = piece.usage or counts
        except Exception as exc:
            stats["stream_broken"] += 1
            log.warning("stream from %s broke after its first piece: %s: %s", opened.worker, type(exc).__name__, exc)
            yield event("error", code="upstream_interrupted", message="the answer was interrupted upstream; retry",
                        param=None)
            return
        full = "".join(text)
        done_part = {"type": "output_text", "text": full, "annotations": []}
        yield event("response.output_text.done", item_id=item_id, output_index=0, content_index=0, text=full,
                    logprobs=[])
        yield event("response.content_part.done", item_id=item_id, output_index=0, content_index=0, part=done_part)
        message = OutputMessage(id=item_id, content=[OutputText(text=full)])
        yield event("response.output_item.done", output_index=0, item=message.model_dump())
        usage = await usage_of(conversation, full, counts)
        final = base.model_copy(update={"status": "completed", "output": [message], "usage": response_usage(usage)})
        yield event("response.completed", response=final.model_dump(exclude_none=True))

    error_responses = {status: {"model": ErrorBody, "description": text} for status, text in {
        400: "invalid request (names the field)", 401: "missing or wrong API key", 404: "unknown model",
        408: "the body did not arrive in time", 413: "body too large", 429: "too many requests in flight",
        502: "no worker produced an answer", 504: "no answer within the deadline"}.items()}
    error_responses[429]["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}

    @app.post("/v1/chat/completions", dependencies=[Depends(authorize)], responses={
        200: {"description": "a chat completion, or with stream: true server-sent chat.completion.chunk events",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}},
                          "text/event-stream": {"schema": {"type": "string"}}}},
        **error_responses}, openapi_extra=_json_body("ChatCompletionRequest"))
    async def chat_completions(request: Request):
        return await serve_request(request, ChatCompletionRequest)

    @app.post("/v1/responses", dependencies=[Depends(authorize)], responses={
        200: {"description": "a response object, or with stream: true server-sent response.* events",
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ResponseObject"}},
                          "text/event-stream": {"schema": {"type": "string"}}}},
        **error_responses}, openapi_extra=_json_body("ResponsesRequest"))
    async def responses(request: Request):
        return await serve_request(request, ResponsesRequest)

    def upstream_failed() -> APIError:
        return APIError(502, "no worker produced an answer; retry later", type="server_error", code="upstream_failed")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_schema(app, secured=config.api_key is not None)
        return app.openapi_schema

    app.openapi = openapi
    return app


def _json_body(component: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}}}}


def complete_schema(app: FastAPI, secured: bool) -> dict[str, Any]:
    """FastAPI's schema plus what it cannot infer from handlers that parse their own bodies:
    the request bodies, the response bodies, and (with a key) the bearer security scheme."""
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model, mode in ((ChatCompletionRequest, "validation"), (ResponsesRequest, "validation"),
                        (ChatCompletion, "serialization"), (ResponseObject, "serialization"),
                        (ModelList, "serialization"), (ErrorBody, "serialization")):
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
    if secured:
        schema["components"]["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        for path, operations in schema["paths"].items():
            if path.startswith("/v1/") or path == "/metrics":
                for operation in operations.values():
                    operation["security"] = [{"bearerAuth": []}]
    return schema


def response_usage(usage: Usage) -> ResponseUsage:
    return ResponseUsage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens,
                         total_tokens=usage.total_tokens, source=usage.source)


def reply_text(reply: Reply) -> str:
    return reply.text + "".join(json.dumps(c.get("function", {})) for c in reply.tool_calls or [])


async def read_body(request: Request, config: ServeConfig) -> bytes:
    """The request body within ``body_timeout_s`` (408), refusing (413) anything over ``max_body_bytes``."""
    limit = config.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise APIError(413, f"request body of {declared} bytes exceeds the limit of {limit}", code="body_too_large")

    async def read() -> bytes:
        body = bytearray()
        async for block in request.stream():
            body += block
            if len(body) > limit:
                raise APIError(413, f"request body exceeds the limit of {limit} bytes", code="body_too_large")
        return bytes(body)

    try:
        return await asyncio.wait_for(read(), config.body_timeout_s)
    except TimeoutError:
        raise APIError(408, f"the request body did not arrive within {config.body_timeout_s:g}s",
                       code="request_timeout") from None


def parse_request(body: bytes, model_type: type[BaseModel], config: ServeConfig):
    """A checked request, or a 400 APIError that names the offending field."""
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise APIError(400, f"the body is not valid JSON: {str(exc)[:200]}", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise APIError(400, "the body must be a JSON object", code="invalid_json")
    where = unencodable(payload)
    if where is not None:
        raise APIError(400, f"{where or 'body'}: text that is not valid Unicode (a lone surrogate escape such "
                            "as \\ud800); send UTF-8 text", code="invalid_value", param=where or None)
    try:
        parsed = model_type.model_validate(payload)
        check_token_limit(parsed, config.max_tokens_limit)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(part) for part in first["loc"]) or None
        raise APIError(400, f"{param or 'body'}: {first['msg']}"[:500], code="invalid_value", param=param) from None
    except ValueError as exc:
        raise APIError(400, str(exc), code="invalid_value", param=str(exc).split("=")[0]) from None
    return parsed


def unencodable(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The dotted path of the first string (key or value) UTF-8 cannot encode, or None."""
    if depth > MAX_JSON_DEPTH:
        return None
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and unencodable(key, here) is not None:
            return path or "body"
        found = unencodable(item, here, depth + 1)
        if found is not None:
            return found
    return None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
