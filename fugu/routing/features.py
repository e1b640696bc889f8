"""Features a learned router reads: any function conversations → [batch, dim], cached per conversation."""

from __future__ import annotations

import json
from typing import Callable, Sequence

import numpy as np

from fugu.types import Conversation

Featurizer = Callable[[Sequence[Conversation]], np.ndarray]  # conversations → [batch, dim]


class CachedFeatures:
    """A featurizer that computes each distinct conversation once (a backbone pass is the cost).

    Eval asks several routers about the same held-out questions; without the cache each would
    run the backbone again.
    """

    def __init__(self, featurize: Featurizer):
        self._featurize = featurize
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, conversations: Sequence[Conversation]) -> np.ndarray:
        keys = [json.dumps(c, sort_keys=True) for c in conversations]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            rows = self._featurize([json.loads(k) for k in missing])
            self._cache.update(zip(missing, np.asarray(rows, dtype=np.float32)))
        return np.stack([self._cache[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)

