"""The Router protocol and the choice rules every router shares.

A router scores every worker of the pool for a batch of conversations (higher is better);
choosing is separate and shared: unavailable workers get -inf, then argmax. Baselines
(:mod:`fugu.routing.baselines`), the fixed-order stand-in (:mod:`fugu.routing.priority`) and
the TRINITY router (:mod:`fugu.trinity.router`) all implement ``scores``, so eval and the
server treat them alike.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from fugu.types import Conversation


class Router(Protocol):
    name: str

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        """[batch, n_workers] scores; higher means a better pick."""
        ...


def mask_unavailable(scores: np.ndarray, available: np.ndarray | None) -> np.ndarray:
    """Scores with unavailable workers set to -inf (``available``: bool [n_workers] or [batch, n_workers])."""
    if available is None:
        return scores
    available = np.broadcast_to(np.asarray(available, dtype=bool), scores.shape)
    if not available.any(axis=-1).all():
        raise ValueError("every row needs at least one available worker")
    return np.where(available, scores, -np.inf)


def choose(scores: np.ndarray, available: np.ndarray | None = None) -> np.ndarray:
    """Index of the best available worker per row."""
    return np.argmax(mask_unavailable(scores, available), axis=-1)


def ranked(scores_row: np.ndarray, available: np.ndarray | None = None) -> list[int]:
    """Worker indices best-first, unavailable ones dropped: the order a fallback tries them."""
    masked = mask_unavailable(np.asarray(scores_row, dtype=float)[None, :], available)[0]
    order = np.argsort(-masked, kind="stable")
    return [int(i) for i in order if np.isfinite(masked[i])]


# --- features ---------------------------------------------------------------------------

def question_text(conversation: Conversation) -> str:
    """The text a router keys a question by: the first user message."""
    for message in conversation:
        if message["role"] == "user":
            return message["content"]
    raise ValueError("a conversation needs at least one user message")


