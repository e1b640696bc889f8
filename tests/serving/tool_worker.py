"""A local OpenAI-compatible worker that behaves like a tool-using model, for the agent-client tests.

Asked with ``tools``, it calls the first tool (``finish_reason: "tool_calls"``) unless the
conversation already holds a tool result, which it then quotes in its answer. Streamed, it
sends its first chunk at once and the rest only after ``STREAM_PAUSE_S``, so a test can see
the first chunk arrive before the worker has finished. ``requests`` records every body.
"""

from __future__ import annotations

import asyncio
import json
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

STREAM_PAUSE_S = 1.5


def create_tool_worker() -> FastAPI:
    app = FastAPI()
    app.state.requests = []
    app.state.finished_at = []

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        app.state.requests.append(body)
        results = [m for m in body["messages"] if m.get("role") == "tool"]
        tools = body.get("tools") or []
        base = {"id": "chatcmpl-w", "created": int(time.time()), "model": body["model"]}
        if tools and not results:
            call = {"id": "call_1", "type": "function",
                    "function": {"name": tools[0]["function"]["name"], "arguments": json.dumps({"city": "Tokyo"})}}
            if body.get("stream"):
                return StreamingResponse(_tool_stream(base, call), media_type="text/event-stream")
            return JSONResponse({**base, "object": "chat.completion", "choices": [{
                "index": 0, "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": None, "tool_calls": [call]}}]})
        text = f"The tool said: {results[-1]['content']}" if results else "Hello from the worker, streamed slowly."
        if body.get("stream"):
            return StreamingResponse(_text_stream(base, text, app), media_type="text/event-stream")
        return JSONResponse({**base, "object": "chat.completion", "choices": [{
            "index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}]})

    return app


def _chunk(base: dict, delta: dict, finish: str | None = None) -> str:
    return "data: " + json.dumps({**base, "object": "chat.completion.chunk",
                                  "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"


async def _text_stream(base: dict, text: str, app: FastAPI):
    first, _, rest = text.partition(" ")
    yield _chunk(base, {"role": "assistant", "content": first + " "})
    await asyncio.sleep(STREAM_PAUSE_S)
    yield _chunk(base, {"content": rest})
    yield _chunk(base, {}, "stop")
    app.state.finished_at.append(time.monotonic())
    yield "data: [DONE]\n\n"


async def _tool_stream(base: dict, call: dict):
    yield _chunk(base, {"role": "assistant", "tool_calls": [
        {"index": 0, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": ""}}]})
    yield _chunk(base, {"tool_calls": [{"index": 0, "function": {"arguments": call["function"]["arguments"]}}]})
    yield _chunk(base, {}, "tool_calls")
    yield "data: [DONE]\n\n"
