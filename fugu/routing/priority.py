"""PriorityRouter: a fixed worker order. A STAND-IN for serving, NOT the TRINITY coordinator.

It lets the server, its fallback and the serve_e2e stage run end to end before the trained
TRINITY router is plugged in: every conversation gets the same scores, highest for the first
worker of ``order``, so the server tries the workers in exactly that order. It learns
nothing and reads nothing of the conversation; never report its numbers as TRINITY's.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fugu.types import Conversation


class PriorityRouter:
    name = "priority (stand-in, not TRINITY: fixed worker order)"
    instant = True  # no model to run: the server asks it on the event loop (fugu.serving.router_passes)

    def __init__(self, workers: Sequence[str], order: Sequence[str] | None = None):
        """``workers``: the pool's worker order (score columns); ``order``: preference, best first
        (default: the pool's order). Workers left out of ``order`` come after it, in pool order."""
        workers = list(workers)
        order = list(order or workers)
        unknown = [w for w in order if w not in workers]
        if unknown:
            raise ValueError(f"priority order names workers {unknown} that the pool lacks; it has {workers}")
        if len(set(order)) != len(order):
            raise ValueError(f"priority order repeats a worker: {order}")
        ranking = order + [w for w in workers if w not in order]
        # Score = n - rank, so the first in the order scores highest.
        self._row = np.array([len(workers) - ranking.index(w) for w in workers], dtype=float)

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        return np.tile(self._row, (len(conversations), 1))
