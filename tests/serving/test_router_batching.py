"""Batched router passes: under load the waiting requests share a pass, each gets its own decision,
a lone request is never delayed, and a bad row fails alone."""

from __future__ import annotations

import asyncio
import collections
import threading
import time

import numpy as np
import pytest

from fugu.serving.router_passes import BoundedRouter, RouterUndecided

PASS_S = 0.15


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def row_of(conversation) -> np.ndarray:
    """The scores a lone pass gives: a function of the conversation alone."""
    text = conversation[-1]["content"]
    return np.array([float(len(text)), float(sum(map(ord, text)) % 97)])


class RecordingRouter:
    """A slow router that records the size of every pass; a conversation saying "bad" breaks its pass."""
    name = "recording"

    def __init__(self):
        self.sizes: list[int] = []
        self.lock = threading.Lock()

    def scores(self, conversations):
        with self.lock:
            self.sizes.append(len(conversations))
        time.sleep(PASS_S)
        if any(c[-1]["content"] == "bad" for c in conversations):
            raise ValueError("a tokenisation failed")
        return np.stack([row_of(c) for c in conversations])


def bounded(router, n_workers: int = 2, **options) -> tuple[BoundedRouter, collections.Counter]:
    stats = collections.Counter()
    options = {"timeout_s": 5.0, "concurrency": 1, "max_batch": 16, "gather_s": 0.005, **options}
    return BoundedRouter(router, n_workers=n_workers, stats=stats, **options), stats


def test_requests_waiting_for_the_slot_share_one_pass_and_each_gets_its_own_row():
    router = RecordingRouter()
    texts = [f"question {'x' * i}" for i in range(8)]

    async def scenario():
        passes, _ = bounded(router)
        return await asyncio.gather(*(passes.scores(ask(t)) for t in texts))

    rows = asyncio.run(scenario())
    for text, row in zip(texts, rows):
        np.testing.assert_array_equal(row, row_of(ask(text)))
    assert router.sizes == [1, 7]  # the first found the slot free; the other seven waited and shared a pass


def test_without_batching_every_request_has_a_pass_of_its_own():
    router = RecordingRouter()

    async def scenario():
        passes, _ = bounded(router, max_batch=1)
        return await asyncio.gather(*(passes.scores(ask(f"q{i}")) for i in range(4)))

    asyncio.run(scenario())
    assert router.sizes == [1, 1, 1, 1]


def test_a_lone_request_is_not_delayed_by_the_gathering_window():
    router = RecordingRouter()

    async def scenario():
        passes, _ = bounded(router, gather_s=1.0)  # a window far longer than a pass
        started = time.monotonic()
        await passes.scores(ask("alone"))
        return time.monotonic() - started

    took = asyncio.run(scenario())
    assert router.sizes == [1]
    assert took < PASS_S + 0.5  # the 1 s window would show


def test_a_batch_holds_at_most_max_batch_rows():
    router = RecordingRouter()

    async def scenario():
        passes, _ = bounded(router, max_batch=3)
        return await asyncio.gather(*(passes.scores(ask(f"q{i}")) for i in range(10)))

    asyncio.run(scenario())
    assert router.sizes[0] == 1 and max(router.sizes) == 3 and sum(router.sizes) == 10


def test_a_row_that_breaks_its_batch_fails_alone_and_is_counted():
    router = RecordingRouter()
    texts = ["first", "good one", "bad", "good two"]

    async def scenario():
        passes, stats = bounded(router)
        results = await asyncio.gather(*(passes.scores(ask(t)) for t in texts), return_exceptions=True)
        return results, stats

    results, stats = asyncio.run(scenario())
    assert isinstance(results[2], RouterUndecided) and results[2].reason == "router_error"
    for i in (0, 1, 3):
        np.testing.assert_array_equal(results[i], row_of(ask(texts[i])))
    assert stats["router_batch_split"] == 1 and stats["router_batches"] == 1
    assert router.sizes == [1, 3, 1, 1, 1]  # the batch of three, then each of its rows alone


def test_a_queued_request_past_its_deadline_is_undecided_and_the_rest_are_served():
    router = RecordingRouter()

    async def scenario():
        passes, stats = bounded(router, timeout_s=PASS_S * 1.5)
        results = await asyncio.gather(*(passes.scores(ask(f"q{i}")) for i in range(3)), return_exceptions=True)
        return results, stats

    results, _ = asyncio.run(scenario())
    np.testing.assert_array_equal(results[0], row_of(ask("q0")))  # alone, within its deadline
    # The others would get the slot with half a pass of their deadline left: their pass is never started.
    assert [r.reason for r in results[1:]] == ["router_busy", "router_busy"]
    assert router.sizes == [1]


def test_metrics_count_batches_and_their_sizes():
    router = RecordingRouter()

    async def scenario():
        passes, stats = bounded(router)
        await asyncio.gather(*(passes.scores(ask(f"q{i}")) for i in range(5)))
        return stats

    stats = asyncio.run(scenario())
    assert stats["router_batch_size_1"] == 1 and stats["router_batch_size_4"] == 1
    assert stats["router_batches"] == 1 and stats["router_batched_requests"] == 4


@pytest.mark.parametrize("bad", [{"max_batch": 0}, {"gather_s": -0.001}])
def test_batching_settings_out_of_range_are_refused(bad):
    with pytest.raises(ValueError):
        bounded(RecordingRouter(), **bad)


