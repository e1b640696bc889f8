"""Scoring a whole population of candidate heads at once (pure numpy: no model is loaded)."""

from __future__ import annotations

import numpy as np


def population_scores(hidden: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """Scores of every candidate head on every row: [pop, batch, n_out].

    With SVF frozen the hidden states do not depend on the candidate, so CMA-ES can score a
    whole population with one matmul over hidden states computed once.
    """
    hidden = np.asarray(hidden, dtype=np.float32)  # [batch, hidden]
    heads = np.asarray(heads, dtype=np.float32)  # [pop, n_out, hidden]
    return np.einsum("bh,poh->pbo", hidden, heads)

