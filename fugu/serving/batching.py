"""Batched router passes: under load, the requests waiting for a router slot share one forward.

A lone request never waits: it finds its lane's slot free and runs its pass alone at once,
exactly as without batching. A request that finds every slot taken joins the lane's queue; when
a slot frees, the queued requests (at most ``max_batch``, oldest first) are scored by one call
of the router, after gathering for at most ``gather_s`` more for latecomers while the queue is
short of a full batch. The coordinator groups a batch's rows by length itself (rows padded to
within its ``pad_tolerance``: ``fugu.trinity.coordinator.Trinity.batches``), so one long prompt
does not make every short one pay for its padding.

Why: a router pass at batch 1 leaves most of a CPU's matmul rate unused, and at 64 clients a
pass per request queues them past their deadline (they are answered in the fallback order). Each
request still gets the decision it would have got alone (rows are independent: left padding
with real-token positions; tests compare batched and lone scores).

A batch that fails is retried row by row, so one bad request (say a tokenisation that fails)
fails alone and goes to the fallback order; the others keep their scores. Each request keeps
its own deadline: one past it stops waiting (``PassRefused``), the batch runs on for the rest.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from fugu.serving.admission import PassLane, PassRefused
from fugu.types import Conversation

ScoreBatch = Callable[[Sequence[Conversation]], np.ndarray]  # [batch] conversations -> [batch, n_workers]


@dataclass
class Waiting:
    """One queued request: its conversation, where its row goes, and until when anyone wants it."""
    conversation: Conversation
    row: asyncio.Future
    deadline: float
    queued_at: float = field(default_factory=time.monotonic)

    def wanted(self, now: float) -> bool:
        return not self.row.done() and now < self.deadline


Row = np.ndarray | BaseException  # a request's [n_workers] scores, or why it has none


@dataclass(frozen=True)
class PassResult:
    """A pass's rows (a row per conversation), whether the batch was split, and how long the
    router computed (wall microseconds in the pass's thread: the router pass itself, apart from
    the scheduling around it)."""
    rows: list[Row]
    split: bool
    compute_us: int


def score_rows(score: ScoreBatch, conversations: Sequence[Conversation]) -> PassResult:
    """One pass over ``conversations``, and when it fails one pass per row, so only the bad rows
    fail. Runs in the pass's thread."""
    started = time.perf_counter_ns()
    rows, split = _rows(score, conversations)
    return PassResult(rows, split, (time.perf_counter_ns() - started) // 1000)


def _rows(score: ScoreBatch, conversations: Sequence[Conversation]) -> tuple[list[Row], bool]:
    try:
        scores = np.asarray(score(conversations), dtype=float)
        if scores.ndim != 2 or scores.shape[0] != len(conversations):
            raise ValueError(f"the router returned scores of shape {list(scores.shape)} for {len(conversations)} rows")
        return list(scores), False
    except Exception as batch_error:
        if len(conversations) == 1:
            return [batch_error], False
    rows: list[Row] = []
    for conversation in conversations:
        try:
            rows.append(np.asarray(score([conversation]), dtype=float)[0])
        except Exception as row_error:
            rows.append(row_error)
    return rows, True


class BatchedLane:
    """A :class:`PassLane` of router passes whose queued requests are scored together.

    ``stats`` counts ``router_batches`` (passes of two or more rows), ``router_batched_requests``
    (rows in them), ``router_batch_size_<n>`` (passes of n rows, any n),
    ``router_batch_split`` (batches retried row by row after failing) and ``phase_us_router_pass``
    (the router's own compute, summed over the requests each pass served: a request's pass time,
    without the scheduling around it; the serving benchmark itemises a request by it)."""

    def __init__(self, lane: PassLane, score: ScoreBatch, max_batch: int, gather_s: float,
                 stats: collections.Counter):
        if max_batch < 1 or gather_s < 0:
            raise ValueError(f"max_batch must be >= 1 and gather_s >= 0, got {max_batch}, {gather_s}")
        self.lane, self.score, self.max_batch, self.gather_s, self.stats = lane, score, max_batch, gather_s, stats
        self._queue: list[Waiting] = []
        self._dispatcher: asyncio.Task | None = None

    @property
    def running(self) -> int:
        return self.lane.running

    async def scores(self, conversation: Conversation, timeout_s: float) -> np.ndarray:
        """[n_workers] scores for ``conversation`` within ``timeout_s``; PassRefused when not in time."""
        if self.max_batch == 1 or (self.lane.free and not self._queue):
            result = await self.lane.run(lambda: score_rows(self.score, [conversation]), timeout_s)
            self._count(1, result)
            return self._unwrap(result.rows[0])
        waiting = Waiting(conversation, asyncio.get_running_loop().create_future(), time.monotonic() + timeout_s)
        self._queue.append(waiting)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch())
        try:
            return self._unwrap(await asyncio.wait_for(asyncio.shield(waiting.row), timeout_s))
        except TimeoutError:
            raise PassRefused("timeout") from None
        finally:
            if not waiting.row.done():
                waiting.row.cancel()  # not started yet: the dispatcher drops it; started: its row goes unread

    @staticmethod
    def _unwrap(row: Row) -> np.ndarray:
        if isinstance(row, BaseException):
            raise row
        return row

    async def _dispatch(self) -> None:
        """While requests are queued: take a slot, gather, start one pass over the oldest wanted ones."""
        while True:
            now = time.monotonic()
            self._queue = [w for w in self._queue if w.wanted(now)]
            if not self._queue:
                return
            try:
                await self.lane.acquire(max(w.deadline for w in self._queue) - now)
            except PassRefused as refused:
                for w in self._queue:
                    if not w.row.done():
                        w.row.set_exception(PassRefused(refused.reason))
                self._queue.clear()
                return
            if self.gather_s and len(self._queue) < self.max_batch:
                await asyncio.sleep(self.gather_s)  # latecomers join the pass this slot starts
            now = time.monotonic()
            self._queue = [w for w in self._queue if w.wanted(now)]
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
            if not batch:
                self.lane.release()
                continue
            self._start(batch)

    def _start(self, batch: list[Waiting]) -> None:
        conversations = [w.conversation for w in batch]

        def deliver(done: asyncio.Future) -> None:
            if done.cancelled():
                return
            error = done.exception()
            result = PassResult([error] * len(batch), False, 0) if error is not None else done.result()
            self._count(len(batch), result)
            for waiting, row in zip(batch, result.rows):
                if not waiting.row.done():
                    waiting.row.set_result(row)

        self.lane.start(lambda: score_rows(self.score, conversations)).add_done_callback(deliver)

    def _count(self, size: int, result: PassResult) -> None:
        self.stats[f"router_batch_size_{size}"] += 1
        self.stats["phase_us_router_pass"] += size * result.compute_us
        if size > 1:
            self.stats["router_batches"] += 1
            self.stats["router_batched_requests"] += size
        if result.split:
            self.stats["router_batch_split"] += 1
