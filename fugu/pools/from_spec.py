"""A pool from a plain description (a params section or a ``fugu serve --workers`` YAML file).

    kind: litellm            # or local_hf
    timeout_s: 30            # litellm: per call
    max_tokens: 512          # litellm: per reply (optional)
    max_new_tokens: 256      # local_hf: per reply
    workers:
      - {name: small, model: openai/small, api_base: "http://127.0.0.1:8001/v1", api_key_env: SMALL_KEY}
      - {name: local, path: artifacts/models/qwen, system_prompt: "Answer briefly."}

One place knows both kinds, so the CLI and the stages describe pools the same way.
"""

from __future__ import annotations

from typing import Any

from fugu.pools.base import Pool


def pool_from_spec(spec: dict[str, Any]) -> Pool:
    kind = spec.get("kind")
    workers = spec.get("workers") or []
    if not workers:
        raise ValueError("the pool spec lists no workers")
    if kind == "litellm":
        from fugu.pools.litellm_pool import LiteLLMPool, LiteLLMWorker
        return LiteLLMPool([LiteLLMWorker(**w) for w in workers], timeout_s=float(spec.get("timeout_s", 30.0)),
                           max_tokens=spec.get("max_tokens"), temperature=float(spec.get("temperature", 0.0)))
    if kind == "local_hf":
        from fugu.pools.local_hf import LocalHFPool, LocalHFWorker
        return LocalHFPool([LocalHFWorker(**w) for w in workers], max_new_tokens=int(spec.get("max_new_tokens", 256)))
    raise ValueError(f"pool kind must be 'litellm' or 'local_hf', got {kind!r}")
