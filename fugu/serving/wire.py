"""The OpenAI chat-completions wire format, declared once: requests, responses, error bodies.

Only the part of the API an orchestrator can honour is accepted: ``n`` must be 1, roles are
``system`` / ``user`` / ``assistant`` (a ``tool`` turn has no worker-neutral meaning), and
content is text (a string or a list of ``{"type": "text"}`` parts). Unknown top-level fields
are ignored, as clients add new ones faster than servers learn them. Sampling fields are
checked for range so a bad one is a clear 400, but the workers run with the pool's own
settings: the coordinator, not the client, decides who answers and how.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["system", "user", "assistant"]


class TextPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Role
    content: str | list[TextPart]
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str = Field(min_length=1, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, allow_inf_nan=False)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)
    stop: str | list[str] | None = None
    user: str | None = None

    @field_validator("messages")
    @classmethod
    def _has_user_turn(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if not any(m.role == "user" for m in messages):
            raise ValueError("the conversation needs at least one user message")
        return messages

    def conversation(self) -> list[dict[str, str]]:
        """The messages as the plain dicts pools and routers read."""
        return [{"role": m.role, "content": m.text()} for m in self.messages]


def check_token_limit(request: ChatCompletionRequest, limit: int) -> None:
    """Raise ValueError when the requested token budget exceeds what the server allows."""
    for field in ("max_tokens", "max_completion_tokens"):
        value = getattr(request, field)
        if value is not None and value > limit:
            raise ValueError(f"{field}={value} exceeds this server's limit of {limit}")


# --- responses ----------------------------------------------------------------------------


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def usage_from(counts: dict[str, int]) -> Usage | None:
    """Usage where the worker reported token counts; None rather than a made-up zero."""
    if "prompt_tokens" not in counts or "completion_tokens" not in counts:
        return None
    prompt, completion = int(counts["prompt_tokens"]), int(counts["completion_tokens"])
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


# --- errors -------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_body(message: str, type: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """``{"error": {...}}`` as OpenAI sends it, so clients raise their usual exceptions."""
    return ErrorBody(error=ErrorDetail(message=message, type=type, param=param, code=code)).model_dump()
