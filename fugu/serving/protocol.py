"""The OpenAI wire formats, declared once: chat completions, responses, models, error bodies.

Requests are validated *strictly*, as OpenAI does: ``"0.5"`` is not a temperature, ``"yes"``
is not a boolean, ``5.0`` is not a token count; ranges and enums are OpenAI's. Roles are
``system``, ``developer`` (mapped to ``system`` for workers, many lack it), ``user``,
``assistant`` (with ``tool_calls``) and ``tool`` (a tool result, with ``tool_call_id``).
Content is text: a string or ``{"type": "text"}`` parts; an image, audio or file part is a
400 that says the pool takes text only.

What becomes of each field (sent to the worker in litellm's form, refused by name, or
ignored) is decided for both endpoints by one table, ``fugu.serving.fields``; the models here
declare every field that table forwards or refuses, so none is dropped silently. Unknown
top-level fields are ignored, as clients add new ones faster than servers learn them.

The published schema states the rules that span fields (a user turn, what a role needs,
``tool_choice`` needs ``tools``, ``stream_options`` needs ``stream``) beside the validators
that enforce them, so /openapi.json accepts what the server accepts.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Role = Literal["system", "developer", "user", "assistant", "tool"]
STRICT = ConfigDict(strict=True, extra="ignore")
CLOSED = ConfigDict(strict=True, extra="forbid")
# OpenAI's function-name rule.
NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
TEXT_ONLY = ("image_url", "input_image", "input_audio", "audio", "file", "input_file")
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
Verbosity = Literal["low", "medium", "high"]
NOT_NULL = {"not": {"type": "null"}}
# Rules spanning fields, as JSON Schema (the validators below enforce the same).
USER_TURN = {"contains": {"type": "object", "required": ["role"], "properties": {"role": {"const": "user"}}}}
# On Responses, a user turn is a message item (its type "message" or unset), not a call's output.
USER_MESSAGE = {"contains": {"type": "object", "required": ["role"],
                             "properties": {"role": {"const": "user"}, "type": {"enum": ["message", None]}}}}
TOOL_CHOICE_NEEDS_TOOLS = {
    "if": {"required": ["tool_choice"], "properties": {"tool_choice": {"not": {"enum": [None, "none"]}}}},
    "then": {"required": ["tools"], "properties": {"tools": {"type": "array", "minItems": 1}}}}
STREAM_OPTIONS_NEED_STREAM = {
    "if": {"required": ["stream_options"], "properties": {"stream_options": NOT_NULL}},
    "then": {"required": ["stream"], "properties": {"stream": {"const": True}}}}


def worker_role(role: str) -> str:
    """The role as workers read it: ``developer`` is OpenAI's newer name for ``system``, which
    many workers' chat templates lack."""
    return "system" if role == "developer" else role


def only_when_streaming(options: Any, info: ValidationInfo) -> Any:
    """``stream_options`` means something only for a streamed answer: both endpoints refuse it otherwise."""
    if options is not None and not info.data.get("stream"):
        raise ValueError("stream_options is only allowed with stream: true")
    return options

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


# What ``ChatMessage._fits_role`` requires, as JSON Schema: content (a tool turn also its call
# id, and only an assistant turn tool_calls), except an assistant turn with tool_calls.
MESSAGE_FITS_ROLE = {"allOf": [
    {"if": {"properties": {"role": {"const": "assistant"}}},
     "then": {"anyOf": [{"required": ["content"], "properties": {"content": NOT_NULL}},
                        {"required": ["tool_calls"], "properties": {"tool_calls": {"type": "array", "minItems": 1}}}]},
     "else": {"required": ["content"], "properties": {"content": NOT_NULL, "tool_calls": {"type": "null"}}}},
    {"if": {"properties": {"role": {"const": "tool"}}},
     "then": {"required": ["tool_call_id"], "properties": {"tool_call_id": {"type": "string", "minLength": 1}}}},
]}


