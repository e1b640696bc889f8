"""The fallback policy: try the workers best-first and answer with the first usable reply.

A worker that times out, raises, or returns an empty or garbled reply is skipped for the next
in the order; the caller gets one reply (or one open stream) or ``AllWorkersFailed`` listing
what went wrong with each, for the server log — never for the client, who must not learn the
pool. A stream can fall back only until its first piece of content: after that the client has
seen part of one worker's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from typing import Any, AsyncIterator, Sequence

from fugu.pools.base import Piece, Pool, Reply
from fugu.types import Message

# Control characters (other than tab/newline/CR) and U+FFFD mark a reply that was cut or
# mis-decoded on the way: such text is not worth returning when another worker could answer.
GARBLED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


class AllWorkersFailed(RuntimeError):
    """Every worker tried for a request failed; ``failures`` says how (for the server log)."""

    def __init__(self, failures: list[str]):
        super().__init__("; ".join(failures))
        self.failures = failures


def fallback_order(workers: Sequence[str], preferred: Sequence[str]) -> list[str]:
    """The order used when the router cannot decide: ``preferred`` first, then the rest of the pool."""
    unknown = [w for w in preferred if w not in workers]
    if unknown:
        raise ValueError(f"fallback_order names workers the pool lacks: {unknown}")
    return list(preferred) + [w for w in workers if w not in preferred]


def usable(reply: Reply | object) -> bool:
    """A reply worth returning: tool calls, or non-empty text that is not garbled."""
    if isinstance(reply, Reply):
        if reply.tool_calls:
            return True
        reply = reply.text
    return isinstance(reply, str) and bool(reply.strip()) and not GARBLED.search(reply)


def call_pool(pool: Pool, method: str, worker: str, conversation: list[Message], options: dict[str, Any]) -> Any:
    """``pool.<method>`` with the forwarded options (pools that take none are called without)."""
    return getattr(pool, method)(worker, conversation, **options) if options else \
        getattr(pool, method)(worker, conversation)


async def answer_with_fallback(pool: Pool, order: list[str], conversation: list[Message],
                               worker_timeout_s: float, options: dict[str, Any] | None = None) -> Reply:
    """The first usable reply of the workers in ``order``; AllWorkersFailed if none gives one."""
    failures = []
    for worker in order:
        try:
            reply = await asyncio.wait_for(call_pool(pool, "answer", worker, conversation, options or {}),
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

    @classmethod
    def of_reply(cls, reply: Reply) -> "OpenStream":
        """A finished reply as a stream (ultra mode's workflow answer, a pool that cannot stream)."""
        return cls(reply.worker, [], pieces_of(reply).__aiter__())

    async def pieces(self, gap_timeout_s: float) -> AsyncIterator[Piece]:
        """Every piece, the first ones included; TimeoutError when the worker stalls ``gap_timeout_s``."""
        for piece in self.first:
            yield piece
        while True:
            try:
                piece = await asyncio.wait_for(self.rest.__anext__(), gap_timeout_s)
            except StopAsyncIteration:
                return
            yield piece


async def open_stream(pool: Pool, order: list[str], conversation: list[Message], worker_timeout_s: float,
                      options: dict[str, Any]) -> OpenStream:
    """The first worker in ``order`` whose stream yields content; the ones that fail before it are skipped."""
    failures = []
    for worker in order:
        stream = call_pool(pool, "stream", worker, conversation, options).__aiter__() \
            if hasattr(pool, "stream") else None
        try:
            if stream is None:
                reply = await asyncio.wait_for(call_pool(pool, "answer", worker, conversation, options),
                                               worker_timeout_s)
                if not usable(reply):
                    failures.append(f"{worker}: unusable reply {reply.text!r:.80}")
                    continue
                stream = pieces_of(reply).__aiter__()
            first = await _up_to_content(stream, worker_timeout_s)
            return OpenStream(worker, first, stream)
        except (StopAsyncIteration, Exception) as exc:
            reason = "empty stream" if isinstance(exc, StopAsyncIteration) else \
                f"no first piece within {worker_timeout_s:g}s" if isinstance(exc, TimeoutError) else \
                f"{type(exc).__name__}: {exc}"
            failures.append(f"{worker}: {reason}")
            if stream is not None and hasattr(stream, "aclose"):
                with contextlib.suppress(Exception):
                    await stream.aclose()
    raise AllWorkersFailed(failures)


async def _up_to_content(stream: AsyncIterator[Piece], worker_timeout_s: float) -> list[Piece]:
    """The stream's pieces up to its first with content (role-only pieces carry nothing);
    ValueError when it finishes or garbles first, TimeoutError when a piece is late."""
    first: list[Piece] = []
    while True:
        piece = await asyncio.wait_for(stream.__anext__(), worker_timeout_s)
        first.append(piece)
        if piece.tool_calls or (piece.text and not GARBLED.search(piece.text)):
            return first
        if piece.text or piece.finish_reason:
            raise ValueError(f"stream ended or garbled before any content: {piece!r:.80}")
