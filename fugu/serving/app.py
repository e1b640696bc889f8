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
import secrets
from typing import Any, AsyncIterator, Awaitable, Callable

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from fugu.pools.base import Pool, Reply
from fugu.routing.base import Router, ranked
from fugu.serving.admission import BoundedRouter, RouterUndecided
from fugu.serving.asgi import ClientGone, RelayResponse, read_body, unless_client_goes
from fugu.serving.config import ServeConfig
from fugu.serving.counting import count_tokens, count_usage
from fugu.serving.errors import APIError
from fugu.serving.fallback import AllWorkersFailed, OpenStream, answer_with_fallback, fallback_order, open_stream
from fugu.serving.openapi import generation_docs, install_schema
from fugu.serving.parsing import parse_request
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
    OutputMessage,
    OutputText,
    ResponseObject,
    ResponsesRequest,
    ResponseUsage,
    ToolCallDelta,
    Usage,
    completion_id,
    error_body,
    finish_reason,
    message_id,
    now,
    response_id,
    usage_from,
)
from fugu.serving.ultra import Planner, conductor_reply
from fugu.types import Message

__all__ = ["BoundedRouter", "RouterUndecided", "ServeConfig", "create_app"]

log = logging.getLogger("fugu.serving.app")



def create_app(router: Router, pool: Pool, config: ServeConfig, conductor: Planner | None = None) -> FastAPI:
    """The server: ``router`` scores ``pool.workers`` (in that order); ``conductor`` adds the
    ultra mode. See the module docstring."""
    workers = [w.name for w in pool.workers]
    if not workers:
        raise ValueError("the pool has no workers")
    fallback = fallback_order(workers, config.fallback_order)
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
            return OpenStream.of_reply(reply), path
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
        body = await read_body(request, config.max_body_bytes, config.body_timeout_s)
        parsed = parse_request(body, model_type, config.max_tokens_limit)
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
            async for piece in opened.pieces(config.worker_timeout_s):
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
            async for piece in opened.pieces(config.worker_timeout_s):
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

    @app.post("/v1/chat/completions", dependencies=[Depends(authorize)], **generation_docs(
        "ChatCompletionRequest", "ChatCompletion",
        "a chat completion, or with stream: true server-sent chat.completion.chunk events"))
    async def chat_completions(request: Request):
        return await serve_request(request, ChatCompletionRequest)

    @app.post("/v1/responses", dependencies=[Depends(authorize)], **generation_docs(
        "ResponsesRequest", "ResponseObject", "a response object, or with stream: true server-sent response.* events"))
    async def responses(request: Request):
        return await serve_request(request, ResponsesRequest)

    def upstream_failed() -> APIError:
        return APIError(502, "no worker produced an answer; retry later", type="server_error", code="upstream_failed")

    install_schema(app, secured=config.api_key is not None)
    return app


def response_usage(usage: Usage) -> ResponseUsage:
    return ResponseUsage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens,
                         total_tokens=usage.total_tokens, source=usage.source)


def reply_text(reply: Reply) -> str:
    return reply.text + "".join(json.dumps(c.get("function", {})) for c in reply.tool_calls or [])


