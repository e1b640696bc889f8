"""The connection-level limits uvicorn lacks: a header deadline, a cap on open connections, a
settable keep-alive, and counted, rate-limited logging of what hostile clients cause.

Why here and not in the app: an ASGI app sees a request only once its headers are complete, so
a connection that sends ``POST ... HTTP/1.1\\r\\nHost: x\\r\\n`` and nothing more is invisible
to it, and uvicorn (0.54, h11) arms no timer until a first response is done. A thousand such
connections stayed open indefinitely, and past the process's file limit every ``accept()`` failed
with ``EMFILE``, which asyncio logs with a traceback once per pending connection per second
(169k log lines) while normal clients are turned away. So, per connection (``GuardedH11Protocol``,
uvicorn's h11 protocol with three additions):

- **headers within ``header_timeout_s``** of connecting, or of the first byte of a next request
  on a kept-alive connection; else ``408`` and close (counted ``header_timeout``);
- **at most ``max_connections`` open**: beyond it an idle kept-alive connection is closed to
  make room (``connections_reclaimed_idle``), else the one that has waited longest for its
  request head (``connections_reclaimed_no_head``, answered 408): a client that sends its head
  at once is served while half-open connections fill the cap, and an attacker's newcomers
  displace its own oldest. Only when every connection is busy with a request does the newcomer
  get ``503`` and is closed at once (``connections_refused``): its descriptor is released;
- **idle kept-alive connections close after ``keep_alive_timeout_s``**: longer than common clients'
  own idle expiry (httpx: 5 s), so it is the client that drops an idle connection, never the
  server under a client that is just reusing it (uvicorn's default of 5 s equals httpx's: at 96
  clients 6 of 10,176 requests hit that race as a ``ReadError``).

Each event is a counter in ``GET /metrics`` and at most one log line per kind per
``LOG_INTERVAL_S`` (with the count since the last line), never a traceback; the accept loop's
``EMFILE`` (``accept_out_of_files``) likewise. ``fd_limit_needed`` states the relation to
``ulimit -n``: the cap, plus one descriptor per request in flight (its worker call), plus a
reserve for the process itself; ``ensure_fd_limit`` raises the soft limit that far when the hard
limit allows, and refuses to start otherwise.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import logging
import resource
import time
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from fugu.serving.config import ServeConfig
from fugu.serving.protocol import error_body

log = logging.getLogger(__name__)
LOG_INTERVAL_S = 10.0
# Descriptors the process needs besides client connections: stdio, the listening socket, the
# event loop's selector and self-pipe, thread pipes, model, tokenizer and log files.
FD_RESERVE = 128


class EventLog:
    """Counts events into ``stats`` and logs at most one line per kind per ``interval_s``."""

    def __init__(self, stats: collections.Counter[str], interval_s: float = LOG_INTERVAL_S):
        self.stats, self.interval_s = stats, interval_s
        self._unlogged: collections.Counter[str] = collections.Counter()
        self._last_logged: dict[str, float] = {}

    def record(self, kind: str, what: str) -> None:
        """Count one ``kind`` event; log ``what`` (with the count since the last line) if due."""
        self.stats[kind] += 1
        self._unlogged[kind] += 1
        now = time.monotonic()
        if now - self._last_logged.get(kind, -self.interval_s) >= self.interval_s:
            log.warning("%s: %d since the last such line (%d in all)", what, self._unlogged.pop(kind), self.stats[kind])
            self._last_logged[kind] = now


def raw_response(status: int, reason: str, message: str, code: str, extra: str = "") -> bytes:
    """A whole HTTP/1.1 error response that closes the connection, for a connection with no request
    (h11 sends a response only to a request)."""
    body = json.dumps(error_body(message, "server_error" if status >= 500 else "invalid_request_error", code)).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"{extra}connection: close\r\n\r\n")
    return head.encode() + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a connection cap; see the module docstring."""

    def __init__(self, *args: Any, limits: ServeConfig, events: EventLog, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.limits, self.events = limits, events
        self.header_deadline: asyncio.TimerHandle | None = None
        self.waiting_since = 0.0  # when the head now awaited was first awaited (loop time)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections and not self.reclaim_idle():
            self.transport = transport
            self.events.record("connections_refused", f"refused connections beyond --max-connections "
                                                     f"{self.limits.max_connections} (503)")
            transport.write(raw_response(503, "Service Unavailable", "too many open connections; retry later",
                                         "too_many_connections", f"retry-after: {self.limits.retry_after_s}\r\n"))
            transport.close()
            return
        super().connection_made(transport)
        self.await_headers()

    def reclaim_idle(self) -> bool:
        """Close an idle kept-alive connection, else the one waiting longest for its request head;
        False when every connection is busy with a request."""
        guarded = [c for c in self.connections if isinstance(c, GuardedH11Protocol) and not c.transport.is_closing()]
        idle = next((c for c in guarded if c.timeout_keep_alive_task is not None), None)
        if idle is not None:
            idle.timeout_keep_alive_handler()
            idle._unset_keepalive_if_required()
            self.events.record("connections_reclaimed_idle", "closed idle kept-alive connections to make room")
            return True
        waiting = [c for c in guarded if c.header_deadline is not None]
        if not waiting:
            return False
        min(waiting, key=lambda c: c.waiting_since).close_for_no_head("connections_reclaimed_no_head",
                                                                      "closed connections still without a request "
                                                                      "head to make room (408)")
        return True

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # still no complete request head
            self.await_headers()
        else:
            self.stop_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_header_deadline()
        super().connection_lost(exc)

    def await_headers(self) -> None:
        if self.header_deadline is None:
            self.waiting_since = self.loop.time()
            self.header_deadline = self.loop.call_later(self.limits.header_timeout_s, self.headers_overdue)

    def stop_header_deadline(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def headers_overdue(self) -> None:
        self.header_deadline = None
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self.close_for_no_head("header_timeout", "closed connections that sent no complete request head "
                                                     f"within --header-timeout {self.limits.header_timeout_s:g}s (408)")

    def close_for_no_head(self, kind: str, what: str) -> None:
        self.stop_header_deadline()
        self.events.record(kind, what)
        self.transport.write(raw_response(408, "Request Timeout", "no complete request head in time", "request_timeout"))
        self.transport.close()


class GuardedServer(uvicorn.Server):
    """uvicorn's server whose accept loop reports running out of file descriptors as a counted
    line, not a traceback per pending connection."""

    def __init__(self, config: uvicorn.Config, events: EventLog):
        super().__init__(config)
        self.events = events

    async def startup(self, sockets: Any = None) -> None:
        loop = asyncio.get_running_loop()
        fallback = loop.get_exception_handler()

        def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            if context.get("message") == "socket.accept() out of system resource":
                self.events.record("accept_out_of_files", "accept() failed: out of file descriptors "
                                                          "(ulimit -n); accepting again in 1s")
            elif fallback is not None:
                fallback(loop, context)
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(handle)
        await super().startup(sockets)


def guarded_server(app: FastAPI, config: ServeConfig, host: str, port: int, log_level: str = "warning",
                   **uvicorn_options: Any) -> GuardedServer:
    """A uvicorn server for fugu's ``app`` under ``config``'s connection limits, counting into the
    app's ``/metrics`` (``app.state.stats``)."""
    events = EventLog(app.state.stats)
    protocol = functools.partial(GuardedH11Protocol, limits=config, events=events)
    return GuardedServer(uvicorn.Config(app, host=host, port=port, log_level=log_level, http=protocol,
                                        timeout_keep_alive=config.keep_alive_timeout_s, **uvicorn_options), events)


def fd_limit_needed(config: ServeConfig) -> int:
    """File descriptors the server may hold at once: every allowed connection, one worker call per
    request in flight, and ``FD_RESERVE`` for the process itself."""
    return config.max_connections + config.max_concurrency + FD_RESERVE


def ensure_fd_limit(config: ServeConfig) -> None:
    """Raise the soft ``RLIMIT_NOFILE`` to what ``config`` needs; ValueError when the hard limit is lower."""
    need = fd_limit_needed(config)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise ValueError(f"--max-connections {config.max_connections} with --max-concurrency "
                             f"{config.max_concurrency} needs {need} open files, and the limit (ulimit -n) is {hard}: "
                             f"lower --max-connections to at most {hard - config.max_concurrency - FD_RESERVE} "
                             "or raise the limit")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
