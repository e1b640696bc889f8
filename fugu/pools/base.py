"""The one interface every worker pool implements.

A *worker* is one model the orchestrator may call; a *pool* is the set on offer. The
coordinator never sees how a pool answers (recorded outcomes, a simulated skill matrix, an
HTTP API, a local model): it only picks worker names, so every pool is interchangeable.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from fugu.types import Message


class PoolError(RuntimeError):
    """A worker could not answer (unknown worker, no record, timeout, error reply)."""


@dataclass(frozen=True)
class Worker:
    name: str
    cost_per_call: float = 0.0
    cost_per_token: float = 0.0


@dataclass(frozen=True)
class Reply:
    worker: str
    text: str
    cost: float = 0.0
    latency_s: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)
    # Graded outcome where the pool knows it (replay: the recorded correctness; simulated:
    # the sampled success). None for pools that only produce text (APIs, local models).
    score: float | None = None
    # OpenAI-style tool calls the worker asked for ([{id, type, function: {name, arguments}}]),
    # and why it stopped ("stop", "length", "tool_calls"); pools that only produce text leave both.
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Piece:
    """One streamed increment of a reply: text, tool-call deltas (OpenAI chunk shape), and on
    the last piece the finish reason and, where the worker reports them, token counts."""
    text: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class Pool(Protocol):
    """Async so that a server or an executor can wait on several workers at once."""

    @property
    def workers(self) -> list[Worker]: ...

    async def answer(self, worker: str, messages: list[Message]) -> Reply: ...


# Optional, beyond the protocol (the server checks with getattr):
#   supported_options: frozenset[str]  the worker options (``fugu.serving.fields``) the pool honours;
#       a pool without it honours none, so a request that sets one is a 400 naming it;
#   answer(worker, messages, **options)  takes those fields as keyword arguments;
#   stream(worker, messages, **options) -> AsyncIterator[Piece]  relays the worker's stream
#       (without it the server sends the whole answer as it arrives, in pieces).


def answer_sync(pool: Pool, worker: str, messages: list[Message]) -> Reply:
    """``pool.answer`` from synchronous code (scripts, tests); not for use inside an event loop."""
    return asyncio.run(pool.answer(worker, messages))
