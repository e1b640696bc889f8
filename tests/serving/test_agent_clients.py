"""Agent clients over real sockets: tool calling and real streaming through fugu and litellm.

openai client → fugu server → LiteLLMPool (litellm) → a local worker that emits tool calls
(``tool_worker``). The worker's tool calls come back as the client expects, the tool result
turn is accepted and answered; a streamed answer's first chunk reaches the client before the
worker has finished.
"""

from __future__ import annotations

import json
import time

import openai
import pytest

from fugu.pools.litellm_pool import LiteLLMPool, LiteLLMWorker
from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.worker_server import running
from tests.serving.tool_worker import STREAM_PAUSE_S, create_tool_worker

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "weather in a city",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


@pytest.fixture(scope="module")
def stack():
    worker = create_tool_worker()
    with running(worker) as worker_url:
        pool = LiteLLMPool([LiteLLMWorker(name="agent", model="openai/agent", api_base=f"{worker_url}/v1",
                                          api_key="local")], timeout_s=20)
        with running(create_app(PriorityRouter(["agent"]), pool, ServeConfig(worker_timeout_s=10))) as url:
            yield openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30), worker


def test_a_tool_calling_round_trip(stack):
    client, worker = stack
    question = {"role": "user", "content": "What is the weather in Tokyo?"}
    first = client.chat.completions.create(model="fugu-mini", messages=[question], tools=TOOLS,
                                           tool_choice="required", temperature=0.2, seed=7, stop=["END"])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Tokyo"}
    sent = worker.state.requests[-1]
    assert sent["tools"][0]["function"]["name"] == "get_weather" and sent["tool_choice"] == "required"
    assert sent["temperature"] == 0.2 and sent["seed"] == 7 and sent["stop"] == ["END"]

    second = client.chat.completions.create(model="fugu-mini", tools=TOOLS, messages=[
        question, choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 24 C"}])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "The tool said: sunny, 24 C"
    relayed = worker.state.requests[-1]["messages"]
    assert relayed[-1]["role"] == "tool" and relayed[-1]["tool_call_id"] == call.id
    assert relayed[1]["tool_calls"][0]["id"] == call.id
    assert second.usage.total_tokens > 0  # the worker sent no usage: fugu counted it


def test_streamed_tool_calls_arrive_as_deltas(stack):
    client, _ = stack
    chunks = list(client.chat.completions.create(model="fugu-mini", tools=TOOLS, stream=True,
                                                 messages=[{"role": "user", "content": "Weather in Tokyo?"}]))
    deltas = [c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    arguments = "".join(d[0].function.arguments or "" for d in deltas if d[0].function)
    assert deltas[0][0].function.name == "get_weather" and json.loads(arguments) == {"city": "Tokyo"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_the_first_streamed_chunk_arrives_before_the_worker_has_finished(stack):
    client, worker = stack
    started = time.monotonic()
    stream = client.chat.completions.create(model="fugu-mini", stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "Say hello."}])
    first_content_at = None
    text, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content and first_content_at is None:
            first_content_at = time.monotonic()
        text.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
        usage = chunk.usage or usage
    finished = worker.state.finished_at[-1]
    assert first_content_at is not None and first_content_at < finished - STREAM_PAUSE_S / 2
    assert first_content_at - started < STREAM_PAUSE_S
    assert "".join(text) == "Hello from the worker, streamed slowly."
    assert usage is not None and usage.completion_tokens > 0
    assert usage.model_extra.get("source") == "counted"  # the worker reported none: labelled
