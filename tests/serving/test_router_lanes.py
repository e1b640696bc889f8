"""Small requests never queue behind long ones for the router, over real sockets.

The router is a fake whose pass over a long prompt sleeps (``LONG_PASS_S``) and over a short one
does not, and whose ranking (``b`` first) differs from the fallback order (the pool's, ``a``
first): a reply from ``b`` is the router's decision, one from ``a`` the fallback order. With four
long prompts in flight, one long-lane slot and a deadline that admits two long passes, the long
prompts queue and fall back among themselves, while a small request sent meanwhile gets the
router's decision before even one long pass has ended — the bound this test states: a small
request's router decision waits for no long pass. (One lane, as before: it waited behind all
four and was answered in the fallback order.)
"""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np

from fugu.serving.app import ServeConfig, create_app
from fugu.serving.worker_server import running
from tests.serve_fixtures import ScriptedPool

LONG_TOKENS = 100        # the lanes' threshold
LONG_PASS_S = 2.0        # a long pass; the deadline admits two in a row
N_LONG = 4


class LengthSlowRouter:
    """Ranks ``b`` first; a pass over more than ``LONG_TOKENS`` words sleeps ``LONG_PASS_S``."""

    name = "length-slow"

    def __init__(self):
        self.long_passes_started = 0
        self.long_passes_ended = 0

    def prompt_tokens(self, conversation) -> int:
        return len(conversation[-1]["content"].split())

    def scores(self, conversations):
        if self.prompt_tokens(conversations[0]) > LONG_TOKENS:
            self.long_passes_started += 1
            time.sleep(LONG_PASS_S)
            self.long_passes_ended += 1
        return np.array([[0.0, 1.0]])


def ask(url: str, content: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", timeout=30,
                      json={"model": "fugu-mini", "messages": [{"role": "user", "content": content}]})


def wait_for(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_small_request_gets_the_routers_decision_while_long_prompts_hold_the_router():
    router = LengthSlowRouter()
    config = ServeConfig(router_timeout_s=2.5 * LONG_PASS_S, router_concurrency=1,
                         router_long_tokens=LONG_TOKENS, router_long_concurrency=1)
    app = create_app(router, ScriptedPool({"a": "fallback order", "b": "router's decision"}), config)
    with running(app) as url:
        long_replies: list[httpx.Response] = []
        senders = [threading.Thread(target=lambda: long_replies.append(ask(url, "word " * 4 * LONG_TOKENS)))
                   for _ in range(N_LONG)]
        for sender in senders:
            sender.start()
        assert wait_for(lambda: router.long_passes_started == 1), "no long pass started"
        small = ask(url, "What is 2 + 3?")
        long_passes_ended_before_small = router.long_passes_ended
        during = httpx.get(f"{url}/metrics").json()
        for sender in senders:
            sender.join()
        assert wait_for(lambda: httpx.get(f"{url}/metrics").json()["router_long_passes_running"] == 0)
        after = httpx.get(f"{url}/metrics").json()
    assert small.status_code == 200 and small.json()["choices"][0]["message"]["content"] == "router's decision"
    assert long_passes_ended_before_small == 0 and during["router_long_passes_running"] == 1
    assert [r.status_code for r in long_replies] == [200] * N_LONG
    assert after.get("router_busy", 0) + after.get("router_timeout", 0) >= 1  # the long ones fell back among themselves
    assert after["router_passes_running"] == 0
