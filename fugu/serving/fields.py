"""The request fields of both endpoints in one table: what each becomes for a worker, or why not.

Chat completions and the Responses API spell the same request differently (``max_tokens`` /
``max_output_tokens``, ``response_format`` / ``text.format``, ``reasoning_effort`` /
``reasoning.effort``); a worker reached through litellm takes one spelling, litellm's. Each
row of ``FIELDS`` names a field in each endpoint (a dotted path; ``None``: that endpoint has no
such field) and what it becomes:

- a **worker option** (litellm's keyword): sent to the chosen worker, in litellm's form, when
  the pool honours that option (``pool.supported_options``: a litellm pool honours all but
  ``verbosity``, which litellm passes only for models it knows; the replay, local and scripted
  pools none; ultra mode none, as a workflow's steps take no generation fields), and otherwise
  a 400 ``unsupported_parameter`` naming the field as the client spelled it;
- ``REFUSED``: no worker behind this server can honour it (log-probabilities, audio, stored
  responses and conversations, reasoning summaries, moderation): set to anything but its unset
  value, it is a 400 ``unsupported_parameter`` naming it;
- ``IGNORED``: it changes nothing about the answer (``user``, ``metadata``, ``store``, caching
  and billing hints); clients send these by habit, so they are accepted;
- ``SERVER``: fugu itself reads it (the model name, the conversation, ``stream``, ``n``).

A field is never dropped silently: every parameter of the official ``openai`` client is a row
(tests/serving/test_generation_fields.py checks it against the installed client), the wire
models declare every forwarded or refused row (``protocol``), both endpoints build a worker's
options only through ``worker_options``, and the published schema restricts each field a
server cannot honour to its unset value through ``refused_fields`` (``openapi``), so the two
endpoints and /openapi.json decide every field alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

Api = Literal["chat", "responses"]
REFUSED, IGNORED, SERVER = "refused", "ignored", "server"


@dataclass(frozen=True)
class Field:
    chat: str | None        # its path in a chat completion request
    responses: str | None   # its path in a Responses API request
    becomes: str            # the worker option (litellm's keyword), or REFUSED, IGNORED, SERVER
    unset: tuple[Any, ...] = (None,)  # the values that ask for nothing

    def path(self, api: Api) -> str | None:
        return self.chat if api == "chat" else self.responses

    @property
    def forwarded(self) -> bool:
        return self.becomes not in (REFUSED, IGNORED, SERVER)


FIELDS = (
    #      chat completions          Responses API                  becomes
    Field("model",                   "model",                       SERVER),
    Field("messages",                "input",                       SERVER),
    Field(None,                      "instructions",                SERVER),   # a system turn first
    Field("stream",                  "stream",                      SERVER),
    Field("stream_options",          "stream_options",              SERVER),   # include_usage; include_obfuscation: no effect
    Field("n",                       None,                          SERVER),   # 1: one answer per request
    Field("tools",                   "tools",                       "tools"),  # Responses: function tools
    Field("tool_choice",             "tool_choice",                 "tool_choice"),
    Field("parallel_tool_calls",     "parallel_tool_calls",         "parallel_tool_calls"),
    Field("response_format",         "text.format",                 "response_format"),
    Field("verbosity",               "text.verbosity",              "verbosity"),
    Field("reasoning_effort",        "reasoning.effort",            "reasoning_effort"),
    Field("max_tokens",              "max_output_tokens",           "max_tokens"),
    Field("max_completion_tokens",   None,                          "max_tokens"),
    Field("stop",                    None,                          "stop"),
    Field("temperature",             "temperature",                 "temperature"),
    Field("top_p",                   "top_p",                       "top_p"),
    Field("seed",                    None,                          "seed"),
    Field("presence_penalty",        None,                          "presence_penalty"),
    Field("frequency_penalty",       None,                          "frequency_penalty"),
    # No worker here returns log-probabilities or audio, keeps state between requests, runs
    # OpenAI's hosted tools or its moderation, or writes reasoning summaries.
    Field("logprobs",                None,                          REFUSED, (None, False)),
    Field("top_logprobs",            "top_logprobs",                REFUSED),
    Field(None,                      "include",                     REFUSED, (None, [])),
    Field("logit_bias",              None,                          REFUSED, (None, {})),
    Field("audio",                   None,                          REFUSED),
    Field("modalities",              None,                          REFUSED, (None, ["text"])),
    Field("prediction",              None,                          REFUSED),
    Field("functions",               None,                          REFUSED),
    Field("function_call",           None,                          REFUSED),
    Field("web_search_options",      None,                          REFUSED),
    Field("moderation",              "moderation",                  REFUSED),
    Field(None,                      "previous_response_id",        REFUSED),
    Field(None,                      "conversation",                REFUSED),
    Field(None,                      "background",                  REFUSED, (None, False)),
    Field(None,                      "background_options",          REFUSED),
    Field(None,                      "prompt",                      REFUSED),
    Field(None,                      "max_tool_calls",              REFUSED),
    Field(None,                      "truncation",                  REFUSED, (None, "disabled")),
    Field(None,                      "context_management",          REFUSED),
    Field(None,                      "image",                       REFUSED),
    Field(None,                      "access_programs",             REFUSED),
    Field(None,                      "reasoning.summary",           REFUSED),
    Field(None,                      "reasoning.generate_summary",  REFUSED),
    Field(None,                      "reasoning.mode",              REFUSED),
    Field(None,                      "reasoning.context",           REFUSED),
    # Bookkeeping and hints that change nothing about the answer.
    Field("user",                    "user",                        IGNORED),
    Field("metadata",                "metadata",                    IGNORED),
    Field("store",                   "store",                       IGNORED),  # nothing is stored; a reference to a stored response is refused
    Field("service_tier",            "service_tier",                IGNORED),
    Field("safety_identifier",       "safety_identifier",           IGNORED),
    Field("prompt_cache_key",        "prompt_cache_key",            IGNORED),
    Field("prompt_cache_retention",  "prompt_cache_retention",      IGNORED),
    Field("prompt_cache_options",    "prompt_cache_options",        IGNORED),
)
WORKER_OPTIONS = frozenset(field.becomes for field in FIELDS if field.forwarded)


class NotHonoured(Exception):
    """A field set that the workers cannot honour; ``path`` is its name as the client spelled it."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


