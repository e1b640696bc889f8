"""Token counts for replies whose worker reports none, so usage is always reported.

Counted with tiktoken's ``cl100k_base`` (the copy litellm ships, so no download): an estimate
for workers with other tokenizers, which is why the server labels such usage
``source: "counted"`` rather than passing it off as the worker's own numbers.

Also here: when counting is cheap enough to do on the event loop (``cheap_to_count``): tokenising a short
text costs less than handing it to a thread and back, which a 1-client request would pay.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable, Mapping

# Text this short is tokenised on the event loop: ~0.3 µs a character (SmolLM2's tokenizer; ~40 µs
# for a one-line question), less than a hand-off to a thread and back (~120 µs, measured here).
INLINE_COUNT_CHARS = 400


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


def cheap_to_count(messages: Iterable[Mapping[str, Any]], *texts: str) -> bool:
    """Whether the messages' fields and ``texts`` hold at most ``INLINE_COUNT_CHARS`` characters; a
    field that is not text (content parts, tool calls) counts as long."""
    total = sum(len(text) for text in texts)
    for message in messages:
        for value in message.values():
            if isinstance(value, str):
                total += len(value)
            elif value is not None:
                return False
    return total <= INLINE_COUNT_CHARS
