"""Which known question a conversation is about: how offline pools find their records.

A recorded or simulated pool can only answer questions it has a record of. The question is
found, in order, by an explicit ``question_id`` key on any message (callers that know the id
say so), by the first user message being exactly a known question (whitespace-normalised),
or by a known question appearing inside the user messages (an executor's sub-instruction
that quotes the original question; the longest match wins). Otherwise: no record, and the
pool raises rather than invent an answer.
"""

from __future__ import annotations

from typing import Iterable

from fugu.pools.base import PoolError
from fugu.types import Message


class QuestionIndex:
    def __init__(self, questions: Iterable[tuple[str, str]]):
        """``questions``: (question_id, question text) pairs."""
        self._ids: set[str] = set()
        self._by_text: dict[str, str] = {}
        for question_id, text in questions:
            self._ids.add(question_id)
            self._by_text.setdefault(_normal(text), question_id)
        # Longest first, so a question that contains a shorter one is matched as itself.
        self._texts = sorted((t for t in self._by_text if t), key=len, reverse=True)

    def find(self, messages: list[Message]) -> str:
        for message in messages:
            question_id = message.get("question_id")
            if question_id is not None:
                if question_id not in self._ids:
                    raise PoolError(f"no record of question_id {question_id!r}")
                return question_id
        user = [_normal(m.get("content", "")) for m in messages if m.get("role") == "user"]
        if not user:
            raise PoolError("the conversation has no user message to answer")
        if user[0] in self._by_text:
            return self._by_text[user[0]]
        joined = "\n".join(user)
        for text in self._texts:
            if text in joined:
                return self._by_text[text]
        raise PoolError(f"no record of this question (first user message: {user[0][:80]!r})")


def _normal(text: str) -> str:
    return " ".join(str(text).split())