def worker_options(request: BaseModel, api: Api, honoured: frozenset[str]) -> dict[str, Any]:
    """The worker options ``request`` sets, in litellm's form; NotHonoured for the first field set
    (in the table's order) that is refused or becomes an option outside ``honoured``."""
    options: dict[str, Any] = {}
    for field in FIELDS:
        path = field.path(api)
        if path is None or field.becomes in (IGNORED, SERVER):
            continue
        value = value_at(request, path)
        if is_unset(value, field.unset):
            continue
        if field.becomes not in honoured:  # REFUSED is no pool's option
            raise NotHonoured(path)
        value = worker_form(value)
        if field.becomes in options:  # max_tokens and max_completion_tokens both set: the tighter
            value = min(value, options[field.becomes])
        options[field.becomes] = value
    return options


def refused_fields(api: Api, honoured: frozenset[str]) -> dict[str, tuple[Any, ...]]:
    """Every field of ``api`` a server whose workers honour ``honoured`` refuses: path → unset values."""
    return {field.path(api): field.unset for field in FIELDS
            if field.path(api) is not None and field.becomes not in (IGNORED, SERVER)
            and field.becomes not in honoured}


def value_at(request: BaseModel, path: str) -> Any:
    """The value at a dotted path of the request, each part a field's name on the wire (its alias
    where it has one: ``conversation`` is not the ``conversation()`` method); None where a part
    on the way is unset."""
    value: Any = request
    for name in path.split("."):
        declared = {info.alias or key: key for key, info in type(value).model_fields.items()}
        value = getattr(value, declared[name])
        if value is None:
            return None
    return value


def is_unset(value: Any, unset: tuple[Any, ...]) -> bool:
    """Whether ``value`` asks for nothing: one of the unset values, of the same type (``0`` is not ``False``)."""
    return any(value == candidate and type(value) is type(candidate) for candidate in unset)


def worker_form(value: Any) -> Any:
    """A wire value as litellm takes it: a model with ``for_worker`` converts itself (a Responses
    tool, format or tool choice into chat's shape), other models dump as JSON, lists item by item."""
    if isinstance(value, BaseModel):
        return value.for_worker() if hasattr(value, "for_worker") else value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [worker_form(item) for item in value]
    return value
