"""Every request field of both endpoints is decided by one table (``fugu.serving.fields``):
forwarded to the worker in litellm's form, or a 400 ``unsupported_parameter`` naming it.

The table covers every parameter of the installed ``openai`` client (so a field added upstream
cannot be dropped silently), the wire models declare every row they forward or refuse, and
over real sockets (openai client or httpx → fugu → LiteLLMPool → a local worker) the worker
receives what the client asked for, in chat's shape, or the client gets the 400.
"""

from __future__ import annotations

import inspect
import json
import typing

import httpx
import openai
import pytest
from openai.resources.chat.completions import Completions
from openai.resources.responses import Responses
from openai.types.responses import ResponseTextConfigParam
from openai.types.shared_params import Reasoning

from fugu.pools.litellm_pool import LiteLLMPool, LiteLLMWorker
from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.fields import FIELDS, IGNORED, SERVER
from fugu.serving.protocol import ChatCompletionRequest, ResponsesRequest
from fugu.serving.worker_server import running
from tests.serve_fixtures import ScriptedPool
from tests.serving.tool_worker import create_tool_worker

CLIENT_ONLY = {"self", "extra_headers", "extra_query", "extra_body", "timeout"}
WEATHER = {"type": "function", "name": "get_weather", "description": "weather in a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
SCHEMA_FORMAT = {"type": "json_schema", "name": "x", "schema": {"type": "object"}}


def client_parameters(method: typing.Callable) -> set[str]:
    return set(inspect.signature(method).parameters) - CLIENT_ONLY


def table_paths(api: str) -> set[str]:
    return {field.path(api) for field in FIELDS if field.path(api) is not None}


@pytest.mark.parametrize("api, method, nested", [
    ("chat", Completions.create, {}),
    ("responses", Responses.create, {"reasoning": Reasoning, "text": ResponseTextConfigParam}),
])
def test_the_table_covers_every_parameter_of_the_openai_client(api, method, nested):
    wanted = client_parameters(method) - set(nested)
    wanted |= {f"{name}.{key}" for name, typed in nested.items() for key in typed.__annotations__}
    assert wanted - table_paths(api) == set(), "add these to fugu.serving.fields.FIELDS"


@pytest.mark.parametrize("api, model", [("chat", ChatCompletionRequest), ("responses", ResponsesRequest)])
def test_every_forwarded_or_refused_field_is_declared_on_the_wire_model(api, model):
    """An undeclared field would be ignored by the model (extra="ignore"), so never forwarded or refused."""
    for field in FIELDS:
        path = field.path(api)
        if path is not None and field.becomes not in (IGNORED, SERVER):
            top, _, rest = path.partition(".")
            declared = {info.alias or key: info for key, info in model.model_fields.items()}
            assert top in declared, path
            if rest:
                nested = typing.get_args(declared[top].annotation)[0]
                assert rest in {info.alias or key for key, info in nested.model_fields.items()}, path


# --- over real sockets ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack():
    """fugu with a litellm pool (the priority router) in front of the local tool-calling worker."""
    worker = create_tool_worker()
    with running(worker) as worker_url:
        pool = LiteLLMPool([LiteLLMWorker(name="agent", model="openai/agent", api_base=f"{worker_url}/v1",
                                          api_key="local")], timeout_s=20)
        with running(create_app(PriorityRouter(["agent"]), pool, ServeConfig(worker_timeout_s=10))) as url:
            yield url, worker


def post(url: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{url}/v1/{path}", json=body, timeout=30)


def sent_to_worker(worker) -> dict:
    return worker.state.requests[-1]


def test_responses_text_format_reaches_the_worker_as_response_format(stack):
    url, worker = stack
    response = post(url, "responses", {"model": "fugu-mini", "input": "hi", "text": {"format": SCHEMA_FORMAT}})
    assert response.status_code == 200, response.text
    assert sent_to_worker(worker)["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}


@pytest.mark.parametrize("path, body", [
    ("responses", {"input": "hi", "reasoning": {"effort": "high"}}),
    ("chat/completions", {"messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "high"}),
])
def test_reasoning_effort_reaches_a_litellm_worker_from_either_endpoint(stack, path, body):
    url, worker = stack
    response = post(url, path, {"model": "fugu-mini", **body})
    assert response.status_code == 200, response.text
    assert sent_to_worker(worker)["reasoning_effort"] == "high"


def test_responses_function_tools_round_trip_through_the_worker(stack):
    """tools and tool_choice reach the worker in chat's shape; its call comes back as a
    ``function_call`` item, and the output sent back becomes a tool turn."""
    url, worker = stack
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)
    first = client.responses.create(model="fugu-mini", input="Weather in Tokyo?", tools=[WEATHER],
                                    tool_choice="required")
    sent = sent_to_worker(worker)
    assert sent["tool_choice"] == "required"
    assert sent["tools"] == [{"type": "function", "function": {k: v for k, v in WEATHER.items() if k != "type"}}]
    call = next(item for item in first.output if item.type == "function_call")
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Tokyo"}

    second = client.responses.create(model="fugu-mini", tools=[WEATHER], input=[
        {"role": "user", "content": "Weather in Tokyo?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}])
    assert second.output_text == "The tool said: sunny"
    turns = sent_to_worker(worker)["messages"]
    assert turns[1]["tool_calls"][0]["id"] == call.call_id
    assert turns[2] == {"role": "tool", "content": "sunny", "tool_call_id": call.call_id}


def test_responses_streamed_function_calls_arrive_as_items(stack):
    url, _ = stack
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)
    events = list(client.responses.create(model="fugu-mini", input="Weather?", tools=[WEATHER], stream=True))
    done = [e.item for e in events if e.type == "response.output_item.done" and e.item.type == "function_call"]
    assert [json.loads(item.arguments) for item in done] == [{"city": "Tokyo"}]
    assert events[-1].response.output[-1].name == "get_weather"


@pytest.mark.parametrize("body, named", [
    ({"top_logprobs": 5}, "top_logprobs"),
    ({"include": ["message.output_text.logprobs"]}, "include"),
    ({"text": {"verbosity": "low"}}, "text.verbosity"),  # litellm passes it only for models it knows
    ({"reasoning": {"summary": "auto"}}, "reasoning.summary"),
    ({"previous_response_id": "resp_1"}, "previous_response_id"),
    ({"conversation": "conv_1"}, "conversation"),
    ({"tools": [{"type": "web_search"}]}, "tools"),
])
def test_a_responses_field_no_worker_honours_is_a_400_naming_it(stack, body, named):
    url, worker = stack
    before = len(worker.state.requests)
    response = post(url, "responses", {"model": "fugu-mini", "input": "hi", **body})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_parameter" and error["param"].startswith(named)
    assert len(worker.state.requests) == before


def test_responses_tool_choice_without_tools_is_a_400_naming_it(stack):
    url, _ = stack
    response = post(url, "responses", {"model": "fugu-mini", "input": "hi", "tool_choice": "required"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "tool_choice"


@pytest.mark.parametrize("part", [{"type": "input_image", "image_url": "https://example.com/a.png"},
                                  {"type": "input_file", "file_id": "file_1"}])
def test_a_non_text_part_on_responses_gets_the_text_only_400(stack, part):
    url, _ = stack
    body = {"model": "fugu-mini", "input": [{"role": "user", "content": [part]}]}
    response = post(url, "responses", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "text only" in error["message"] and error["param"] == "input.0.content"  # as chat names it


def test_reasoning_effort_is_refused_by_name_where_the_pool_cannot_take_it():
    app = create_app(PriorityRouter(["w0"]), ScriptedPool({"w0": "4"}), ServeConfig())
    with running(app) as url:
        chat = post(url, "chat/completions", {"model": "fugu-mini", "reasoning_effort": "low",
                                              "messages": [{"role": "user", "content": "hi"}]})
        responses = post(url, "responses", {"model": "fugu-mini", "input": "hi", "reasoning": {"effort": "low"}})
    assert chat.status_code == responses.status_code == 400
    assert chat.json()["error"]["param"] == "reasoning_effort"
    assert responses.json()["error"]["param"] == "reasoning.effort"