class ChatMessage(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", json_schema_extra=MESSAGE_FITS_ROLE)
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



class ChatCompletionRequest(BaseModel):
    """A chat completion request; ``fugu.serving.fields`` says what becomes of each field."""
    model_config = ConfigDict(strict=True, extra="ignore",
                              json_schema_extra={"allOf": [TOOL_CHOICE_NEEDS_TOOLS, STREAM_OPTIONS_NEED_STREAM]})
    api: ClassVar[str] = "chat"
    model: str = Field(min_length=1, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1, json_schema_extra=USER_TURN)
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
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    tools: list[Tool] | None = Field(default=None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: ReasoningEffort | None = None
    verbosity: Verbosity | None = None
    user: str | None = None
    # Declared so that a set one is refused by name (fields.REFUSED), not ignored.
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    logit_bias: dict[str, int] | None = None
    audio: dict[str, Any] | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    prediction: dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    moderation: Any = None

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
        return only_when_streaming(options, info)

    def conversation(self) -> list[dict[str, Any]]:
        """The messages as the plain dicts pools and routers read."""
        return [m.for_worker() for m in self.messages]


TOKEN_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")  # capped by max_tokens_limit


def check_token_limit(request: Any, limit: int) -> None:
    """Raise ValueError when the requested token budget exceeds what the server allows."""
    for field in TOKEN_FIELDS:
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


def _joined(content: str | list[InputText]) -> str:
    return content if isinstance(content, str) else "".join(part.text for part in content)


class InputMessage(BaseModel):
    model_config = STRICT
    type: Literal["message"] | None = None
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[InputText]

    _parts = field_validator("content", mode="before")(classmethod(lambda cls, v: _text_parts_only(v)))

    def text(self) -> str:
        return _joined(self.content)


class FunctionCallItem(BaseModel):
    """A function call the assistant made earlier (an output item sent back as input)."""
    model_config = STRICT
    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(pattern=NAME_PATTERN)
    arguments: str

    def tool_call(self) -> dict[str, Any]:
        return {"id": self.call_id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


class FunctionCallOutputItem(BaseModel):
    """The result of a function call, for the assistant's next turn."""
    model_config = STRICT
    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: str | list[InputText]

    _parts = field_validator("output", mode="before")(classmethod(lambda cls, v: _text_parts_only(v)))


def _item_type(item: Any) -> str | None:
    """An input item's kind: its ``type``, a message when it has none."""
    if isinstance(item, dict):
        return item.get("type") or "message"
    return getattr(item, "type", None) or "message"


# Other item types (reasoning, item references, hosted tools' calls) are a 400 naming the item.
InputItem = Annotated[Union[Annotated[InputMessage, Tag("message")], Annotated[FunctionCallItem, Tag("function_call")],
                            Annotated[FunctionCallOutputItem, Tag("function_call_output")]], Discriminator(_item_type)]


class FunctionTool(BaseModel):
    """A Responses function tool: name and parameters beside ``type`` (chat nests them in ``function``)."""
    model_config = STRICT
    type: Literal["function"]
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None

    def for_worker(self) -> dict[str, Any]:
        return {"type": "function", "function": self.model_dump(exclude={"type"}, exclude_none=True)}


class NamedFunctionTool(BaseModel):
    model_config = STRICT
    type: Literal["function"]
    name: str = Field(pattern=NAME_PATTERN)

    def for_worker(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name}}


class JsonSchemaTextFormat(BaseModel):
    """``text.format`` for structured output: chat's ``json_schema`` spec, flattened."""
    model_config = CLOSED
    type: Literal["json_schema"]
    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None

    def for_worker(self) -> dict[str, Any]:
        return {"type": "json_schema", "json_schema": self.model_dump(by_alias=True, exclude={"type"}, exclude_none=True)}


class TextConfig(BaseModel):
    model_config = CLOSED
    format: Annotated[Union[TextFormat, JsonObjectFormat, JsonSchemaTextFormat], Field(discriminator="type")] | None = None
    verbosity: Verbosity | None = None


class ReasoningConfig(BaseModel):
    model_config = CLOSED
    effort: ReasoningEffort | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None
    mode: str | None = None
    context: Literal["auto", "current_turn", "all_turns"] | None = None


class ResponsesStreamOptions(BaseModel):
    model_config = STRICT
    include_obfuscation: bool | None = None  # fugu's events carry no obfuscation padding either way


def _function_tools_only(tools: Any) -> Any:
    """OpenAI's hosted tools (web search, file search, code interpreter, ...) run at OpenAI: refused by name."""
    for index, tool in enumerate(tools if isinstance(tools, list) else []):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if isinstance(kind, str) and kind != "function":
            raise PydanticCustomError("unsupported_parameter", "tools.{index}: a '{kind}' tool runs at OpenAI; "
                                      "this server's workers take function tools only", {"index": index, "kind": kind})
    return tools


def _function_choice_only(choice: Any) -> Any:
    kind = choice.get("type") if isinstance(choice, dict) else None
    if isinstance(kind, str) and kind != "function":
        raise PydanticCustomError("unsupported_parameter", "choosing a '{kind}' tool is not available: this server's "
                                  "workers take function tools only", {"kind": kind})
    return choice


class ResponsesRequest(BaseModel):
    """A Responses API request; ``fugu.serving.fields`` says what becomes of each field."""
    model_config = ConfigDict(strict=True, extra="ignore",
                              json_schema_extra={"allOf": [TOOL_CHOICE_NEEDS_TOOLS, STREAM_OPTIONS_NEED_STREAM]})
    api: ClassVar[str] = "responses"
    model: str = Field(min_length=1, max_length=256)
    input: Annotated[str, Field(min_length=1)] | Annotated[list[InputItem], Field(min_length=1, json_schema_extra=USER_MESSAGE)]
    instructions: str | None = None
    stream: bool = False
    stream_options: ResponsesStreamOptions | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, allow_inf_nan=False)
    top_p: Probability | None = None
    tools: list[FunctionTool] | None = Field(default=None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedFunctionTool | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    user: str | None = None
    # Declared so that a set one is refused by name (fields.REFUSED), not ignored.
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    include: list[str] | None = None
    previous_response_id: str | None = None
    conversation_: Any = Field(default=None, alias="conversation")  # conversation() is the turns
    background: bool | None = None
    background_options: Any = None
    prompt: Any = None
    max_tool_calls: int | None = None
    truncation: Literal["auto", "disabled"] | None = None
    context_management: Any = None
    image: Any = None
    access_programs: Any = None
    moderation: Any = None

    _tools = field_validator("tools", mode="before")(classmethod(lambda cls, v: _function_tools_only(v)))
    _choice = field_validator("tool_choice", mode="before")(classmethod(lambda cls, v: _function_choice_only(v)))

    @field_validator("input")
    @classmethod
    def _has_user_turn(cls, value: str | list[Any]) -> str | list[Any]:
        if isinstance(value, list) and not any(isinstance(m, InputMessage) and m.role == "user" for m in value):
            raise ValueError("input needs at least one user message")
        return value

    @field_validator("tool_choice")
    @classmethod
    def _choice_needs_tools(cls, choice, info: ValidationInfo):
        tools = info.data.get("tools")
        if choice is not None and choice != "none" and not tools:
            raise ValueError("tool_choice needs tools")
        if isinstance(choice, NamedFunctionTool) and choice.name not in {t.name for t in tools}:
            raise ValueError(f"tool_choice names {choice.name!r}, which is not among the tools")
        return choice

    @field_validator("stream_options")
    @classmethod
    def _only_when_streaming(cls, options, info: ValidationInfo):
        return only_when_streaming(options, info)

    def conversation(self) -> list[dict[str, Any]]:
        """The turns as the plain chat dicts pools and routers read: instructions as a system turn,
        consecutive function calls as one assistant turn's tool_calls, their outputs as tool turns."""
        turns: list[dict[str, Any]] = [{"role": "system", "content": self.instructions}] if self.instructions else []
        if isinstance(self.input, str):
            return turns + [{"role": "user", "content": self.input}]
        for item in self.input:
            if isinstance(item, FunctionCallItem):
                if turns and turns[-1]["role"] == "assistant":
                    turns[-1].setdefault("tool_calls", []).append(item.tool_call())
                else:
                    turns.append({"role": "assistant", "content": "", "tool_calls": [item.tool_call()]})
            elif isinstance(item, FunctionCallOutputItem):
                turns.append({"role": "tool", "content": _joined(item.output), "tool_call_id": item.call_id})
            else:
                turns.append({"role": worker_role(item.role), "content": item.text()})
        return turns

    def echoed(self) -> dict[str, Any]:
        """What a response object repeats of its request, as OpenAI's do."""
        choice = self.tool_choice.model_dump() if isinstance(self.tool_choice, BaseModel) else self.tool_choice
        return {"instructions": self.instructions,
                "tools": [tool.model_dump(exclude_none=True) for tool in self.tools or []],
                "tool_choice": choice or ("auto" if self.tools else "none"),
                "parallel_tool_calls": self.parallel_tool_calls if self.parallel_tool_calls is not None
                else bool(self.tools)}


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


class FunctionToolCall(BaseModel):
    """An output item: the assistant calls a function (``call_id`` links the output sent back)."""
    type: Literal["function_call"] = "function_call"
    id: str
    call_id: str
    name: str
    arguments: str
    status: Literal["completed", "in_progress"] = "completed"


OutputItem = Annotated[Union[OutputMessage, FunctionToolCall], Field(discriminator="type")]


class ResponseObject(BaseModel):
    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["completed", "in_progress"] = "completed"
    model: str
    output: list[OutputItem]
    usage: ResponseUsage | None = None
    parallel_tool_calls: bool = False
    tool_choice: str | dict[str, Any] = "none"
    tools: list[dict[str, Any]] = Field(default_factory=list)
    instructions: str | None = None
    error: None = None
    incomplete_details: None = None


def response_id() -> str:
    return f"resp_{uuid.uuid4().hex}"


def message_id() -> str:
    """An output item's id (``msg_...``), as the Responses API names them."""
    return f"msg_{uuid.uuid4().hex}"


def function_call_id() -> str:
    """A function call item's id (``fc_...``); its ``call_id`` is the worker's."""
    return f"fc_{uuid.uuid4().hex}"


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
