"""LiteLLMPool: workers that are any model litellm can call (APIs, or local OpenAI-compatible servers).

Each worker is a litellm model string (``openai/<name>`` for any OpenAI-compatible server,
``anthropic/...``, ...) with its own ``api_base`` and ``api_key``. litellm reads its model
cost map from the local copy (``fugu`` sets ``LITELLM_LOCAL_MODEL_COST_MAP`` before this
import), so importing or constructing a pool touches no network; only ``answer`` does, and
only to the worker's ``api_base``. Retries are off: the *server's* fallback decides what to
try next, so one slow worker does not hide behind litellm's own retry loop.

A call's price is the one litellm computes during the call (``_hidden_params["response_cost"]``),
never computed twice; a model litellm has no price for (every local server) is registered with
litellm at construction as priced at zero (:func:`register_unpriced`), so litellm's cost lookup
finds it at once instead of searching its whole map on every call, and the reply carries the
worker's configured ``cost_per_call``, as before. Both cut litellm's per-call CPU (measured in
``benchmarks/results/serve_overhead.json``, ``litellm_call``).

The client's generation fields (``SUPPORTED_OPTIONS``: tools, tool_choice, response_format,
stop, max_tokens, temperature, top_p, seed, ...) are forwarded to the worker as litellm takes
them, overriding the pool's defaults; tool calls come back on the Reply. ``stream`` relays the
worker's own stream (litellm ``stream=True``) piece by piece.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable

import litellm

from fugu.pools.base import Piece, PoolError, Reply, Worker
from fugu.types import Message

SUPPORTED_OPTIONS = frozenset({"tools", "tool_choice", "parallel_tool_calls", "response_format", "stop",
                               "max_tokens", "temperature", "top_p", "seed", "presence_penalty",
                               "frequency_penalty", "reasoning_effort"})
# The OpenAI message fields a worker is sent: pools may carry extra keys (e.g. question_id).
MESSAGE_FIELDS = ("role", "content", "tool_calls", "tool_call_id", "name")


@dataclass(frozen=True)
class LiteLLMWorker:
    name: str                      # the name the router scores (never shown to clients)
    model: str                     # litellm model string, e.g. "openai/qwen2.5-7b"
    api_base: str | None = None    # e.g. "http://127.0.0.1:8001/v1"
    api_key: str | None = None     # literal key; or
    api_key_env: str | None = None # name of the environment variable holding it
    cost_per_call: float = 0.0     # used when litellm has no price for the model

    def key(self) -> str | None:
        if self.api_key is not None:
            return self.api_key
        if self.api_key_env is not None:
            if self.api_key_env not in os.environ:
                raise PoolError(f"worker {self.name!r}: environment variable {self.api_key_env} is not set")
            return os.environ[self.api_key_env]
        return None


class LiteLLMPool:
    def __init__(self, workers: list[LiteLLMWorker], timeout_s: float = 30.0,
                 max_tokens: int | None = None, temperature: float = 0.0):
        names = [w.name for w in workers]
        if len(set(names)) != len(names):
            raise ValueError(f"worker names must be unique, got {names}")
        self._specs = {w.name: w for w in workers}
        self.timeout_s, self.max_tokens, self.temperature = timeout_s, max_tokens, temperature
        litellm.suppress_debug_info = True  # its per-error "Give Feedback" banner would flood a server's log
        register_unpriced(w.model for w in workers)

    @property
    def workers(self) -> list[Worker]:
        return [Worker(name=w.name, cost_per_call=w.cost_per_call) for w in self._specs.values()]

    supported_options = SUPPORTED_OPTIONS

    def _call(self, worker: str, messages: list[Message], options: dict[str, Any]) -> dict[str, Any]:
        spec = self._specs.get(worker)
        if spec is None:
            raise PoolError(f"unknown worker {worker!r}; this pool has {list(self._specs)}")
        unknown = sorted(set(options) - SUPPORTED_OPTIONS)
        if unknown:
            raise PoolError(f"options {unknown} are not forwarded by this pool")
        defaults = {"max_tokens": self.max_tokens, "temperature": self.temperature}
        return dict(model=spec.model, messages=[{k: m[k] for k in MESSAGE_FIELDS if k in m} for m in messages],
                    api_base=spec.api_base, api_key=spec.key(), timeout=self.timeout_s, num_retries=0,
                    **{**defaults, **options})

    async def answer(self, worker: str, messages: list[Message], **options: Any) -> Reply:
        call = self._call(worker, messages, options)
        spec = self._specs[worker]
        started = time.perf_counter()
        try:
            response = await litellm.acompletion(**call)
        except Exception as exc:  # litellm maps every provider failure to its own exception types
            raise PoolError(f"worker {worker!r} ({spec.model}) failed: {type(exc).__name__}: {exc}") from exc
        latency = time.perf_counter() - started
        try:
            choice = response.choices[0]
            message = choice.message
        except (AttributeError, IndexError) as exc:
            raise PoolError(f"worker {worker!r} sent a reply without a message: {exc}") from exc
        tool_calls = [_tool_call(c) for c in (getattr(message, "tool_calls", None) or [])] or None
        return Reply(worker=worker, text=message.content or "", cost=_cost(response, spec), latency_s=latency,
                     usage=_counts(getattr(response, "usage", None)), tool_calls=tool_calls,
                     finish_reason="tool_calls" if tool_calls else (getattr(choice, "finish_reason", None) or "stop"))

    async def stream(self, worker: str, messages: list[Message], **options: Any) -> AsyncIterator[Piece]:
        """The worker's reply as it streams; PoolError if the call fails or the stream breaks."""
        call = self._call(worker, messages, options)
        spec = self._specs[worker]
        try:
            # No stream_options.include_usage: where the worker sends no usage litellm fills in its
            # own estimate, indistinguishable from the worker's; the server counts and labels instead.
            response = await litellm.acompletion(**call, stream=True)
            async for chunk in response:
                choices = getattr(chunk, "choices", None) or []
                delta = choices[0].delta if choices else None
                calls = getattr(delta, "tool_calls", None) if delta is not None else None
                yield Piece(text=(getattr(delta, "content", None) or "") if delta is not None else "",
                            tool_calls=[_tool_call_delta(c, i) for i, c in enumerate(calls)] if calls else None,
                            finish_reason=choices[0].finish_reason if choices else None,
                            usage=_counts(getattr(chunk, "usage", None)))
        except PoolError:
            raise
        except Exception as exc:
            raise PoolError(f"worker {worker!r} ({spec.model}) stream failed: {type(exc).__name__}: {exc}") from exc


