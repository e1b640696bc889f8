"""LiteLLMPool: workers that are any model litellm can call (APIs, or local OpenAI-compatible servers).

Each worker is a litellm model string (``openai/<name>`` for any OpenAI-compatible server,
``anthropic/...``, ...) with its own ``api_base`` and ``api_key``. litellm reads its model
cost map from the local copy (``fugu`` sets ``LITELLM_LOCAL_MODEL_COST_MAP`` before this
import), so importing or constructing a pool touches no network; only ``answer`` does, and
only to the worker's ``api_base``. Retries are off: the *server's* fallback decides what to
try next, so one slow worker does not hide behind litellm's own retry loop.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import litellm

from fugu.types import Message
from fugu.pools.base import PoolError, Reply, Worker


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

    @property
    def workers(self) -> list[Worker]:
        return [Worker(name=w.name, cost_per_call=w.cost_per_call) for w in self._specs.values()]

    async def answer(self, worker: str, messages: list[Message]) -> Reply:
        spec = self._specs.get(worker)
        if spec is None:
            raise PoolError(f"unknown worker {worker!r}; this pool has {list(self._specs)}")
        started = time.perf_counter()
        try:
            response = await litellm.acompletion(
                model=spec.model,
                # Only the OpenAI fields: pools may carry extra keys (e.g. question_id) on messages.
                messages=[{"role": m["role"], "content": m["content"]} for m in messages],
                api_base=spec.api_base, api_key=spec.key(), timeout=self.timeout_s, num_retries=0,
                max_tokens=self.max_tokens, temperature=self.temperature,
            )
        except PoolError:
            raise
        except Exception as exc:  # litellm maps every provider failure to its own exception types
            raise PoolError(f"worker {worker!r} ({spec.model}) failed: {type(exc).__name__}: {exc}") from exc
        latency = time.perf_counter() - started
        try:
            text = response.choices[0].message.content
        except (AttributeError, IndexError) as exc:
            raise PoolError(f"worker {worker!r} sent a reply without a message: {exc}") from exc
        usage = getattr(response, "usage", None)
        counts = {k: int(getattr(usage, k)) for k in ("prompt_tokens", "completion_tokens")
                  if usage is not None and getattr(usage, k, None) is not None}
        if not any(counts.values()):  # litellm fills zeros when the server reports no usage: unknown, not zero
            counts = {}
        return Reply(worker=worker, text=text or "", cost=_cost(response, spec), latency_s=latency, usage=counts)


def _cost(response: object, spec: LiteLLMWorker) -> float:
    """litellm's price for the call where it knows the model; the worker's configured cost otherwise."""
    try:
        cost = float(litellm.completion_cost(completion_response=response))
    except Exception:  # unknown model (every local server): no price in the cost map
        return spec.cost_per_call
    return cost if math.isfinite(cost) and cost > 0 else spec.cost_per_call
