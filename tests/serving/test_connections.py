"""Connection-level limits over real sockets: half-open and slow clients are closed, a connection
cap refuses cleanly while normal requests still work, keep-alive is settable, and every hang-up is
counted without a traceback in the log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import socket
import time

import httpx
import pytest

from fugu.pools.base import Piece, Reply, Worker
from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.connections import FD_RESERVE, ensure_fd_limit, fd_limit_needed
from fugu.serving.worker_server import running

CHAT = {"model": "fugu-mini", "messages": [{"role": "user", "content": "hi"}]}
HALF_HEAD = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
BOUND_S = 5.0  # generous: every deadline the tests set is at most 1 s


class SlowStreamPool:
    """One worker that answers at once, and streams one piece then nothing for a long while."""

    workers = [Worker("w0")]

    async def answer(self, worker: str, messages) -> Reply:
        return Reply(worker=worker, text="ok", usage={"prompt_tokens": 1, "completion_tokens": 1})

    async def stream(self, worker: str, messages):
        yield Piece(text="first")
        await asyncio.sleep(30)
        yield Piece(text="late", finish_reason="stop")


def serve(**limits):
    config = ServeConfig(**limits)
    app = create_app(PriorityRouter(["w0"]), SlowStreamPool(), config)
    return running(app, limits=config), app.state.stats


def closed_by_server_within(sock: socket.socket, bound_s: float) -> tuple[bool, bytes]:
    """(whether the server closed ``sock`` within ``bound_s``, what it sent before closing)."""
    sock.settimeout(bound_s)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
        return True, received
    except ConnectionResetError:
        return True, received
    except TimeoutError:
        return False, received


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)))


@pytest.fixture(autouse=True)
def uvicorn_logs_captured(caplog):
    """uvicorn's loggers do not propagate to the root, where caplog listens: listen on them too."""
    logger = logging.getLogger("uvicorn")
    logger.addHandler(caplog.handler)
    yield
    logger.removeHandler(caplog.handler)


def no_tracebacks(caplog) -> bool:
    return not any(r.exc_info or "Traceback" in r.getMessage() for r in caplog.records)


def test_a_connection_that_never_completes_its_headers_is_closed_with_408(caplog):
    server, stats = serve(header_timeout_s=0.5)
    with server as url, caplog.at_level(logging.WARNING):
        socks = [connect(url) for _ in range(20)]
        for s in socks:
            s.sendall(HALF_HEAD)
        results = [closed_by_server_within(s, BOUND_S) for s in socks]
        assert all(closed for closed, _ in results)
        assert all(sent.startswith(b"HTTP/1.1 408") for _, sent in results)
        assert stats["header_timeout"] == 20
        assert httpx.post(f"{url}/v1/chat/completions", json=CHAT).status_code == 200
    assert no_tracebacks(caplog)
    assert sum("header-timeout" in r.getMessage() for r in caplog.records) == 1  # one line, not twenty


def test_a_silent_connection_is_closed_too():
    server, stats = serve(header_timeout_s=0.5)
    with server as url:
        assert closed_by_server_within(connect(url), BOUND_S)[0]
        assert stats["header_timeout"] == 1


def test_a_kept_alive_connection_trickling_its_next_head_is_closed():
    server, stats = serve(header_timeout_s=0.5)
    with server as url:
        sock = connect(url)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        closed, sent = closed_by_server_within(sock, BOUND_S)
        assert closed and b"HTTP/1.1 408" in sent and stats["header_timeout"] == 1


def test_at_the_cap_half_open_connections_make_room_for_a_normal_request(caplog):
    server, stats = serve(max_connections=8)
    with server as url, caplog.at_level(logging.WARNING):
        held = [connect(url) for _ in range(8)]
        for s in held:
            s.sendall(HALF_HEAD)
        time.sleep(0.3)
        assert httpx.post(f"{url}/v1/chat/completions", json=CHAT).status_code == 200
        closed, sent = closed_by_server_within(held[0], BOUND_S)  # the oldest waiting made room
        assert closed and sent.startswith(b"HTTP/1.1 408")
        assert stats["connections_reclaimed_no_head"] == 1 and stats["connections_refused"] == 0
    assert no_tracebacks(caplog)


