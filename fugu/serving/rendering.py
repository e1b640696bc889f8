"""Replies and streams in the client's wire format: chat completions and the Responses API.

Every endpoint is one ``Endpoint``: the request model it parses, how a whole reply renders, and
a stream renderer that turns worker pieces into its events. The service runs one streaming
loop for both (``FuguService.stream_events``); a renderer only says what each moment of the
stream looks like on the wire: its opening, each piece, an upstream break, and its closing.
Usage is asked for through ``UsageOf`` only when the format reports it, since counting tokens
costs a tokenizer pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator, Protocol

from pydantic import BaseModel

from fugu.pools.base import Piece, Reply
from fugu.serving.protocol import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    FunctionToolCall,
    OutputMessage,
    OutputText,
    ResponseObject,
    ResponsesRequest,
    ResponseUsage,
    ToolCallDelta,
    Usage,
    completion_id,
    error_body,
    finish_reason,
    function_call_id,
    message_id,
    now,
    response_id,
)

# (reply text, the worker's token counts) → usage: the worker's counts, else counted.
UsageOf = Callable[[str, dict[str, int]], Awaitable[Usage]]
INTERRUPTED = "the answer was interrupted upstream"


def counted_text(text: str, tool_calls: list[dict[str, Any]] | None) -> str:
    """The text a reply's completion tokens are counted over: its text and its tool calls' JSON."""
    return text + "".join(json.dumps(call.get("function", {})) for call in tool_calls or [])


def response_usage(usage: Usage) -> ResponseUsage:
    return ResponseUsage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens,
                         total_tokens=usage.total_tokens, source=usage.source)


def chat_completion(reply: Reply, chat: ChatCompletionRequest, usage: Usage) -> dict[str, Any]:
    message = AssistantMessage(content=reply.text if reply.text or not reply.tool_calls else None,
                               tool_calls=reply.tool_calls or None)
    finish = "tool_calls" if reply.tool_calls else finish_reason(reply.finish_reason)
    return ChatCompletion(id=completion_id(), created=now(), model=chat.model,
                          choices=[Choice(message=message, finish_reason=finish)],
                          usage=usage).model_dump(exclude_none=True)


def function_calls(tool_calls: list[dict[str, Any]] | None) -> list[FunctionToolCall]:
    """A worker's tool calls (chat's shape) as Responses output items."""
    return [FunctionToolCall(id=function_call_id(), call_id=call["id"], name=call["function"]["name"],
                             arguments=call["function"]["arguments"]) for call in tool_calls or []]


def response_object(reply: Reply, request: ResponsesRequest, usage: Usage) -> dict[str, Any]:
    message = [OutputMessage(id=message_id(), content=[OutputText(text=reply.text)])] \
        if reply.text or not reply.tool_calls else []
    return ResponseObject(id=response_id(), created_at=now(), model=request.model, **request.echoed(),
                          output=[*message, *function_calls(reply.tool_calls)],
                          usage=response_usage(usage)).model_dump(exclude_none=True)


class StreamRenderer(Protocol):
    """One stream's events, as server-sent-event strings; it keeps what it has seen so far."""

    def opening(self) -> Iterator[str]: ...
    def piece(self, piece: Piece) -> Iterator[str]: ...
    def interrupted(self) -> str: ...
    def closing(self, usage_of: UsageOf) -> AsyncIterator[str]: ...


class ChatStream:
    """OpenAI chunks: role, content/tool-call deltas, finish, [usage], [DONE]."""

    def __init__(self, chat: ChatCompletionRequest):
        self.chat, self.ident, self.created = chat, completion_id(), now()
        self.text: list[str] = []
        self.finish, self.counts, self.called = "stop", {}, False

    def _event(self, choices: list[ChunkChoice], **extra: Any) -> str:
        chunk = ChatCompletionChunk(id=self.ident, created=self.created, model=self.chat.model, choices=choices,
                                    **extra)
        return f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"

    def opening(self) -> Iterator[str]:
        yield self._event([ChunkChoice(delta=Delta(role="assistant", content=""))])

    def piece(self, piece: Piece) -> Iterator[str]:
        if piece.text or piece.tool_calls:
            self.text.append(counted_text(piece.text, piece.tool_calls))
            self.called = self.called or bool(piece.tool_calls)
            deltas = [ToolCallDelta.model_validate(c) for c in piece.tool_calls] if piece.tool_calls else None
            yield self._event([ChunkChoice(delta=Delta(content=piece.text or None, tool_calls=deltas))])
        self.finish = piece.finish_reason or self.finish
        self.counts = piece.usage or self.counts

    def interrupted(self) -> str:
        body = error_body(f"{INTERRUPTED}; retry the request", "server_error", "upstream_interrupted")
        return f"data: {json.dumps(body)}\n\n"

    async def closing(self, usage_of: UsageOf) -> AsyncIterator[str]:
        finish = "tool_calls" if self.called else finish_reason(self.finish)
        yield self._event([ChunkChoice(delta=Delta(), finish_reason=finish)])
        if self.chat.stream_options and self.chat.stream_options.include_usage:
            yield self._event([], usage=await usage_of("".join(self.text), self.counts))
        yield "data: [DONE]\n\n"


