"""The trained TRINITY coordinator behind the Router interface (what ``fugu serve`` routes with).

The vector's head rows follow the spec's worker order; a pool may list the same workers in
another order, so scores are re-indexed by name. A pool worker the vector has no row for
cannot be scored: that is an error at start-up, not a silent zero. Every request re-scores the
whole conversation, so in a multi-turn exchange the choice is made again at every turn with
the earlier replies in context (the per-step coordinator).
"""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from fugu.routing.features import Featurizer
from fugu.types import Conversation
from fugu.trinity.coordinator import Trinity


class TrinityRouter:
    name = "trinity"

    def __init__(self, trinity: Trinity, vector: np.ndarray, workers: Sequence[str],
                 featurizer: Featurizer | None = None, name: str = "trinity"):
        """``featurizer`` (e.g. cached features, :class:`fugu.trinity.features.FeatureTable`) replaces
        the backbone pass; it must give the base model's states, so the vector's SVF offsets must
        be zero (a head-only vector): eval scores exactly what the server would."""
        unknown = [w for w in workers if w not in trinity.workers]
        if unknown:
            raise ValueError(f"the trained vector has no head row for workers {unknown}; it scores {trinity.workers}")
        svf_offsets, _ = trinity.layout.unpack(vector)
        if featurizer is not None and np.any(svf_offsets):
            raise ValueError("cached features are the base model's states; this vector has non-zero SVF offsets, "
                             "so it must be scored through the backbone (no featurizer)")
        self.trinity, self.vector, self.name, self._featurizer = trinity, vector, name, featurizer
        self._order = [trinity.workers.index(w) for w in workers]
        # SVF offsets are written into the shared model's weights before each pass: one at a time.
        self._lock = threading.Lock()

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        if self._featurizer is not None:
            _, head = self.trinity.layout.unpack(self.vector)
            agent_scores = np.asarray(self._featurizer(conversations)) @ head[: self.trinity.layout.n_agents].T
        else:
            with self._lock:
                agent_scores, _ = self.trinity.scores(conversations, self.vector)
        return agent_scores[:, self._order]