def test_beyond_the_cap_of_busy_connections_newcomers_get_503_and_later_ones_are_served(caplog):
    server, stats = serve(max_connections=8, body_timeout_s=1.0)
    with server as url, caplog.at_level(logging.WARNING):
        busy = [connect(url) for _ in range(8)]
        for s in busy:  # a head, then a body that stalls: busy with a request until the body deadline
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{")
        time.sleep(0.3)
        refused = [connect(url) for _ in range(5)]
        results = [closed_by_server_within(s, BOUND_S) for s in refused]
        assert all(closed and sent.startswith(b"HTTP/1.1 503") and b"retry-after" in sent for closed, sent in results)
        assert stats["connections_refused"] == 5
        for s in busy:  # the body deadline (408, close) frees the cap; then a normal client is served
            assert closed_by_server_within(s, BOUND_S)[0]
        assert httpx.post(f"{url}/v1/chat/completions", json=CHAT).status_code == 200
    assert no_tracebacks(caplog)


def test_at_the_cap_an_idle_kept_alive_connection_makes_room_first():
    server, stats = serve(max_connections=2)
    with server as url:
        with httpx.Client() as idle:
            assert idle.get(f"{url}/health").status_code == 200  # now kept alive, idle
            waiting = connect(url)
            waiting.sendall(HALF_HEAD)
            time.sleep(0.2)
            assert httpx.post(f"{url}/v1/chat/completions", json=CHAT).status_code == 200
            assert stats["connections_reclaimed_idle"] == 1 and stats["connections_reclaimed_no_head"] == 0


def test_the_keep_alive_timeout_flag_is_applied():
    server, _ = serve(keep_alive_timeout_s=1.0)
    with server as url:
        sock = connect(url)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        closed, _ = closed_by_server_within(sock, BOUND_S)
        assert closed and 0.8 <= time.monotonic() - started <= 3.0


def test_a_disconnect_during_the_body_is_counted_without_a_traceback(caplog):
    server, stats = serve()
    with server as url, caplog.at_level(logging.INFO):
        sock = connect(url)
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 500\r\n\r\n" + b'{"model": "fugu-mini", ')
        time.sleep(0.5)
        sock.close()
        deadline = time.monotonic() + BOUND_S
        while stats["client_disconnected_body"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stats["client_disconnected_body"] == 1 and stats["client_disconnected"] == 1
    assert no_tracebacks(caplog)
    assert not any("Exception in ASGI application" in r.getMessage() for r in caplog.records)


def test_a_disconnect_mid_stream_is_counted():
    server, stats = serve()
    with server as url:
        with httpx.stream("POST", f"{url}/v1/chat/completions", json={**CHAT, "stream": True}) as response:
            assert response.status_code == 200
            next(response.iter_lines())  # the first piece arrived; the worker now stalls; hang up
        deadline = time.monotonic() + BOUND_S
        while stats["client_disconnected_stream"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stats["client_disconnected_stream"] == 1 and stats["client_disconnected"] == 1


def test_a_body_timeout_answers_408_and_closes_the_connection():
    server, _ = serve(body_timeout_s=0.5)
    with server as url:
        sock = connect(url)
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{")
        closed, sent = closed_by_server_within(sock, BOUND_S)
        assert closed and sent.startswith(b"HTTP/1.1 408")


def test_the_file_limit_needed_covers_the_cap_the_requests_in_flight_and_a_reserve():
    config = ServeConfig(max_connections=512, max_concurrency=64)
    assert fd_limit_needed(config) == 512 + 64 + FD_RESERVE <= 1024  # the defaults fit the common ulimit -n
    with pytest.raises(ValueError, match="ulimit -n"):
        ensure_fd_limit(ServeConfig(max_connections=10**9))


def test_running_out_of_file_descriptors_is_a_counted_line_not_a_traceback_per_accept(caplog):
    server, stats = serve(max_connections=10_000)
    with server as url, caplog.at_level(logging.WARNING):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        clients = []
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 20, hard))
            with contextlib.suppress(OSError):
                for _ in range(40):  # each takes a descriptor here and one in the server: accept() runs out
                    clients.append(connect(url))
            deadline = time.monotonic() + BOUND_S
            while stats["accept_out_of_files"] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            for s in clients:
                s.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        assert stats["accept_out_of_files"] >= 1
        time.sleep(1.5)  # asyncio retries accepting after 1 s
        assert httpx.post(f"{url}/v1/chat/completions", json=CHAT).status_code == 200
    assert no_tracebacks(caplog)
    assert sum("out of file descriptors" in r.getMessage() for r in caplog.records) == 1
