"""The router behind a deadline: two lanes of batched passes, and why a request got no scores.

A request's conversation is scored in the short lane, or in the long lane when the router reads
more than ``long_tokens`` tokens of it, so a small prompt never waits for a slot behind long ones.
Each lane runs at most so many passes at once, and batches the requests queued for it
(``fugu.serving.batching``). A request the router cannot score in time is answered in the
fallback order instead (``RouterUndecided`` says why).
"""

from __future__ import annotations

import collections
import logging
import time
from typing import Callable

import numpy as np

from fugu.routing.base import Router
from fugu.serving.admission import PassLane, PassRefused, in_thread
from fugu.serving.batching import BatchedLane
from fugu.serving.counting import cheap_to_count
from fugu.types import Message

log = logging.getLogger(__name__)


class RouterUndecided(Exception):
    """The router gave no order in time (``reason``: router_timeout, router_busy, router_error)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BoundedRouter:
    """The router with a deadline and a bound on concurrent passes, and no lock across a pass.

    Two lanes, so a small request never waits behind long ones: a pass that reads more than
    ``long_tokens`` tokens (the router's own count, ``router.prompt_tokens``, of what it reads:
    at most its cap) runs in the long lane (``long_concurrency`` slots), any other in the short
    lane (``concurrency`` slots). Long prompts then queue, and fall back, among themselves; a
    short pass still shares the cores with the long ones running, but never waits for a slot
    behind them. A router that cannot count tokens (or ``long_tokens=None``) has the short lane only.
    A router that says it is ``instant`` (a fixed order: no model to run) is asked on the event
    loop, with no lane, thread or deadline around a table look-up.
    """

    def __init__(self, router: Router, n_workers: int, timeout_s: float, concurrency: int, *,
                 long_tokens: int | None = None, long_concurrency: int = 1, max_batch: int = 1,
                 gather_s: float = 0.0, stats: collections.Counter | None = None):
        self.router, self.n_workers, self.timeout_s = router, n_workers, timeout_s
        self.instant = bool(getattr(router, "instant", False))
        self.long_tokens = long_tokens
        stats = collections.Counter() if stats is None else stats
        self.short, self.long = (BatchedLane(PassLane(name, slots), router.scores, max_batch, gather_s, stats)
                                 for name, slots in (("router", concurrency), ("router-long", long_concurrency)))
        self._count_tokens: Callable[[list[Message]], int] | None = \
            getattr(router, "prompt_tokens", None) if long_tokens is not None else None

    async def lane_for(self, conversation: list[Message]) -> BatchedLane:
        """The long lane for a pass that reads more than ``long_tokens`` tokens, else the short one.
        Counted off the event loop (tokenising a capped 4,096-token prompt takes ~20 ms) unless the
        conversation is short (``fugu.serving.counting.cheap_to_count``); a conversation that cannot be
        counted goes to the short lane, where its pass says why."""
        if self._count_tokens is None:
            return self.short
        count = self._count_tokens
        try:
            tokens = count(conversation) if cheap_to_count(conversation) else \
                await in_thread(lambda: count(conversation), "fugu-router-count")
        except Exception:
            return self.short
        return self.long if tokens > self.long_tokens else self.short

    async def scores(self, conversation: list[Message]) -> np.ndarray:
        """[n_workers] scores within the deadline; under load in one pass with other waiting
        requests (``fugu.serving.batching``). RouterUndecided says why there are none."""
        started = time.monotonic()
        try:
            if self.instant:
                raw = self.router.scores([conversation])[0]
            else:
                lane = await self.lane_for(conversation)
                raw = await lane.scores(conversation, max(0.0, self.timeout_s - (time.monotonic() - started)))
        except PassRefused as why:
            raise RouterUndecided(f"router_{why.reason}") from None
        except Exception as exc:
            log.warning("router %r failed: %s: %s", self.router.name, type(exc).__name__, exc)
            raise RouterUndecided("router_error") from exc
        scores = np.asarray(raw, dtype=float)
        if scores.shape != (self.n_workers,) or not np.isfinite(scores).any():
            log.warning("router %r returned unusable scores of shape %s", self.router.name, list(scores.shape))
            raise RouterUndecided("router_error")
        return scores

