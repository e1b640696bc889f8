"""The OpenAI contract under hostile input and load, over real sockets, one test per contract defect found by fuzzing and hostile clients.

Strict types, ranges and enums; unencodable text; roles developer and tool; fields no worker
can honour named in a 400; 405 with Allow; 429 with Retry-After; a disconnecting client frees
its slot and cancels its worker; a stalled upload gets 408; usage always reported; the
Responses API plain and streamed; auth hardening; a complete /openapi.json.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import openai
import pytest

from fugu.cli import build_parser, serve_config
from fugu.pools.base import Reply
from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.parsing import MAX_JSON_DEPTH
from fugu.serving.worker_server import running
from tests.serve_fixtures import ScriptedPool

KEY = "contract-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
VALID = {"model": "fugu-mini", "messages": [{"role": "user", "content": "What is 2 + 2?"}]}


class QuietPool(ScriptedPool):
    """Scripted workers that report no token counts (as many local servers do)."""

    async def answer(self, worker, messages):
        reply = await super().answer(worker, messages)
        return Reply(worker=reply.worker, text=reply.text)


@pytest.fixture(scope="module")
def server():
    pool = QuietPool({"w0": "four", "w1": "4"})
    with running(create_app(PriorityRouter(["w0", "w1"]), pool, ServeConfig(api_key=KEY))) as url:
        yield url, pool


def post(url: str, body: dict | bytes, path: str = "/v1/chat/completions", timeout: float = 10) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{url}{path}", content=content, headers={**AUTH, "Content-Type": "application/json"},
                      timeout=timeout)


@pytest.mark.parametrize("field, value", [
    ("temperature", "0.5"), ("stream", "yes"), ("top_p", False), ("max_tokens", 5.0), ("seed", "1"),
    ("response_format", {"type": "nope"}), ("tool_choice", "sometimes"), ("presence_penalty", 3),
    ("stop", ["a", "b", "c", "d", "e"]), ("stream_options", {"include_usage": True}),
])
def test_loose_types_ranges_and_enums_are_400_naming_the_field(server, field, value):
    response = post(server[0], {**VALID, field: value})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"].split(".")[0] == field


@pytest.mark.parametrize("field, value", [
    ("tools", [{"type": "function", "function": {"name": "f"}}]), ("response_format", {"type": "json_object"}),
    ("logprobs", True), ("max_tokens", 5), ("stop", "END"), ("logit_bias", {"1": 2}), ("temperature", 0.3),
])
def test_a_field_the_pool_cannot_honour_is_a_400_naming_it(server, field, value):
    """ScriptedPool forwards nothing: each field would otherwise be silently dropped."""
    response = post(server[0], {**VALID, field: value})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == field and error["code"] == "unsupported_parameter"


def test_a_lone_surrogate_is_a_400_not_a_500(server):
    raw = b'{"model": "fugu-mini", "messages": [{"role": "user", "content": "a\\ud800b"}]}'
    response = post(server[0], raw)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "messages.0.content"


def nested(depth: int, inner: str) -> str:
    """JSON text: ``inner`` inside ``depth`` objects, each under the key ``"x"``."""
    return '{"x": ' * depth + inner + "}" * depth


def tool_with_parameters(parameters: str) -> bytes:
    return ('{"model": "fugu-mini", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", '
            '"function": {"name": "f", "parameters": ' + parameters + "}}]}").encode()


def test_json_deeper_than_the_limit_is_a_400_by_itself(server):
    """70 objects inside a tool's parameters (74 levels with the body's own): refused for its
    depth, whatever lies below (here a lone surrogate, once found past depth 64 by no one)."""
    response = post(server[0], tool_with_parameters(nested(70, '"\\ud800"')))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_json" and f"{MAX_JSON_DEPTH} levels" in error["message"]
    assert error["param"].startswith("tools.0.function.parameters.x")


def test_a_lone_surrogate_anywhere_within_the_depth_limit_is_a_400(server):
    depth = MAX_JSON_DEPTH - 5  # body, tools, tools[0], function: the innermost object is at the limit
    response = post(server[0], tool_with_parameters(nested(depth, '{"\\ud800": 1}')))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "not valid Unicode" in error["message"] and error["param"].count(".x") == depth


def test_image_parts_get_a_message_that_says_text_only(server):
    body = {**VALID, "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}
    response = post(server[0], body)
    assert response.status_code == 400 and "text only" in response.json()["error"]["message"]


def test_developer_and_tool_turns_are_accepted(server):
    url, pool = server
    turns = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
             {"role": "assistant", "content": None,
              "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}]},
             {"role": "tool", "tool_call_id": "c1", "content": "4"}, {"role": "user", "content": "So?"}]
    response = post(url, {**VALID, "messages": turns})
    assert response.status_code == 200, response.text
    seen = pool.conversations[-1]
    assert seen[0]["role"] == "system" and seen[3] == {"role": "tool", "content": "4", "tool_call_id": "c1"}


def test_usage_is_always_reported_and_labelled_when_counted(server):
    body = post(server[0], VALID).json()
    assert body["usage"]["completion_tokens"] >= 1 and body["usage"]["source"] == "counted"
    with httpx.stream("POST", f"{server[0]}/v1/chat/completions", headers=AUTH, timeout=10,
                      json={**VALID, "stream": True, "stream_options": {"include_usage": True}}) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: {")]
    assert events[-1]["choices"] == [] and events[-1]["usage"]["source"] == "counted"


def test_405_carries_allow_and_the_error_format(server):
    response = httpx.get(f"{server[0]}/v1/chat/completions", headers=AUTH)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_the_models_are_the_served_modes(server):
    ids = [m["id"] for m in httpx.get(f"{server[0]}/v1/models", headers=AUTH).json()["data"]]
    assert ids == ["fugu-mini"]  # no Conductor loaded here: fugu-ultra is listed only with one


def test_health_says_only_ok_without_the_key(server):
    assert httpx.get(f"{server[0]}/health").json() == {"status": "ok"}
    assert httpx.get(f"{server[0]}/health", headers={"Authorization": "Bearer wrong"}).json() == {"status": "ok"}
    assert httpx.get(f"{server[0]}/health", headers=AUTH).json() == {"status": "ok", "router": PriorityRouter.name,
                                                                   "models": ["fugu-mini"]}


# --- the Responses API --------------------------------------------------------------------

def test_responses_plain_with_instructions_and_a_message_list(server):
    url, pool = server
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0)
    reply = client.responses.create(model="fugu-mini", input="What is 2 + 2?", instructions="Answer in words.")
    assert reply.output_text == "four" and reply.status == "completed" and reply.usage.output_tokens >= 1
    assert pool.conversations[-1][0] == {"role": "system", "content": "Answer in words."}
    listed = client.responses.create(model="fugu-mini", input=[{"role": "user", "content": "2 + 2?"}])
    assert listed.output_text == "four"


def test_responses_streamed_events(server):
    client = openai.OpenAI(base_url=f"{server[0]}/v1", api_key=KEY, max_retries=0)
    events = list(client.responses.create(model="fugu-mini", input="What is 2 + 2?", stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "four"
    assert events[-1].response.output_text == "four"


def test_responses_refuses_what_it_cannot_honour(server):
    response = post(server[0], {"model": "fugu-mini", "input": "hi", "tools": [{"type": "web_search"}]}, "/v1/responses")
    assert response.status_code == 400 and response.json()["error"]["param"] == "tools"


# --- load and hostile clients ---------------------------------------------------------------

def raw_request(url: str, body: bytes, declared: int | None = None) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {declared or len(body)}\r\n\r\n").encode()
    sock.sendall(head + body)
    return sock


def wait_for(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_client_that_hangs_up_cancels_its_worker_and_frees_its_slot():
    pool = ScriptedPool({"slow": "hang"})
    app = create_app(PriorityRouter(["slow"]), pool, ServeConfig(api_key=KEY, max_concurrency=1, worker_timeout_s=20))
    with running(app) as url:
        sock = raw_request(url, json.dumps(VALID).encode())
        assert wait_for(lambda: pool.calls == ["slow"])
        sock.close()
        assert wait_for(lambda: pool.cancelled == ["slow"]), "the worker call was not cancelled"
        counters = httpx.get(f"{url}/metrics", headers=AUTH).json()
        assert counters["in_flight"] == 0 and counters["client_disconnected"] == 1
        with pytest.raises(httpx.ReadTimeout):  # admitted (and held by the slow worker), not a 429
            post(url, VALID, timeout=0.5)


def test_a_streaming_client_that_hangs_up_frees_its_slot():
    class SlowStream(ScriptedPool):
        async def stream(self, worker, messages):
            from fugu.pools.base import Piece
            yield Piece(text="first ")
            await self.answer(worker, messages)  # "hang": cancelled when the client goes

    pool = SlowStream({"slow": "hang"})
    app = create_app(PriorityRouter(["slow"]), pool, ServeConfig(api_key=KEY, max_concurrency=1, worker_timeout_s=20))
    with running(app) as url:
        sock = raw_request(url, json.dumps({**VALID, "stream": True}).encode())
        assert b"first" in sock.recv(4096) + (sock.recv(4096) if wait_for(lambda: pool.calls, 5) else b"")
        sock.close()
        assert wait_for(lambda: pool.cancelled == ["slow"]), "the worker stream was not cancelled"
        assert wait_for(lambda: httpx.get(f"{url}/metrics", headers=AUTH).json()["in_flight"] == 0)


def test_a_stalled_upload_gets_408_within_the_body_timeout():
    app = create_app(PriorityRouter(["w"]), ScriptedPool({"w": "ok"}), ServeConfig(api_key=KEY, body_timeout_s=0.5))
    with running(app) as url:
        started = time.monotonic()
        sock = raw_request(url, b'{"model": "fu', declared=500)
        sock.settimeout(5)
        answer = sock.recv(4096).decode()
        sock.close()
    assert answer.startswith("HTTP/1.1 408") and time.monotonic() - started < 3


def test_beyond_the_limit_429_carries_retry_after():
    pool = ScriptedPool({"slow": "hang"})
    app = create_app(PriorityRouter(["slow"]), pool, ServeConfig(api_key=KEY, max_concurrency=1, worker_timeout_s=1))
    with running(app) as url:
        holder = threading.Thread(target=lambda: post(url, VALID))
        holder.start()
        assert wait_for(lambda: pool.calls)
        response = post(url, VALID)
        holder.join()
    assert response.status_code == 429 and response.headers["retry-after"] == "1"


# --- auth -----------------------------------------------------------------------------------

def test_an_empty_key_is_an_error_not_auth_off(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="empty"):
        ServeConfig(api_key="")
    monkeypatch.setenv("FUGU_API_KEY", "")
    with pytest.raises(ValueError, match="set but empty"):
        serve_config(build_parser().parse_args(["serve", "--workers", "w.yaml"]))
    (tmp_path / "key").write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        serve_config(build_parser().parse_args(["serve", "--workers", "w.yaml", "--api-key-file", str(tmp_path / "key")]))


def test_the_key_comes_from_a_file_or_the_environment(tmp_path, monkeypatch):
    (tmp_path / "key").write_text("from-file\n")
    args = build_parser().parse_args(["serve", "--workers", "w.yaml", "--api-key-file", str(tmp_path / "key")])
    assert serve_config(args).api_key == "from-file"
    monkeypatch.setenv("FUGU_API_KEY", "from-env")
    assert serve_config(build_parser().parse_args(["serve", "--workers", "w.yaml"])).api_key == "from-env"
    with pytest.raises(SystemExit):  # no --api-key: a command line is visible in ps
        build_parser().parse_args(["serve", "--workers", "w.yaml", "--api-key", "k"])


def test_serve_defaults_come_from_serve_config(monkeypatch):
    monkeypatch.delenv("FUGU_API_KEY", raising=False)
    assert serve_config(build_parser().parse_args(["serve", "--workers", "w.yaml"])) == ServeConfig()


# --- the published schema -------------------------------------------------------------------

def test_openapi_documents_bodies_errors_and_the_bearer_scheme(server):
    schema = httpx.get(f"{server[0]}/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    for path in ("/v1/chat/completions", "/v1/responses"):
        operation = schema["paths"][path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert {"200", "400", "401", "429", "502", "504"} <= set(operation["responses"])
        assert operation["security"] == [{"bearerAuth": []}]
    assert "ChatCompletionRequest" in schema["components"]["schemas"]
    for path in ("/v1/models", "/metrics"):  # the key guards them too
        assert schema["paths"][path]["get"]["security"] == [{"bearerAuth": []}]
        assert "401" in schema["paths"][path]["get"]["responses"]
