"""Admission: how much work the server takes on at once, so a flood degrades into fast refusals
and fallbacks rather than a queue that grows until every request times out.

Requests in flight (``Admission``): beyond ``max_concurrency`` a request is a 429 with
``Retry-After`` at once, not queued. Model passes (``PassLane``): the router's forward passes
and the Conductor's generations each run in a thread of their own, at most so many at once per
lane, each with a deadline (the router's lanes and their batching: ``fugu.serving.router_passes``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import time
from typing import Callable, Iterator, TypeVar

import numpy as np

from fugu.serving.errors import APIError

log = logging.getLogger(__name__)
T = TypeVar("T")


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


def in_thread(fn: Callable[[], T], name: str, on_end: Callable[[], None] | None = None) -> asyncio.Future:
    """``fn()`` in a new daemon thread of its own; its outcome as a future of the running loop.

    A thread per pass, not a shared executor: a pool's threads are shared with every other
    ``to_thread`` in the process, so a free slot could still queue behind them (head-of-line),
    and a pass that ends leaves no thread behind. ``on_end`` runs on the loop once ``fn`` has
    returned, whether or not anyone still awaits the future.
    """
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def ended(value: object, failed: bool) -> None:
        if on_end is not None:
            on_end()
        if not future.done():
            (future.set_exception if failed else future.set_result)(value)

    def body() -> None:
        try:
            value, failed = fn(), False
        except BaseException as exc:  # handed to the awaiting coroutine, raised there
            value, failed = exc, True
        with contextlib.suppress(RuntimeError):  # the loop has closed (the server stopped): nobody waits
            loop.call_soon_threadsafe(ended, value, failed)

    threading.Thread(target=body, name=name, daemon=True).start()
    return future


class PassRefused(Exception):
    """A lane did not run a pass to its end in time: ``busy`` (no slot) or ``timeout`` (it overran)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PassLane:
    """Passes of one kind (a router's forward pass, the Conductor's generation): at most
    ``concurrency`` at once, each in its own thread, each awaited until a deadline.

    A thread cannot be interrupted, so a pass that overruns keeps its slot until it ends (the
    caller may ask it to stop, ``abandon``): that is what keeps a flood of huge prompts from
    piling up passes. ``running`` counts the passes whose thread has not ended.

    A request that finds a slot free takes it at once. Otherwise, unqueued (``queue=False``), it
    is refused; queued, it waits for a slot within its deadline, and one that gets a slot with
    less of its deadline left than recent passes took (their median) does not start a pass: its
    result would come too late and be thrown away, and the requests queued behind it need that
    compute (measured: 64 clients on a 3-pass/s router with a 10 s deadline threw away over half
    the passes it started; benchmarks/serve_overhead.py). Only a request that waited is refused so:
    passes that overran their deadline (stopped plans, a loaded machine) would otherwise keep the
    median above it, and the lane would refuse every request for good.
    """

    RECENT_PASSES = 16

    def __init__(self, name: str, concurrency: int):
        self.name = name
        self._slots = asyncio.Semaphore(concurrency)
        self._recent_s: collections.deque[float] = collections.deque(maxlen=self.RECENT_PASSES)
        self.running = 0

    @property
    def free(self) -> bool:
        """Whether a pass started now would find a slot at once."""
        return not self._slots.locked()

    async def acquire(self, timeout_s: float, *, queue: bool = True) -> None:
        """A slot, held until the pass :meth:`start` runs in it ends; PassRefused ``busy`` when none
        can be had in time (at once when ``queue`` is False; see the class docstring)."""
        started = time.monotonic()
        if not self._slots.locked():
            await self._slots.acquire()  # free: taken at once, without yielding to the loop
            return
        if not queue:
            raise PassRefused("busy")
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout_s)
        except TimeoutError:
            raise PassRefused("busy") from None
        if self._recent_s and timeout_s - (time.monotonic() - started) < float(np.median(self._recent_s)):
            self._slots.release()
            raise PassRefused("busy")

    def release(self) -> None:
        """Give back a slot :meth:`acquire` took when no pass is to run in it after all."""
        self._slots.release()

    def start(self, fn: Callable[[], T]) -> asyncio.Future:
        """``fn()`` in a thread of its own, in the slot :meth:`acquire` took; the slot is freed when it ends."""
        pass_started = time.monotonic()

        def pass_ended() -> None:
            self.running -= 1
            self._recent_s.append(time.monotonic() - pass_started)
            self._slots.release()
        try:
            future = in_thread(fn, f"fugu-{self.name}", on_end=pass_ended)
        except BaseException:
            self._slots.release()
            raise
        self.running += 1
        return future

    async def run(self, fn: Callable[[], T], timeout_s: float, *, queue: bool = True,
                  abandon: Callable[[], None] | None = None) -> T:
        """``fn()``'s result within ``timeout_s``; PassRefused when it cannot be had in time. ``fn``'s
        own exception is raised as is. ``abandon`` is called when the caller stops waiting for a
        started pass (its deadline passed, or the caller was cancelled: the client left)."""
        started = time.monotonic()
        await self.acquire(timeout_s, queue=queue)
        future = self.start(fn)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(0.0, timeout_s - (time.monotonic() - started)))
        except TimeoutError:
            stop_waiting(future, abandon)
            raise PassRefused("timeout") from None
        except asyncio.CancelledError:
            stop_waiting(future, abandon)
            raise


def stop_waiting(future: asyncio.Future, abandon: Callable[[], None] | None) -> None:
    """Nobody awaits ``future`` any more: ask its pass to stop, and let its outcome go unread quietly."""
    if abandon is not None:
        abandon()
    future.add_done_callback(lambda done: done.cancelled() or done.exception())