class ResponseStream:
    """Responses API events: created, in_progress, the message item and its part added, text
    deltas, then the text, part and item done, each function call the worker made (added, its
    arguments, done: collected from its deltas), and completed (with usage)."""

    def __init__(self, request: ResponsesRequest):
        self.ident, self.item_id, self.sequence = response_id(), message_id(), 0
        self.base = ResponseObject(id=self.ident, created_at=now(), status="in_progress", model=request.model,
                                   output=[], **request.echoed())
        self.text: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}  # tool calls by index, as chat's shape, deltas joined
        self.counts: dict[str, int] = {}

    def _event(self, kind: str, **fields: Any) -> str:
        self.sequence += 1
        return f"event: {kind}\ndata: {json.dumps({'type': kind, 'sequence_number': self.sequence, **fields})}\n\n"

    def _in_part(self, kind: str, **fields: Any) -> str:
        return self._event(kind, item_id=self.item_id, output_index=0, content_index=0, **fields)

    def opening(self) -> Iterator[str]:
        yield self._event("response.created", response=self.base.model_dump(exclude_none=True))
        yield self._event("response.in_progress", response=self.base.model_dump(exclude_none=True))
        item = {"type": "message", "id": self.item_id, "status": "in_progress", "role": "assistant", "content": []}
        yield self._event("response.output_item.added", output_index=0, item=item)
        yield self._in_part("response.content_part.added", part={"type": "output_text", "text": "", "annotations": []})

    def piece(self, piece: Piece) -> Iterator[str]:
        if piece.text:
            self.text.append(piece.text)
            yield self._in_part("response.output_text.delta", delta=piece.text, logprobs=[])
        for delta in piece.tool_calls or []:
            call = self.calls.setdefault(delta["index"], {"id": "", "function": {"name": "", "arguments": ""}})
            call["id"] = delta.get("id") or call["id"]
            for key, part in delta.get("function", {}).items():
                call["function"][key] += part
        self.counts = piece.usage or self.counts

    def interrupted(self) -> str:
        return self._event("error", code="upstream_interrupted", message=f"{INTERRUPTED}; retry", param=None)

    async def closing(self, usage_of: UsageOf) -> AsyncIterator[str]:
        full = "".join(self.text)
        yield self._in_part("response.output_text.done", text=full, logprobs=[])
        yield self._in_part("response.content_part.done", part={"type": "output_text", "text": full, "annotations": []})
        message = OutputMessage(id=self.item_id, content=[OutputText(text=full)])
        yield self._event("response.output_item.done", output_index=0, item=message.model_dump())
        calls = [self.calls[index] for index in sorted(self.calls)]
        items = function_calls(calls)
        for index, item in enumerate(items, start=1):
            yield self._event("response.output_item.added", output_index=index,
                              item={**item.model_dump(), "arguments": "", "status": "in_progress"})
            yield self._event("response.function_call_arguments.done", output_index=index, item_id=item.id,
                              name=item.name, arguments=item.arguments)
            yield self._event("response.output_item.done", output_index=index, item=item.model_dump())
        usage = response_usage(await usage_of(counted_text(full, calls), self.counts))
        final = self.base.model_copy(update={"status": "completed", "output": [message, *items], "usage": usage})
        yield self._event("response.completed", response=final.model_dump(exclude_none=True))


@dataclass(frozen=True)
class Endpoint:
    """One generation endpoint's wire format: what it parses, how a reply and a stream render."""
    request: type[BaseModel]
    render: Callable[[Reply, Any, Usage], dict[str, Any]]
    stream: Callable[[Any], StreamRenderer]


CHAT = Endpoint(ChatCompletionRequest, chat_completion, ChatStream)
RESPONSES = Endpoint(ResponsesRequest, response_object, ResponseStream)
