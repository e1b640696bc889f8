"""The OpenAI wire formats, declared once: chat completions, responses, models, error bodies.

Requests are validated *strictly*, as OpenAI does: ``"0.5"`` is not a temperature, ``"yes"``
is not a boolean, ``5.0`` is not a token count; ranges and enums are OpenAI's. Roles are
``system``, ``developer`` (mapped to ``system`` for workers, many lack it), ``user``,
``assistant`` (with ``tool_calls``) and ``tool`` (a tool result, with ``tool_call_id``).
Content is text: a string or ``{"type": "text"}`` parts; an image, audio or file part is a
400 that says the pool takes text only.

The generation fields an orchestrator can forward (``FORWARDED``: tools, tool_choice,
response_format, stop, max_tokens, temperature, top_p, seed, penalties, parallel_tool_calls)
go to the chosen worker; fields no worker here can honour (``UNSUPPORTED``: logprobs,
logit_bias, audio output, ...) are a 400 naming the field, never silently dropped. Other
unknown top-level fields (``user``, ``metadata``, ``store``, ...) change nothing about the
answer and are ignored, as clients add new ones faster than servers learn them.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

Role = Literal["system", "developer", "user", "assistant", "tool"]
STRICT = ConfigDict(strict=True, extra="ignore")
CLOSED = ConfigDict(strict=True, extra="forbid")
# OpenAI's function-name rule.
NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
TEXT_ONLY = ("image_url", "input_image", "input_audio", "audio", "file", "input_file")


def worker_role(role: str) -> str:
    """The role as workers read it: ``developer`` is OpenAI's newer name for ``system``, which
    many workers' chat templates lack."""
    return "system" if role == "developer" else role


class TextPart(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    type: Literal["text"]
    text: str


class FunctionCall(BaseModel):
    model_config = STRICT
    name: str
    arguments: str


class ToolCall(BaseModel):
    model_config = STRICT
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


def _text_parts_only(value: Any) -> Any:
    """A clear message for parts the pool cannot take, before pydantic's generic union error."""
    if isinstance(value, list):
        for index, part in enumerate(value):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in TEXT_ONLY:
                raise ValueError(f"content part {index} is of type {kind!r}: this server's workers take text only "
                                 "(send {\"type\": \"text\", \"text\": ...} parts or a string)")
    return value


class ChatMessage(BaseModel):
    model_config = STRICT
    role: Role
    content: str | list[TextPart] | None = None
    name: str | None = Field(default=None, max_length=256)
    tool_calls: list[ToolCall] | None = None   # assistant: the tools it asked for
    tool_call_id: str | None = None            # tool: which call this is the result of

    _parts = field_validator("content", mode="before")(classmethod(lambda cls, v: _text_parts_only(v)))

    @model_validator(mode="after")
    def _fits_role(self) -> "ChatMessage":
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(f"a {self.role} message needs content (only an assistant turn with tool_calls may omit it)")
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs the tool_call_id of the call it answers")
        if self.tool_calls is not None and self.role != "assistant":
            raise ValueError("only assistant messages carry tool_calls")
        return self

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)

    def for_worker(self) -> dict[str, Any]:
        """The message as pools read it: role (developer → system), text content, tool fields."""
        message: dict[str, Any] = {"role": worker_role(self.role), "content": self.text()}
        if self.tool_calls:
            message["tool_calls"] = [call.model_dump() for call in self.tool_calls]
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            message["name"] = self.name
        return message


class StreamOptions(BaseModel):
    model_config = STRICT
    include_usage: bool = False


class FunctionDefinition(BaseModel):
    model_config = STRICT
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(BaseModel):
    model_config = STRICT
    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(BaseModel):
    model_config = STRICT
    name: str = Field(pattern=NAME_PATTERN)


class NamedToolChoice(BaseModel):
    model_config = STRICT
    type: Literal["function"]
    function: NamedFunction


class TextFormat(BaseModel):
    model_config = CLOSED
    type: Literal["text"]


