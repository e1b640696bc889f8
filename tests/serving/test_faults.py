"""Broken workers: the request still succeeds via another worker; when all fail, one clear error.

The whole serving path runs over real sockets: openai client → fugu server → LiteLLMPool
(litellm) → the local worker server, whose scripted workers hang, fail with HTTP 500, or
send empty or garbled text.
"""

from __future__ import annotations

import contextlib
import time

import httpx
import openai
import pytest

from fugu.pools.litellm_pool import LiteLLMPool, LiteLLMWorker
from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.worker_server import create_worker_app, running
from tests.serve_fixtures import ScriptedPool

GOOD = "The answer is 72."
SCRIPTS = {"hangs": "hang", "fails-500": "error", "says-nothing": "empty", "garbles": "garbled", "good": GOOD}
WORKER_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def workers():
    """The scripted workers behind a real worker server; yields (worker server URL, its pool)."""
    pool = ScriptedPool(SCRIPTS)
    with running(create_worker_app(pool)) as url:
        yield url, pool


@contextlib.contextmanager
def fugu_in_front(worker_url: str, order: list[str], max_attempts: int = 5):
    pool = LiteLLMPool([LiteLLMWorker(name=w, model=f"openai/{w}", api_base=f"{worker_url}/v1", api_key="local")
                        for w in order], timeout_s=10)
    config = ServeConfig(worker_timeout_s=WORKER_TIMEOUT_S, max_attempts=max_attempts, request_timeout_s=20)
    with running(create_app(PriorityRouter(order), pool, config)) as url:
        yield openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)


def ask(client: openai.OpenAI) -> str:
    completion = client.chat.completions.create(model="fugu-mini", messages=[{"role": "user", "content": "What is 8 * 9?"}])
    return completion.choices[0].message.content


@pytest.mark.parametrize("broken", ["fails-500", "says-nothing", "garbles"])
def test_a_broken_worker_falls_back_to_the_next(workers, broken):
    url, pool = workers
    pool.calls.clear()
    with fugu_in_front(url, [broken, "good"]) as client:
        assert ask(client) == GOOD
    assert pool.calls == [broken, "good"]


def test_a_hanging_worker_times_out_and_falls_back(workers):
    url, pool = workers
    pool.calls.clear()
    with fugu_in_front(url, ["hangs", "good"]) as client:
        started = time.perf_counter()
        assert ask(client) == GOOD
        elapsed = time.perf_counter() - started
    assert pool.calls == ["hangs", "good"]
    assert WORKER_TIMEOUT_S <= elapsed < WORKER_TIMEOUT_S + 5


def test_every_kind_of_failure_in_one_request_still_answers(workers):
    url, pool = workers
    pool.calls.clear()
    order = ["fails-500", "says-nothing", "garbles", "good"]
    with fugu_in_front(url, order) as client:
        assert ask(client) == GOOD
    assert pool.calls == order


def test_when_all_workers_fail_the_client_gets_one_502_in_openai_format(workers):
    url, _ = workers
    with fugu_in_front(url, ["fails-500", "says-nothing", "hangs"]) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            ask(client)
        raw = httpx.post(f"{client.base_url}chat/completions",
                         json={"model": "fugu-mini", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    assert caught.value.status_code == 502
    assert raw.status_code == 502
    error = raw.json()["error"]
    assert error["type"] == "server_error" and error["code"] == "upstream_failed"
    assert not any(name in raw.text for name in SCRIPTS)  # the failures are logged, not sent


def test_attempts_are_bounded(workers):
    url, pool = workers
    pool.calls.clear()
    with fugu_in_front(url, ["fails-500", "says-nothing", "good"], max_attempts=2) as client:
        with pytest.raises(openai.APIStatusError):
            ask(client)
    assert pool.calls == ["fails-500", "says-nothing"]