def test_smollm2_scores_batched_as_alone_for_mixed_lengths_with_the_prefix_cache_on(smollm2_dir):
    """The real router: requests queued behind a pass and scored together get the scores (and so the
    decision) each gets alone, whatever the lengths mixed in the batch; the lone passes use the cache."""
    from fugu.models.backbone import load_backbone
    from fugu.trinity.coordinator import Trinity
    from fugu.trinity.router import TrinityRouter

    workers = ["alpha", "beta", "gamma", "delta"]
    trinity = Trinity.build(load_backbone(smollm2_dir), workers, ["solver", "critic"], [0], prefix_cache_mb=64)
    vector = np.random.default_rng(0).normal(0, 0.05, trinity.layout.size).astype(np.float32)
    router = TrinityRouter(trinity, vector, workers)
    texts = ["Hi.", "What is 17 times 23?", "Summarise: " + "the cat sat on the mat and looked around. " * 12,
             "Name three prime numbers larger than one hundred.", "Why is the sky blue? " * 5, "2+2?"]
    conversations = [ask(t) for t in texts]
    sizes: list[int] = []
    score = router.scores

    def recording(batch):
        sizes.append(len(batch))
        return score(batch)
    router.scores = recording

    async def scenario():
        passes, _ = bounded(router, n_workers=len(workers), timeout_s=60.0)
        return await asyncio.gather(*(passes.scores(c) for c in conversations))

    batched = np.stack(asyncio.run(scenario()))
    assert sizes == [1, len(texts) - 1]  # the mixed lengths went through one call
    alone = np.stack([score([c])[0] for c in conversations])
    np.testing.assert_allclose(batched, alone, atol=1e-4)
    assert (batched.argmax(axis=1) == alone.argmax(axis=1)).all()
    assert trinity.prefix_cache.hits > 0  # the lone passes re-read prompts through the cache


def test_metrics_itemise_a_request_into_its_phases():
    """/metrics sums each phase's wall time: a slow router shows in ``router``, a slow worker in ``workers``."""
    import httpx
    import openai

    from fugu.serving.app import ServeConfig, create_app
    from fugu.serving.worker_server import running
    from tests.serve_fixtures import ScriptedPool

    class SlowFirst:
        name = "slow-first"

        def scores(self, conversations):
            time.sleep(0.2)
            return np.zeros((len(conversations), 1))

    with running(create_app(SlowFirst(), ScriptedPool({"w": "ok"}), ServeConfig())) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)
        client.chat.completions.create(model="fugu-mini", messages=[{"role": "user", "content": "hi"}])
        counters = httpx.get(f"{url}/metrics").json()
    assert counters["phase_requests"] == counters["phase_app_requests"] == 1
    assert counters["phase_us_router"] >= counters["phase_us_router_pass"] >= 200_000  # the router's 0.2 s
    assert all(counters[f"phase_us_{p}"] < 200_000 for p in ("read", "parse", "workers", "render"))
    # the app's clock holds every phase (the pass inside the router's), and little else here
    phases = sum(counters[f"phase_us_{p}"] for p in ("read", "parse", "router", "workers", "render"))
    assert phases <= counters["phase_us_app"] < phases + 200_000


def test_the_pass_clock_charges_each_request_its_pass_and_not_the_wait_for_it():
    """``phase_us_router_pass``: a lone request its own pass; a batch's rows each the batch's pass."""
    router = RecordingRouter()

    async def scenario():
        passes, stats = bounded(router)
        await asyncio.gather(*(passes.scores(ask(f"q{i}")) for i in range(4)))  # 1 alone, then 3 in one pass
        return stats

    stats = asyncio.run(scenario())
    assert router.sizes == [1, 3]
    pass_us = PASS_S * 1e6
    # four requests each charged one pass; the three that queued are not charged their wait for the slot
    assert 4 * pass_us <= stats["phase_us_router_pass"] < 4 * pass_us + 4 * 0.05e6


class CountingRouter(RecordingRouter):
    """Records the thread that counted each prompt's tokens and that scored it."""

    def __init__(self):
        super().__init__()
        self.counted_in: list[str] = []

    def prompt_tokens(self, conversation) -> int:
        self.counted_in.append(threading.current_thread().name)
        return len(conversation[-1]["content"].split())


def test_a_short_prompt_is_counted_on_the_event_loop_and_a_long_one_in_a_thread():
    """Handing a one-line question to a thread costs more than tokenising it; a long one is not."""
    router = CountingRouter()

    async def scenario():
        passes, _ = bounded(router, long_tokens=512)
        await passes.scores(ask("What is 2 + 2?"))
        await passes.scores(ask("word " * 200))  # 1,000 characters: counted off the loop
        return threading.current_thread().name

    loop_thread = asyncio.run(scenario())
    assert router.counted_in == [loop_thread, "fugu-router-count"]


def test_an_instant_router_is_asked_on_the_event_loop_without_a_lane():
    """A fixed order (``instant``) needs no thread, lane or deadline; its scores are checked as any."""
    from fugu.routing.priority import PriorityRouter

    class Recorded(PriorityRouter):
        def scores(self, conversations):
            self.thread = threading.current_thread().name
            return super().scores(conversations)

    router = Recorded(["a", "b"], order=["b", "a"])

    async def scenario():
        passes, stats = bounded(router)
        return await passes.scores(ask("hi")), stats, threading.current_thread().name

    scores, stats, loop_thread = asyncio.run(scenario())
    assert list(scores) == [1.0, 2.0] and router.thread == loop_thread
    assert not any(key.startswith("router_batch_size") for key in stats)  # no pass was run in a lane
