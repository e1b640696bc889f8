"""One large prompt must not wedge the TRINITY server.

The tiny random TRINITY backbone routes over a real socket. A 990 KB prompt is answered or
refused within its deadline, and a small request sent at the same time is answered within
its normal time: the router reads a bounded window (the last ``max_tokens`` tokens), holds
no global lock, and has a deadline of its own.
"""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np

from fugu.models.backbone import load_backbone
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.worker_server import running
from fugu.trinity.coordinator import Trinity
from fugu.trinity.router import TrinityRouter
from tests.serve_fixtures import ScriptedPool

WORKERS = ["alpha", "beta"]
REQUEST_TIMEOUT_S = 20.0


def ask(url: str, content: str) -> tuple[int, float]:
    started = time.monotonic()
    response = httpx.post(f"{url}/v1/chat/completions", timeout=REQUEST_TIMEOUT_S + 10,
                          json={"model": "fugu-mini", "messages": [{"role": "user", "content": content}]})
    return response.status_code, time.monotonic() - started


def test_a_990_kb_prompt_does_not_hold_up_a_small_request(tiny_backbone_dir):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ["solver"], [1])
    vector = np.random.default_rng(0).normal(size=trinity.layout.size).astype(np.float32)
    router = TrinityRouter(trinity, vector, WORKERS)
    config = ServeConfig(request_timeout_s=REQUEST_TIMEOUT_S, router_timeout_s=5.0, max_body_bytes=1_000_000)
    app = create_app(router, ScriptedPool({"alpha": "A", "beta": "B"}), config)
    with running(app) as url:
        ask(url, "warm up")
        normal = min(ask(url, "What is 2 + 2?")[1] for _ in range(3))
        large: dict = {}
        worker = threading.Thread(target=lambda: large.update(zip(("status", "elapsed"), ask(url, "word " * 198_000))))
        worker.start()
        time.sleep(0.2)  # the large one is being read and routed
        status, small_elapsed = ask(url, "What is 3 + 4?")
        worker.join()
        counters = httpx.get(f"{url}/metrics").json()
    assert status == 200
    assert small_elapsed < normal + 3.0, (small_elapsed, normal, counters)
    assert large["status"] in (200, 413, 504) and large["elapsed"] < REQUEST_TIMEOUT_S + 2, (large, counters)


def test_the_router_reads_the_end_of_a_huge_conversation(tiny_backbone_dir):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ["solver"], [1])
    vector = np.random.default_rng(1).normal(size=trinity.layout.size).astype(np.float32)
    router = TrinityRouter(trinity, vector, WORKERS, max_tokens=64)
    tail = " ".join(f"token{i}" for i in range(200))
    started = time.monotonic()
    huge, other = router.scores([[{"role": "user", "content": "x " * 500_000 + tail}],
                                 [{"role": "user", "content": "completely different start " + tail}]])
    assert time.monotonic() - started < 10
    np.testing.assert_allclose(huge, other, rtol=1e-4, atol=1e-4)  # same last 64 tokens, same scores


def test_the_router_counts_the_tokens_a_pass_reads_at_most_its_cap(tiny_backbone_dir):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ["solver"], [1])
    router = TrinityRouter(trinity, np.zeros(trinity.layout.size, dtype=np.float32), WORKERS, max_tokens=64)
    assert router.prompt_tokens([{"role": "user", "content": "x " * 500_000}]) == 64
    assert 0 < router.prompt_tokens([{"role": "user", "content": "What is 2 + 2?"}]) < 64
