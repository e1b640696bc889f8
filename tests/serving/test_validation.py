"""Bad input gets a 4xx with an OpenAI-style error body, never a 5xx.

The specific cases say what each refusal looks like; the property test throws 500+ malformed
requests (random bytes, random JSON, and valid requests with one field broken) at the app
in-process and checks that none gets a 5xx.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from tests.serve_fixtures import ScriptedPool

KEY = "k"
BODY_LIMIT = 20_000
VALID = {"model": "fugu-mini", "messages": [{"role": "user", "content": "What is 2 + 2?"}]}


@pytest.fixture(scope="module")
def http():
    pool = ScriptedPool({"w0": "4", "w1": "four"})
    app = create_app(PriorityRouter(["w0", "w1"]), pool,
                     ServeConfig(api_key=KEY, max_body_bytes=BODY_LIMIT, max_tokens_limit=4096))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {KEY}"
        yield client


def post(http, body: dict | bytes):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http.post("/v1/chat/completions", content=content, headers={"Content-Type": "application/json"})


def assert_openai_error(response, status: int, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and error["type"]
    if param is not None:
        assert error["param"] == param


def test_a_valid_request_is_answered(http):
    response = post(http, VALID)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "4"


@pytest.mark.parametrize("body, param", [
    ({**VALID, "messages": []}, "messages"),
    ({**VALID, "messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role"),
    ({**VALID, "messages": [{"role": "system", "content": "be brief"}]}, "messages"),
    ({**VALID, "max_tokens": 0}, "max_tokens"),
    ({**VALID, "max_tokens": "many"}, "max_tokens"),
    ({**VALID, "max_tokens": 10**9}, "max_tokens"),
    ({**VALID, "temperature": -0.5}, "temperature"),
    ({**VALID, "temperature": 9}, "temperature"),
    ({**VALID, "n": 3}, "n"),
    ({"messages": VALID["messages"]}, "model"),
])
def test_bad_fields_are_400_naming_the_field(http, body, param):
    assert_openai_error(post(http, body), 400, param)


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b'"text"', b'{"model": NaN}', b"\xff\xfe", b"[" * 100_00])
def test_malformed_json_is_400(http, raw):
    assert_openai_error(post(http, raw), 400)


def test_oversized_body_is_413(http):
    body = {**VALID, "messages": [{"role": "user", "content": "x" * (BODY_LIMIT + 1)}]}
    assert_openai_error(post(http, body), 413)


def test_unknown_route_and_wrong_method_use_the_error_format(http):
    assert_openai_error(http.get("/v1/nothing"), 404)
    assert_openai_error(http.get("/v1/chat/completions"), 405)


# --- property: no malformed request gets a 5xx ---------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(["model", "messages", "stream", "n", "max_tokens", "temperature", "top_p", "stop",
                          "stream_options", "max_completion_tokens"])
message_fields = st.sampled_from(["role", "content", "name"])


@st.composite
def broken_valid_request(draw) -> bytes:
    """A valid request with one thing broken: a field replaced, dropped, or a message mangled."""
    body = json.loads(json.dumps(VALID))
    body["messages"] = body["messages"] * draw(st.integers(1, 3))
    how = draw(st.sampled_from(["replace", "drop", "message", "role"]))
    if how == "replace":
        body[draw(fields)] = draw(json_values)
    elif how == "drop":
        body.pop(draw(st.sampled_from(["model", "messages"])))
    elif how == "message":
        body["messages"][0][draw(message_fields)] = draw(json_values)
    else:
        body["messages"][-1]["role"] = draw(st.text(max_size=12))
    return json.dumps(body).encode()


malformed = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    broken_valid_request(),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=malformed)
def test_no_malformed_request_gets_a_5xx(http, body):
    response = post(http, body)
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert response.json()["error"]["message"]


class BrokenRouter:
    name = "broken"

    def __init__(self, scores):
        self._scores = scores

    def scores(self, conversations):
        if isinstance(self._scores, Exception):
            raise self._scores
        return self._scores


@pytest.mark.parametrize("scores", [RuntimeError("model crashed"), [[1.0, 2.0, 3.0]], [[float("nan"), float("-inf")]]])
def test_a_failing_router_is_answered_in_the_fallback_order_and_counted(scores):
    pool = ScriptedPool({"w0": "4", "w1": "four"})
    app = create_app(BrokenRouter(scores), pool, ServeConfig(fallback_order=("w1",)))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = post(client, VALID)
        counters = client.get("/metrics").json()
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "four"  # the documented fallback order
    assert pool.calls == ["w1"]
    assert counters["router_error"] == 1
