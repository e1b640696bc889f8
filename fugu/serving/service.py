"""``FuguService``: one request from its body to its answer, over state held in one object.

The state a server keeps across requests lives here, explicitly: the pool and the router (its
passes bounded, ``fugu.serving.admission``), the config, the served modes by model name, the
fallback order, the requests in flight and the ``/metrics`` counters. The route functions
(``fugu.serving.app``) only hand requests to it.

A generation request is read and checked (``asgi``, ``parsing``), its model name picks the
mode, it is admitted, and then answered: ultra mode runs the Conductor's workflow
(``ultra``: its plan bounded like a router pass); routing, or ultra mode that gave no answer,
asks the router for an order (the fallback order when it cannot decide in time; a short prompt
never waits behind long ones, ``admission``) and tries the workers best-first
(``fallback``). The reply goes out in the endpoint's wire format (``rendering``), whole or as
one stream.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import secrets
import time
from typing import Any, AsyncIterator, Awaitable, Iterator, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from fugu.pools.base import Pool, Reply
from fugu.routing.base import Router, ranked
from fugu.serving.admission import Admission, PassLane
from fugu.serving.asgi import ClientGone, RelayResponse, read_body, unless_client_goes
from fugu.serving.config import ServeConfig
from fugu.serving.counting import cheap_to_count, count_tokens, count_usage
from fugu.serving.errors import APIError
from fugu.serving.fallback import AllWorkersFailed, OpenStream, answer_with_fallback, fallback_order, open_stream
from fugu.serving.fields import NotHonoured, worker_options
from fugu.serving.parsing import parse_request
from fugu.serving.protocol import ChatCompletionRequest, ModelCard, ModelList, ResponsesRequest, Usage, usage_from
from fugu.serving.rendering import Endpoint, StreamRenderer, counted_text
from fugu.serving.router_passes import BoundedRouter, RouterUndecided
from fugu.serving.ultra import NoWorkflow, Planner, conductor_reply
from fugu.types import Message

log = logging.getLogger(__name__)
T = TypeVar("T")
MODE_DESCRIPTIONS = {"route": "routing: the coordinator picks one worker per request",
                     "ultra": "Conductor: a workflow over the pool, its last step answers"}


def upstream_failed() -> APIError:
    """What the client learns when no worker answered: that, and not which workers failed how."""
    return APIError(502, "no worker produced an answer; retry later", type="server_error", code="upstream_failed")


class FuguService:
    """The serving state and the request path: ``router`` scores ``pool.workers`` (in that order);
    ``conductor`` adds the ultra mode."""

    def __init__(self, router: Router, pool: Pool, config: ServeConfig, conductor: Planner | None = None):
        self.workers = [w.name for w in pool.workers]
        if not self.workers:
            raise ValueError("the pool has no workers")
        self.fallback = fallback_order(self.workers, config.fallback_order)
        self.router, self.pool, self.config, self.conductor = router, pool, config, conductor
        self.supported = frozenset(getattr(pool, "supported_options", frozenset()))
        self.modes = {config.served_model: "route", **({config.ultra_model: "ultra"} if conductor is not None else {})}
        self.stats: collections.Counter[str] = collections.Counter()
        self.admission = Admission(config.max_concurrency, config.retry_after_s, self.stats)
        self.bounded = BoundedRouter(router, len(self.workers), config.router_timeout_s, config.router_concurrency,
                                     long_tokens=config.router_long_tokens,
                                     long_concurrency=config.router_long_concurrency,
                                     max_batch=config.router_max_batch, gather_s=config.router_batch_wait_ms / 1000,
                                     stats=self.stats)
        self.planning = PassLane("conductor", config.conductor_concurrency)
        count_tokens("")  # load the tokenizer now (seconds, once per process), not on a request's clock

    # --- the small endpoints -----------------------------------------------------------------

    async def authorize(self, request: Request) -> None:
        """401 unless the request carries the bearer key (compared in constant time); no key set: anyone."""
        if self.config.api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(),
                                                                    self.config.api_key.encode()):
            raise APIError(401, "Incorrect or missing API key: send 'Authorization: Bearer <key>'.",
                           code="invalid_api_key")

    async def health(self, request: Request) -> dict[str, Any]:
        """Only ``{"status": "ok"}`` to anyone (a load balancer has no key); with the valid key also
        the router and the served models."""
        if self.config.api_key is None:
            return {"status": "ok"}
        try:
            await self.authorize(request)
        except APIError:
            return {"status": "ok"}
        return {"status": "ok", "router": self.router.name, "models": list(self.modes)}

    def model_list(self) -> ModelList:
        return ModelList(data=[ModelCard(id=name, created=0, owned_by="openfugu", description=MODE_DESCRIPTIONS[mode])
                               for name, mode in self.modes.items()])

    def metrics(self) -> dict[str, int]:
        """Counters, and what runs now: requests in flight, and model passes whose thread is alive
        (a pass past its deadline still counts until it ends)."""
        running = {"router_passes_running": self.bounded.short.running,
                   "router_long_passes_running": self.bounded.long.running,
                   **({"conductor_passes_running": self.planning.running} if self.conductor is not None else {})}
        return {"in_flight": self.admission.in_flight, **running, **{k: self.stats[k] for k in sorted(self.stats)}}

    # --- a generation request ------------------------------------------------------------------

    async def serve(self, request: Request, endpoint: Endpoint) -> Response:
        """Read, check, admit and answer one request; the endpoint supplies the wire format."""
        try:
            with self.timed("read"):
                body = await read_body(request, self.config.max_body_bytes, self.config.body_timeout_s)
        except ClientGone:
            return self.client_gone("body")
        with self.timed("parse"):
            parsed = parse_request(body, endpoint.request, self.config.max_tokens_limit)
            mode, options = self.mode_and_options(parsed)
        with self.admission.slot() as slot:
            try:
                with self.timed("parse"):
                    conversation = parsed.conversation()
                if parsed.stream:
                    opened, path = await self.until_answered(request, self.open_relay(conversation, options, mode))
                    events = self.stream_events(opened, endpoint.stream(parsed), conversation)
                    return RelayResponse(events, on_close=slot.hand_off(), media_type="text/event-stream",
                                         on_client_gone=functools.partial(self.client_gone, "stream"),
                                         headers={"Cache-Control": "no-cache",
                                                  **self.debug_headers(opened.worker, path)})
                reply, path = await self.until_answered(request, self.answer(conversation, options, mode))
                with self.timed("render"):
                    usage = await self.usage_of(conversation, counted_text(reply.text, reply.tool_calls), reply.usage)
                    response = JSONResponse(endpoint.render(reply, parsed, usage),
                                            headers=self.debug_headers(reply.worker, path))
                self.stats["phase_requests"] += 1
                return response
            except ClientGone:
                return self.client_gone("answer")

    def client_gone(self, phase: str) -> Response:
        """Count a client that hung up during ``phase`` (body, answer, stream): ``client_disconnected``
        in all, and ``client_disconnected_<phase>``; the 499 goes nowhere (nginx's code for it)."""
        self.stats["client_disconnected"] += 1
        self.stats[f"client_disconnected_{phase}"] += 1
        return Response(status_code=499)

    def mode_and_options(self, parsed: ChatCompletionRequest | ResponsesRequest) -> tuple[str, dict[str, Any]]:
        """The mode the model name selects and the worker options the request sets (``fields``):
        404 for a model not served; 400 naming a field its workers cannot honour (ultra mode
        honours none: a workflow's steps take no generation fields)."""
        if parsed.model not in self.modes:
            raise APIError(404, f"The model {parsed.model[:100]!r} does not exist; this server serves "
                                f"{sorted(self.modes)}.", code="model_not_found", param="model")
        mode = self.modes[parsed.model]
        try:
            options = worker_options(parsed, parsed.api, self.supported if mode == "route" else frozenset())
        except NotHonoured as refused:
            raise APIError(400, f"{refused.path}: not supported by {parsed.model!r} on this server (its workers "
                                "cannot honour it); remove the field", code="unsupported_parameter",
                           param=refused.path) from None
        return mode, options

    async def until_answered(self, request: Request, work: Awaitable[T]) -> T:
        """``work`` within the request deadline (504 past it), cancelled if the client goes (ClientGone)."""
        return await unless_client_goes(request, self.deadline(work))

    async def deadline(self, work: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(work, self.config.request_timeout_s)
        except TimeoutError:
            raise APIError(504, f"no answer within {self.config.request_timeout_s:g}s", type="server_error",
                           code="timeout") from None

    async def answer(self, conversation: list[Message], options: dict[str, Any], mode: str) -> tuple[Reply, str]:
        """The reply and which path produced it: ``route``, ``workflow`` (ultra mode's plan ran) or
        ``routing_fallback`` (ultra mode, but the plan failed and routing answered). Counted in
        /metrics as ``answered_by_<path>``; named per response only with the debug flag."""
        if mode == "ultra":
            try:
                return await conductor_reply(self.conductor, self.planning, self.pool, conversation,
                                             self.config), self.answered("workflow")
            except NoWorkflow as why:
                self.stats[why.reason] += 1
                log.warning("ultra mode gave no answer (%s); routing instead", why)
            except Exception:
                self.stats["workflow_failed"] += 1
                log.exception("ultra mode failed; routing instead")
        path = "routing_fallback" if mode == "ultra" else "route"
        with self.timed("router"):
            order = await self.order_for(conversation)
        try:
            with self.timed("workers"):
                reply = await answer_with_fallback(self.pool, order, conversation, self.config.worker_timeout_s,
                                                   options)
        except AllWorkersFailed as exc:
            log.warning("all %d workers failed: %s", len(order), exc)
            raise upstream_failed() from None
        return reply, self.answered(path)

    async def open_relay(self, conversation: list[Message], options: dict[str, Any],
                         mode: str) -> tuple[OpenStream, str]:
        """A stream past its first piece, and its path. Ultra mode streams the finished workflow
        answer: a workflow's last step is known only when it has run."""
        if mode == "ultra":
            reply, path = await self.answer(conversation, options, mode)
            return OpenStream.of_reply(reply), path
        order = await self.order_for(conversation)
        try:
            opened = await open_stream(self.pool, order, conversation, self.config.worker_timeout_s, options)
        except AllWorkersFailed as exc:
            log.warning("all %d workers failed before their first piece: %s", len(order), exc)
            raise upstream_failed() from None
        return opened, self.answered("route")

    async def stream_events(self, opened: OpenStream, renderer: StreamRenderer,
                            conversation: list[Message]) -> AsyncIterator[str]:
        """The one streaming path: the renderer's events around the relayed pieces. A worker that
        breaks after its first piece is past the fallback point, so the break is said in-band."""
        for event in renderer.opening():
            yield event
        try:
            async for piece in opened.pieces(self.config.worker_timeout_s):
                for event in renderer.piece(piece):
                    yield event
        except Exception as exc:
            self.stats["stream_broken"] += 1
            log.warning("stream from %s broke after its first piece: %s: %s", opened.worker, type(exc).__name__, exc)
            yield renderer.interrupted()
            return
        async for event in renderer.closing(functools.partial(self.usage_of, conversation)):
            yield event

    async def order_for(self, conversation: list[Message]) -> list[str]:
        """The workers to try, best first: the router's ranking, or the fallback order when it cannot decide."""
        try:
            scores = await self.bounded.scores(conversation)
        except RouterUndecided as why:
            self.stats[why.reason] += 1
            log.warning("router could not decide (%s); answering in the fallback order", why.reason)
            return self.fallback[: self.config.max_attempts]
        return [self.workers[i] for i in ranked(scores)][: self.config.max_attempts]

    @contextlib.contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Wall microseconds spent in ``phase``, summed in /metrics as ``phase_us_<phase>`` (read, parse,
        router, workers, render; ``phase_requests`` counts the answered non-streaming requests): the
        itemised cost of a request, read at 1 client by benchmarks/serve_overhead.py. Two more clocks
        sit inside and around these: ``phase_us_router_pass`` (the router's own compute within
        ``router``, ``fugu.serving.batching``) and ``phase_us_app`` (the whole request in the app,
        ``fugu.serving.asgi.AppClock``)."""
        started = time.perf_counter_ns()
        try:
            yield
        finally:
            self.stats[f"phase_us_{phase}"] += (time.perf_counter_ns() - started) // 1000

    def answered(self, path: str) -> str:
        self.stats[f"answered_by_{path}"] += 1
        return path

    async def usage_of(self, conversation: list[Message], text: str, counts: dict[str, int]) -> Usage:
        """The worker's token counts, else counted with a tokenizer and labelled ``source: "counted"``."""
        worker_usage = usage_from(counts)
        if worker_usage is not None:
            return worker_usage
        self.stats["usage_counted"] += 1
        counted = count_usage(conversation, text) if cheap_to_count(conversation, text) else \
            await asyncio.to_thread(count_usage, conversation, text)
        return Usage(prompt_tokens=counted["prompt_tokens"], completion_tokens=counted["completion_tokens"],
                     total_tokens=counted["prompt_tokens"] + counted["completion_tokens"], source="counted")

    def debug_headers(self, worker: str, path: str) -> dict[str, str]:
        return {"X-Fugu-Worker": worker, "X-Fugu-Path": path} if self.config.expose_worker else {}