class JsonObjectFormat(BaseModel):
    model_config = CLOSED
    type: Literal["json_object"]


class JsonSchemaSpec(BaseModel):
    model_config = STRICT
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class JsonSchemaFormat(BaseModel):
    model_config = CLOSED
    type: Literal["json_schema"]
    json_schema: JsonSchemaSpec


ResponseFormat = Annotated[Union[TextFormat, JsonObjectFormat, JsonSchemaFormat], Field(discriminator="type")]
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Penalty = Annotated[float, Field(ge=-2.0, le=2.0, allow_inf_nan=False)]

# Forwarded to the chosen worker when set (the pool must say it honours each; see service.py).
FORWARDED = ("tools", "tool_choice", "parallel_tool_calls", "response_format", "stop", "max_tokens",
             "temperature", "top_p", "seed", "presence_penalty", "frequency_penalty")
# OpenAI fields no worker behind this server can honour: set to anything but their default → 400.
UNSUPPORTED = {"logprobs": (None, False), "top_logprobs": (None,), "logit_bias": (None, {}),
               "audio": (None,), "modalities": (None, ["text"]), "prediction": (None,),
               "functions": (None,), "function_call": (None,), "web_search_options": (None,)}


class ChatCompletionRequest(BaseModel):
    model_config = STRICT
    model: str = Field(min_length=1, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, allow_inf_nan=False)
    top_p: Probability | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    seed: int | None = None
    stop: str | list[str] | None = Field(default=None)
    tools: list[Tool] | None = Field(default=None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    user: str | None = None
    # Declared so that a set one is refused by name (UNSUPPORTED), not ignored.
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    logit_bias: dict[str, int] | None = None
    audio: dict[str, Any] | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    prediction: dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > 4:
            raise ValueError("at most 4 stop sequences")
        return stop

    @field_validator("messages")
    @classmethod
    def _has_user_turn(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if not any(m.role == "user" for m in messages):
            raise ValueError("the conversation needs at least one user message")
        return messages

    @field_validator("tool_choice")
    @classmethod
    def _choice_needs_tools(cls, choice, info: ValidationInfo):
        tools = info.data.get("tools")
        if choice is not None and choice != "none" and not tools:
            raise ValueError("tool_choice needs tools")
        if isinstance(choice, NamedToolChoice) and choice.function.name not in {t.function.name for t in tools}:
            raise ValueError(f"tool_choice names {choice.function.name!r}, which is not among the tools")
        return choice

    @field_validator("stream_options")
    @classmethod
    def _only_when_streaming(cls, options, info: ValidationInfo):
        if options is not None and not info.data.get("stream"):
            raise ValueError("stream_options is only allowed with stream: true")
        return options

    def unsupported(self) -> str | None:
        """The first field set that no worker here can honour, or None."""
        for name, defaults in UNSUPPORTED.items():
            if getattr(self, name) not in defaults:
                return name
        return None

    def conversation(self) -> list[dict[str, Any]]:
        """The messages as the plain dicts pools and routers read."""
        return [m.for_worker() for m in self.messages]

    def options(self) -> dict[str, Any]:
        """The generation fields the client set, as litellm takes them (max_completion_tokens → max_tokens)."""
        chosen = {name: getattr(self, name) for name in FORWARDED if getattr(self, name) is not None}
        if self.max_completion_tokens is not None:
            chosen["max_tokens"] = min(self.max_completion_tokens, chosen.get("max_tokens", self.max_completion_tokens))
        return {name: (value.model_dump(by_alias=True, exclude_none=True) if isinstance(value, BaseModel) else
                       [v.model_dump(by_alias=True, exclude_none=True) if isinstance(v, BaseModel) else v for v in value]
                       if isinstance(value, list) else value)
                for name, value in chosen.items()}


def check_token_limit(request: Any, limit: int) -> None:
    """Raise ValueError when the requested token budget exceeds what the server allows."""
    for field in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        value = getattr(request, field, None)
        if value is not None and value > limit:
            raise ValueError(f"{field}={value} exceeds this server's limit of {limit}")


# --- chat responses ---------------------------------------------------------------------

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


def finish_reason(reason: str | None) -> FinishReason:
    """A worker's finish reason as OpenAI's enum allows it; anything else (a provider's own
    ``"eos"``, ``None``) reads as ``"stop"`` rather than failing the client's parser."""
    return reason if reason in get_args(FinishReason) else "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    # "worker": the worker's own counts; "counted": the worker reported none, so fugu counted
    # the text with a tokenizer (tiktoken cl100k_base: an estimate for other models' tokenizers).
    source: Literal["worker", "counted"] = "worker"


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    tool_calls: list[ToolCall] | None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: FinishReason = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None


class FunctionCallDelta(BaseModel):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(BaseModel):
    index: int
    id: str | None = None
    type: Literal["function"] | None = None
    function: FunctionCallDelta | None = None


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None
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
    description: str | None = None


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


# --- the Responses API ------------------------------------------------------------------


class InputText(BaseModel):
    model_config = STRICT
    type: Literal["input_text", "output_text", "text"]
    text: str


class InputMessage(BaseModel):
    model_config = STRICT
    type: Literal["message"] | None = None
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[InputText]

    _parts = field_validator("content", mode="before")(classmethod(lambda cls, v: _text_parts_only(v)))

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)


class ResponsesRequest(BaseModel):
    model_config = STRICT
    model: str = Field(min_length=1, max_length=256)
    input: str | list[InputMessage]
    instructions: str | None = None
    stream: bool = False
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, allow_inf_nan=False)
    top_p: Probability | None = None
    user: str | None = None
    # Not honoured by any worker here: set → 400 naming it.
    tools: list[dict[str, Any]] | None = None
    previous_response_id: str | None = None
    background: bool | None = None

    @field_validator("input")
    @classmethod
    def _has_user_turn(cls, value: str | list[InputMessage]) -> str | list[InputMessage]:
        if isinstance(value, str):
            if not value:
                raise ValueError("input is empty")
        elif not any(m.role == "user" for m in value):
            raise ValueError("input needs at least one user message")
        return value

    def unsupported(self) -> str | None:
        for name in ("tools", "previous_response_id", "background"):
            if getattr(self, name) not in (None, [], False):
                return name
        return None

    def conversation(self) -> list[dict[str, Any]]:
        turns = [{"role": "system", "content": self.instructions}] if self.instructions else []
        if isinstance(self.input, str):
            return turns + [{"role": "user", "content": self.input}]
        return turns + [{"role": worker_role(m.role), "content": m.text()} for m in self.input]

    def options(self) -> dict[str, Any]:
        chosen = {"max_tokens": self.max_output_tokens, "temperature": self.temperature, "top_p": self.top_p}
        return {k: v for k, v in chosen.items() if v is not None}


class OutputText(BaseModel):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[Any] = Field(default_factory=list)


class OutputMessage(BaseModel):
    type: Literal["message"] = "message"
    id: str
    status: Literal["completed", "in_progress"] = "completed"
    role: Literal["assistant"] = "assistant"
    content: list[OutputText]


class ResponseUsage(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_tokens_details: dict[str, int] = Field(default_factory=lambda: {"cached_tokens": 0})
    output_tokens_details: dict[str, int] = Field(default_factory=lambda: {"reasoning_tokens": 0})
    source: Literal["worker", "counted"] = "worker"


class ResponseObject(BaseModel):
    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["completed", "in_progress"] = "completed"
    model: str
    output: list[OutputMessage]
    usage: ResponseUsage | None = None
    parallel_tool_calls: bool = False
    tool_choice: str = "none"
    tools: list[Any] = Field(default_factory=list)
    instructions: str | None = None
    error: None = None
    incomplete_details: None = None


def response_id() -> str:
    return f"resp_{uuid.uuid4().hex}"


def message_id() -> str:
    """An output item's id (``msg_...``), as the Responses API names them."""
    return f"msg_{uuid.uuid4().hex}"


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
