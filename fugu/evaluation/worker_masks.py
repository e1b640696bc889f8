"""Worker subsets and the masks that make them available: one definition for the adaptive pool (real
outcomes and its mock twin) and per-step routing, which all route under a k-of-n pool."""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np


def worker_subsets(n_workers: int, k: int) -> list[tuple[int, ...]]:
    """Every k-subset of ``n_workers`` workers, in lexicographic order; 1 ≤ k < n (never an empty pool)."""
    if not 1 <= k < n_workers:
        raise ValueError(f"k must be in [1, {n_workers - 1}] for a k-of-{n_workers} pool, got {k}")
    return list(itertools.combinations(range(n_workers), k))


def masks_from(subsets: Sequence[tuple[int, ...]], picks: np.ndarray, n_workers: int) -> np.ndarray:
    """bool [len(picks), n_workers]: row i makes subset ``subsets[picks[i]]`` available."""
    masks = np.zeros((len(picks), n_workers), dtype=bool)
    for row, pick in enumerate(picks):
        masks[row, list(subsets[pick])] = True
    return masks
