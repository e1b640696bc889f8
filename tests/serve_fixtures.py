"""Pools with scripted worker behaviour, for the server's fallback and fuzz tests."""

from __future__ import annotations

import asyncio

from fugu.pools.base import PoolError, Reply, Worker
from fugu.types import Message

HANG_S = 30.0  # longer than any worker timeout the tests set


class ScriptedPool:
    """Each worker does what its script says: ``hang``, ``error``, ``empty``, ``garbled``, or
    answers with the given text. ``calls`` records who was asked, in order."""

    def __init__(self, scripts: dict[str, str]):
        self.scripts = dict(scripts)
        self.calls: list[str] = []
        self.conversations: list[list[Message]] = []
        self.cancelled: list[str] = []  # workers whose call was cancelled (a client that hung up)

    @property
    def workers(self) -> list[Worker]:
        return [Worker(name) for name in self.scripts]

    async def answer(self, worker: str, messages: list[Message]) -> Reply:
        self.calls.append(worker)
        self.conversations.append(list(messages))
        script = self.scripts[worker]
        if script == "hang":
            try:
                await asyncio.sleep(HANG_S)
            except asyncio.CancelledError:
                self.cancelled.append(worker)
                raise
        if script == "error":
            raise PoolError(f"scripted failure of {worker}")
        if script == "empty":
            return Reply(worker=worker, text="")
        if script == "garbled":
            return Reply(worker=worker, text="\ufffd\ufffd\x00")
        return Reply(worker=worker, text=script, usage={"prompt_tokens": 3, "completion_tokens": 2})
