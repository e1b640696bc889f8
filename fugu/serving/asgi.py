"""The ASGI plumbing a hostile or impatient client needs: a body deadline and size limit, and
work cancelled the moment the client disconnects.

Why by hand: FastAPI reads a body however slowly it arrives and keeps a handler running after
its client has gone, so a slow upload would hold a slot indefinitely and a client that hangs up
would leave its worker call (and its slot) busy until the worker answered. Here the body must
arrive within a deadline, and both a plain answer (``unless_client_goes``) and a stream
(``RelayResponse``) stop their worker as soon as ``http.disconnect`` arrives. A client that
hangs up while its body is still arriving is ``ClientGone`` too (Starlette's ``ClientDisconnect``
would reach uvicorn as "Exception in ASGI application", one traceback per hang-up). A 408 or 413
closes the connection: the rest of that body would otherwise keep it open, trickling in.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fugu.serving.errors import APIError

T = TypeVar("T")
CLOSE = {"Connection": "close"}  # h11 then closes after the response, unread body and all


class ClientGone(Exception):
    """The client disconnected before its answer was ready; its work was cancelled."""


async def read_body(request: Request, max_bytes: int, timeout_s: float) -> bytes:
    """The request body within ``timeout_s`` (408), refusing (413) anything over ``max_bytes``;
    ClientGone if the client hangs up first."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise APIError(413, f"request body of {declared} bytes exceeds the limit of {max_bytes}",
                       code="body_too_large", headers=CLOSE)

    async def read() -> bytes:
        body = bytearray()
        async for block in request.stream():
            body += block
            if len(body) > max_bytes:
                raise APIError(413, f"request body exceeds the limit of {max_bytes} bytes", code="body_too_large",
                               headers=CLOSE)
        return bytes(body)

    try:
        return await asyncio.wait_for(read(), timeout_s)
    except TimeoutError:
        raise APIError(408, f"the request body did not arrive within {timeout_s:g}s",
                       code="request_timeout", headers=CLOSE) from None
    except ClientDisconnect:
        raise ClientGone from None


async def until_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_client_goes(request: Request, work: Awaitable[T]) -> T:
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


class RelayResponse(StreamingResponse):
    """A stream that stops (cancelling the worker's) the moment the client goes, then runs
    ``on_client_gone`` (only if it went before the end) and ``on_close``."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None],
                 on_client_gone: Callable[[], None], **kwargs: Any):
        super().__init__(content, **kwargs)
        self._on_close, self._on_client_gone = on_close, on_client_gone

    async def __call__(self, scope, receive, send) -> None:
        finished = False
        try:
            async with anyio.create_task_group() as group:
                async def relay() -> None:
                    nonlocal finished
                    with contextlib.suppress(OSError):
                        await self.stream_response(send)
                        finished = True
                    group.cancel_scope.cancel()

                group.start_soon(relay)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
            if not finished:
                self._on_client_gone()
        finally:
            self._on_close()
            with contextlib.suppress(Exception):
                await self.body_iterator.aclose()


class AppClock:
    """A POST's whole time inside the app, summed into ``stats`` as ``phase_us_app`` (wall
    microseconds from the app's first look at the request to its last body byte handed to the
    HTTP server) over ``phase_app_requests``. What lies outside is the HTTP server's own parsing,
    the socket and the client: the serving benchmark itemises a request by the difference."""

    def __init__(self, app: ASGIApp, stats: collections.Counter):
        self.app, self.stats = app, stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter_ns()

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.stats["phase_us_app"] += (time.perf_counter_ns() - started) // 1000
                self.stats["phase_app_requests"] += 1

        await self.app(scope, receive, timed_send)