def _counts(usage: object) -> dict[str, int]:
    """The worker's token counts; {} when it sent none (litellm fills zeros then: unknown, not zero)."""
    counts = {k: int(getattr(usage, k)) for k in ("prompt_tokens", "completion_tokens")
              if usage is not None and getattr(usage, k, None) is not None}
    return counts if any(counts.values()) else {}


def _tool_call(call: object) -> dict[str, Any]:
    function = getattr(call, "function", None)
    return {"id": str(getattr(call, "id", "") or ""), "type": "function",
            "function": {"name": str(getattr(function, "name", "") or ""),
                         "arguments": str(getattr(function, "arguments", "") or "")}}


def _tool_call_delta(call: object, position: int) -> dict[str, Any]:
    function = getattr(call, "function", None)
    delta: dict[str, Any] = {"index": int(getattr(call, "index", None) or position)}
    if getattr(call, "id", None):
        delta["id"], delta["type"] = str(call.id), "function"
    parts = {k: getattr(function, k, None) for k in ("name", "arguments")} if function is not None else {}
    if any(v is not None for v in parts.values()):
        delta["function"] = {k: str(v) for k, v in parts.items() if v is not None}
    return delta


def register_unpriced(models: Iterable[str]) -> None:
    """Register with litellm, priced at zero, each model its cost map has no price for. Without it
    litellm prices every call to such a model by searching its whole map for a match (~0.4 ms of
    CPU a call, measured); a zero price then makes ``_cost`` fall back to the worker's configured
    cost, exactly as an unknown model did."""
    for model in set(models):
        try:
            litellm.get_model_info(model)
            continue  # litellm prices it
        except Exception:
            pass
        try:
            provider = litellm.get_llm_provider(model)[1]
        except Exception:  # litellm cannot call it at all: the call itself will say so
            continue
        litellm.register_model({model: {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
                                        "cache_creation_input_token_cost": 0.0, "cache_read_input_token_cost": 0.0,
                                        "litellm_provider": provider, "mode": "chat"}})


def _cost(response: object, spec: LiteLLMWorker) -> float:
    """The price litellm computed for the call where it knows the model; the worker's configured cost
    otherwise (a model priced at zero: unknown to litellm, ``register_unpriced``)."""
    hidden = getattr(response, "_hidden_params", None) or {}
    try:
        cost = float(hidden.get("response_cost") or 0.0)
    except (TypeError, ValueError):
        return spec.cost_per_call
    return cost if math.isfinite(cost) and cost > 0 else spec.cost_per_call
