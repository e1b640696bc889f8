"""The router's deadline and slots: a pass that could not finish in time is not started."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from fugu.serving.router_passes import BoundedRouter, RouterUndecided

PASS_S, DEADLINE_S = 0.2, 0.3


class CountingSlowRouter:
    name = "slow"

    def __init__(self):
        self.passes = 0

    def scores(self, conversations):
        self.passes += 1
        time.sleep(PASS_S)
        return np.zeros((len(conversations), 2))


def test_a_request_left_less_deadline_than_a_pass_takes_does_not_start_one():
    router = CountingSlowRouter()

    async def scenario():
        bounded = BoundedRouter(router, n_workers=2, timeout_s=DEADLINE_S, concurrency=1)
        await bounded.scores([{"role": "user", "content": "first"}])  # one pass on record: 0.2 s
        # The second waits 0.2 s for the slot, then has 0.1 s left: refused at once, no pass run.
        return await asyncio.gather(bounded.scores([{"role": "user", "content": "a"}]),
                                    bounded.scores([{"role": "user", "content": "b"}]), return_exceptions=True)

    first, second = asyncio.run(scenario())
    assert first.shape == (2,)
    assert isinstance(second, RouterUndecided) and second.reason == "router_busy"
    assert router.passes == 2


def test_without_a_pass_on_record_a_slow_pass_is_started_and_times_out():
    router = CountingSlowRouter()
    bounded_timeout = PASS_S / 2

    async def scenario():
        bounded = BoundedRouter(router, n_workers=2, timeout_s=bounded_timeout, concurrency=1)
        with pytest.raises(RouterUndecided, match="router_timeout"):
            await bounded.scores([{"role": "user", "content": "first"}])

    asyncio.run(scenario())
    assert router.passes == 1


def test_a_lane_whose_passes_overran_still_runs_a_request_that_finds_a_slot_free():
    router = CountingSlowRouter()

    async def scenario():
        bounded = BoundedRouter(router, n_workers=2, timeout_s=PASS_S / 2, concurrency=1)
        for _ in range(3):  # each overruns (0.2 s against 0.1 s): the recent passes' median is past the deadline
            with pytest.raises(RouterUndecided, match="router_timeout"):
                await bounded.scores([{"role": "user", "content": "slow"}])
            while bounded.short.running:  # the overrun pass ends, freeing its slot
                await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert router.passes == 3  # each was started, none refused as busy for good
