"""The server over a real socket (uvicorn on a free loopback port), reached with the openai client."""

from __future__ import annotations

import httpx
import openai
import pytest

from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.worker_server import running
from tests.serve_fixtures import ScriptedPool

KEY = "test-key"
WORKERS = {"secret-worker-alpha": "The answer is 72.", "secret-worker-beta": "The answer is 5."}


def serve(pool, **config):
    router = PriorityRouter([w.name for w in pool.workers])
    return running(create_app(router, pool, ServeConfig(api_key=KEY, **config)))


@pytest.fixture(scope="module")
def server():
    pool = ScriptedPool(WORKERS)
    with serve(pool) as url:
        yield url, pool


def client(url: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=10)


def leaks(text: str) -> list[str]:
    return [name for name in WORKERS if name in text]


def test_plain_completion_answers_as_the_served_model(server):
    url, _ = server
    raw = client(url).chat.completions.with_raw_response.create(
        model="fugu-mini", messages=[{"role": "user", "content": "What is 8 * 9?"}])
    completion = raw.parse()
    assert completion.model == "fugu-mini"
    assert completion.choices[0].message.content == "The answer is 72."
    assert completion.choices[0].finish_reason == "stop"
    assert leaks(raw.http_response.text) == []
    assert leaks(str(dict(raw.headers))) == []


def test_streaming_chunks_parse_and_join_to_the_answer(server):
    url, _ = server
    raw = client(url).chat.completions.with_raw_response.create(
        model="fugu-mini", messages=[{"role": "user", "content": "What is 8 * 9?"}], stream=True)
    chunks = list(raw.parse())
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert len(chunks) >= 4  # role, several words, finish
    assert all(c.object == "chat.completion.chunk" and c.model == "fugu-mini" for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "The answer is 72."
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert leaks(str(dict(raw.headers))) == []
    assert leaks("".join(c.model_dump_json() for c in chunks)) == []


def test_raw_stream_ends_with_done(server):
    url, _ = server
    with httpx.stream("POST", f"{url}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
                      json={"model": "fugu-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as r:
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)
    assert leaks("\n".join(lines)) == []


def test_missing_key_is_401_in_openai_format(server):
    url, _ = server
    response = httpx.post(f"{url}/v1/chat/completions",
                          json={"model": "fugu-mini", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_wrong_key_raises_the_openai_authentication_error(server):
    url, _ = server
    with pytest.raises(openai.AuthenticationError):
        client(url, key="wrong").chat.completions.create(model="fugu-mini", messages=[{"role": "user", "content": "hi"}])


def test_models_lists_only_the_served_model(server):
    url, _ = server
    models = client(url).models.list()
    assert [m.id for m in models.data] == ["fugu-mini"]


def test_health_needs_no_key_and_names_no_worker(server):
    url, _ = server
    response = httpx.get(f"{url}/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert leaks(response.text) == []


def test_unknown_model_is_404_model_not_found(server):
    url, _ = server
    with pytest.raises(openai.NotFoundError) as caught:
        client(url).chat.completions.create(model="secret-worker-alpha", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"


def test_multi_turn_conversation_reaches_the_worker_whole(server):
    url, pool = server
    turns = [{"role": "user", "content": "What is 8 * 9?"}, {"role": "assistant", "content": "72"},
             {"role": "user", "content": "Are you sure?"}]
    client(url).chat.completions.create(model="fugu-mini", messages=turns)
    assert pool.conversations[-1] == turns


def test_debug_flag_names_the_worker_in_a_header():
    """The leak check above can fail: with the operator's debug flag the worker is named."""
    pool = ScriptedPool(WORKERS)
    with serve(pool, expose_worker=True) as url:
        raw = client(url).chat.completions.with_raw_response.create(
            model="fugu-mini", messages=[{"role": "user", "content": "hi"}])
    assert raw.headers["x-fugu-worker"] == "secret-worker-alpha"


def test_requests_beyond_the_concurrency_limit_get_429_while_one_is_in_flight():
    import threading
    import time

    pool = ScriptedPool({"slow": "hang", "good": "fine"})
    with serve(pool, max_concurrency=1, worker_timeout_s=1.5) as url:
        first = threading.Thread(target=lambda: client(url).chat.completions.create(
            model="fugu-mini", messages=[{"role": "user", "content": "hi"}]))
        first.start()
        while not pool.calls:  # wait until the first request is held by the hanging worker
            time.sleep(0.01)
        with pytest.raises(openai.RateLimitError):
            client(url).chat.completions.create(model="fugu-mini", messages=[{"role": "user", "content": "hi"}])
        first.join()


def test_a_request_past_its_deadline_gets_504():
    pool = ScriptedPool({"slow": "hang"})
    with serve(pool, request_timeout_s=0.5, worker_timeout_s=10) as url:
        response = httpx.post(f"{url}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"},
                              json={"model": "fugu-mini", "messages": [{"role": "user", "content": "hi"}]}, timeout=10)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"
