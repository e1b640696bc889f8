"""Counting on the event loop only what is cheap to count: short text, nothing that is not text."""

from __future__ import annotations

from fugu.serving.counting import INLINE_COUNT_CHARS, cheap_to_count, count_usage


def test_short_text_is_cheap_to_count_and_long_text_or_non_text_fields_are_not():
    question = [{"role": "user", "content": "What is 2 + 2?"}]
    assert cheap_to_count(question) and cheap_to_count(question, "4")
    assert not cheap_to_count([{"role": "user", "content": "x" * (INLINE_COUNT_CHARS + 1)}])
    assert not cheap_to_count(question, "y" * INLINE_COUNT_CHARS)  # the reply's text counts too
    assert not cheap_to_count([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    assert not cheap_to_count([{"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]}])
    assert cheap_to_count([{"role": "assistant", "content": None}])


def test_usage_counts_the_conversation_and_the_reply():
    usage = count_usage([{"role": "user", "content": "hello there"}], "general kenobi")
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
