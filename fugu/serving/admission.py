"""Admission: how much work the server takes on at once, so a flood degrades into fast refusals
and fallbacks rather than a queue that grows until every request times out.

Two bounds. Requests in flight (``Admission``): beyond ``max_concurrency`` a request is a 429
with ``Retry-After`` at once, not queued. Router passes (``BoundedRouter``): at most
``router_concurrency`` at once, each with a deadline; a request the router cannot serve in
time is answered in the fallback order instead (``RouterUndecided`` says why).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from typing import Callable, Iterator

import numpy as np

from fugu.routing.base import Router
from fugu.serving.errors import APIError
from fugu.types import Message

log = logging.getLogger(__name__)


class Slot:
    """One admitted request's place in flight, released exactly once by whoever holds it last."""

    def __init__(self, admission: "Admission"):
        self._admission = admission
        self._held = True
        self.handed_off = False
        admission.in_flight += 1

    def release(self) -> None:
        if self._held:
            self._held = False
            self._admission.in_flight -= 1

    def hand_off(self) -> Callable[[], None]:
        """Pass the slot to something that outlives the handler (a stream): the handler's exit no
        longer frees it; calling the returned function does."""
        self.handed_off = True
        return self.release


class Admission:
    """At most ``limit`` requests in flight; one more gets a 429 carrying ``Retry-After``.

    A counter rather than a semaphore: a request beyond the limit is refused at once, since a
    client told to retry can back off or go elsewhere, while a queued one only waits.
    """

    def __init__(self, limit: int, retry_after_s: int, stats: collections.Counter):
        self.limit, self.retry_after_s, self.stats = limit, retry_after_s, stats
        self.in_flight = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[Slot]:
        """A slot for the with-block, freed when it ends unless handed off (``Slot.hand_off``)."""
        if self.in_flight >= self.limit:
            self.stats["rate_limited"] += 1
            raise APIError(429, "server busy: too many requests in flight; retry shortly", type="rate_limit_error",
                           code="rate_limit_exceeded", headers={"Retry-After": str(self.retry_after_s)})
        slot = Slot(self)
        try:
            yield slot
        finally:
            if not slot.handed_off:
                slot.release()


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
