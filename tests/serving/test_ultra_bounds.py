"""Ultra mode is bounded like routing, over real sockets: the Conductor reads a capped window of a
huge question, its plan has a deadline and a slot bound of its own, and a plan whose deadline
passes or whose client leaves stops generating (its thread ends) while the request is routed.

The Conductor is the real ``UltraConductor`` over the tiny random backbone. Where a plan must be
slow, hooks on its model sleep before every forward pass and forbid the end-of-text token, so
its generation would run ``max_new_tokens`` steps (seconds) unless stopped; they also record
each pass's input length, which is how the tests see what the Conductor read and when it stopped.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx

from fugu.conductor.ultra import UltraConductor
from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.worker_server import running
from tests.serve_fixtures import ScriptedPool

WORKERS = {"a": "draft from a", "b": "final from b", "c": "routed answer from c"}
STEP_S = 0.05          # a slowed plan's forward pass
SLOW_NEW_TOKENS = 200  # so a slowed plan would take 10 s unless stopped


def conductor(policy_dir, max_new_tokens: int = 64, step_s: float = 0.0) -> tuple[UltraConductor, list[int]]:
    """The Conductor, and the input length of each of its forward passes as they happen."""
    planner = UltraConductor(policy_dir, max_new_tokens=max_new_tokens,
                             max_prompt_tokens=ServeConfig().conductor_max_tokens)
    passes: list[int] = []

    def before(module, args, kwargs):
        passes.append(kwargs["input_ids"].shape[1])
        time.sleep(step_s)

    def no_end_of_text(module, args, kwargs, output):
        output.logits[..., planner.tokenizer.eos_token_id] = float("-inf")

    planner.model.register_forward_pre_hook(before, with_kwargs=True)
    if step_s:
        planner.model.register_forward_hook(no_end_of_text, with_kwargs=True)
    return planner, passes


def app_with(planner, **config):
    pool = ScriptedPool(WORKERS)
    return create_app(PriorityRouter(list(WORKERS), ["c", "a", "b"]), pool, ServeConfig(**config), conductor=planner)


def ask(url: str, question: str = "What is 2 + 3?") -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", timeout=60,
                      json={"model": "fugu-ultra", "messages": [{"role": "user", "content": question}]})


def plan_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fugu-conductor")]


def wait_for(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_256_kb_question_is_answered_in_bounded_time_and_the_conductor_reads_at_most_its_cap(tiny_backbone_dir):
    planner, passes = conductor(tiny_backbone_dir)
    with running(app_with(planner)) as url:
        response = ask(url, "word " * 52_428 + "What is 2 + 3?")  # unbounded: 13,121 tokens read, a 504 at 60 s
        counts = httpx.get(f"{url}/metrics").json()
    assert response.status_code == 200, response.text
    assert 0 < passes[0] <= planner.max_prompt_tokens <= ServeConfig().conductor_max_tokens  # the prefill
    assert counts.get("answered_by_workflow", 0) + counts.get("answered_by_routing_fallback", 0) == 1
    assert counts["conductor_passes_running"] == 0


def test_the_conductor_keeps_the_end_of_a_long_question_and_its_prompt_frame(tiny_backbone_dir):
    planner, _ = conductor(tiny_backbone_dir)
    ids = planner.prompt_ids("x " * 400_000 + "the question's end", 3)
    text = planner.tokenizer.decode(ids)
    assert len(ids) <= planner.max_prompt_tokens
    assert text.startswith("Pool: 3 workers (0-2).\nQuestion: ") and text.endswith("the question's end\nWorkflow: ")
    short = planner.prompt_ids("What is 2 + 3?", 3)
    assert planner.tokenizer.decode(short) == "Pool: 3 workers (0-2).\nQuestion: What is 2 + 3?\nWorkflow: "


def test_a_plan_past_its_deadline_stops_generating_and_the_request_is_routed(tiny_backbone_dir):
    planner, passes = conductor(tiny_backbone_dir, max_new_tokens=SLOW_NEW_TOKENS, step_s=STEP_S)
    with running(app_with(planner, conductor_timeout_s=0.5)) as url:
        response = ask(url)
        assert wait_for(lambda: not plan_threads(), 2.0), "the plan's thread outlived its deadline"
        counts = httpx.get(f"{url}/metrics").json()
        stopped_at = len(passes)
        time.sleep(5 * STEP_S)
    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == WORKERS["c"]
    assert counts["conductor_timeout"] == 1 and counts["answered_by_routing_fallback"] == 1
    assert counts["conductor_passes_running"] == 0
    assert len(passes) == stopped_at < SLOW_NEW_TOKENS / 4  # stopped soon after 0.5 s, not at 200 tokens


def test_a_client_that_leaves_stops_its_plan(tiny_backbone_dir):
    planner, passes = conductor(tiny_backbone_dir, max_new_tokens=SLOW_NEW_TOKENS, step_s=STEP_S)
    body = json.dumps({"model": "fugu-ultra", "messages": [{"role": "user", "content": "What is 2 + 3?"}]}).encode()
    with running(app_with(planner, conductor_timeout_s=30)) as url:
        host, port = url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)))
        sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        assert wait_for(lambda: len(passes) >= 3), "the plan did not start"
        sock.close()
        assert wait_for(lambda: not plan_threads(), 3.0), "the plan's thread outlived its client"
        counts = httpx.get(f"{url}/metrics").json()
    assert counts["client_disconnected"] == 1 and counts["conductor_passes_running"] == 0
    assert len(passes) < SLOW_NEW_TOKENS / 2


def test_with_every_plan_slot_taken_an_ultra_request_is_routed_at_once(tiny_backbone_dir):
    planner, passes = conductor(tiny_backbone_dir, max_new_tokens=SLOW_NEW_TOKENS, step_s=STEP_S)
    with running(app_with(planner, conductor_concurrency=1, conductor_timeout_s=3.0)) as url:
        first: dict = {}
        holder = threading.Thread(target=lambda: first.update(response=ask(url)))
        holder.start()
        assert wait_for(lambda: len(passes) >= 2), "the first plan did not start"
        second = ask(url)
        during = httpx.get(f"{url}/metrics").json()
        holder.join()
        assert wait_for(lambda: not plan_threads(), 2.0), "the first plan's thread outlived its deadline"
        after = httpx.get(f"{url}/metrics").json()
    assert second.status_code == 200 and second.json()["choices"][0]["message"]["content"] == WORKERS["c"]
    assert during["conductor_busy"] == 1 and during["conductor_passes_running"] == 1  # routed while the plan ran
    assert first["response"].status_code == 200 and after["conductor_timeout"] == 1
    assert after["answered_by_routing_fallback"] == 2 and after["conductor_passes_running"] == 0
