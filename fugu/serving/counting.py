"""Token counts for replies whose worker reports none, so usage is always reported.

Counted with tiktoken's ``cl100k_base`` (the copy litellm ships, so no download): an estimate
for workers with other tokenizers, which is why the server labels such usage
``source: "counted"`` rather than passing it off as the worker's own numbers.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable


@functools.cache
def _encoding():
    # Importing litellm's default encoding points tiktoken at litellm's bundled files (offline).
    from litellm.litellm_core_utils.default_encoding import encoding
    return encoding


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def count_usage(conversation: Iterable[dict[str, Any]], completion: str) -> dict[str, int]:
    """{"prompt_tokens", "completion_tokens"} for a conversation and the reply text (tool-call JSON included)."""
    prompt = "\n".join(str(m.get("content") or "") for m in conversation)
    return {"prompt_tokens": count_tokens(prompt), "completion_tokens": count_tokens(completion)}
