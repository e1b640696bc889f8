"""Open a local HTML file in real headless Chromium and collect every error it reports.

Talks the DevTools protocol over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out, NUL-framed
JSON), so no extra client library is needed. Collected: uncaught exceptions, console
errors/warnings, log entries of level error (failed resource loads among them) and failed
network requests.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-pipe",
]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Pipe:
    def __init__(self, write_fd: int, read_fd: int):
        self.write_fd, self.read_fd = write_fd, read_fd
        self.buffer = b""
        self.next_id = 0

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        return self.next_id

    def receive(self, deadline: float) -> dict | None:
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                return None
            ready, _, _ = select.select([self.read_fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             deadline: float | None = None, events: list | None = None) -> dict:
        wanted = self.send(method, params, session)
        deadline = deadline or time.monotonic() + 30
        while (message := self.receive(deadline)) is not None:
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if events is not None and "method" in message:
                events.append(message)
        raise TimeoutError(f"no reply to {method}")


def page_errors(html_file: Path, chromium: str, settle_s: float = 1.0, timeout_s: float = 60.0) -> list[str]:
    """Load ``html_file`` and return every error the page produced (empty list: clean)."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()

    def wire_fds() -> None:  # runs in the child: DevTools reads fd 3, writes fd 4
        read_end, write_end = os.dup(to_child_r), os.dup(from_child_w)  # never 3 or 4: both in use
        os.dup2(read_end, 3)
        os.dup2(write_end, 4)

    with tempfile.TemporaryDirectory() as profile:
        process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=wire_fds, close_fds=False,  # fds 3/4 are set up by wire_fds
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        pipe = _Pipe(to_child_w, from_child_r)
        events: list[dict] = []
        try:
            deadline = time.monotonic() + timeout_s
            target = pipe.call("Target.createTarget", {"url": "about:blank"}, deadline=deadline)["targetId"]
            session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                deadline=deadline, events=events)["sessionId"]
            for domain in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
                pipe.call(domain, session=session, deadline=deadline, events=events)
            pipe.call("Page.navigate", {"url": html_file.resolve().as_uri()}, session=session,
                      deadline=deadline, events=events)
            loaded = False
            settle_until = None
            while True:
                now = time.monotonic()
                if settle_until and now > settle_until or now > deadline:
                    break
                message = pipe.receive(settle_until or deadline)
                if message is None:
                    break
                events.append(message)
                if message.get("method") == "Page.loadEventFired" and not loaded:
                    loaded, settle_until = True, time.monotonic() + settle_s
            if not loaded:
                return [f"page did not finish loading within {timeout_s}s"]
        finally:
            try:
                pipe.send("Browser.close")
            except OSError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            os.close(to_child_w)
            os.close(from_child_r)
    return _errors(events)


def _errors(events: list[dict]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            found.append(f"console.{params['type']}: {[a.get('value') for a in params.get('args', [])]}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed":
            found.append(f"load failed: {params.get('errorText')}")
    return found
