"""A stratified subset of each split: the tiny profile's questions, drawn without looking at outcomes.

Within a split, each category gets a share of the requested count proportional to its size
(largest remainders, at least one question for a category when the count allows), and the
questions are taken in the order of a seeded hash of their id, like the split itself. So the
subset depends only on ids, categories and the counts, never on how any model answered.
"""

from __future__ import annotations

import hashlib
from typing import Mapping

import numpy as np
import pandas as pd

from fugu.data.splits import SPLITS


class SubsetError(ValueError):
    """Counts that are not a mapping of split → non-negative int, or more than a split holds."""


def stratified_subset(splits: pd.DataFrame, per_split: Mapping[str, int] | None, seed: int) -> pd.DataFrame:
    """The rows of ``splits`` (question_id, category, split) kept; ``None`` keeps every question."""
    if per_split is None:
        return splits.copy()
    unknown = sorted(set(per_split) - set(SPLITS))
    if unknown:
        raise SubsetError(f"subset names unknown splits {unknown}; expected {list(SPLITS)}")
    kept = []
    for split in SPLITS:
        part = splits[splits["split"] == split]
        want = int(per_split.get(split, len(part)))
        if want < 0 or want > len(part):
            raise SubsetError(f"subset asks for {want} {split} questions; the split holds {len(part)}")
        sizes = part["category"].value_counts().sort_index()
        for category, n in _allocate(sizes, want).items():
            ids = sorted(part.loc[part["category"] == category, "question_id"], key=lambda q: _rank(q, seed))
            kept.append(part[part["question_id"].isin(ids[:n])])
    return pd.concat(kept).sort_values("question_id", kind="stable").reset_index(drop=True)


def _allocate(sizes: pd.Series, total: int) -> dict[str, int]:
    """Proportional counts per category summing to ``total`` (largest remainder)."""
    if total == 0 or sizes.sum() == 0:
        return {c: 0 for c in sizes.index}
    exact = sizes.to_numpy(float) * total / sizes.sum()
    counts = np.floor(exact).astype(int)
    order = np.lexsort((np.arange(len(exact)), -(exact - counts)))
    for i in order[: total - counts.sum()]:
        counts[i] += 1
    return {c: int(n) for c, n in zip(sizes.index, counts)}


def _rank(question_id: str, seed: int) -> str:
    return hashlib.sha256(f"subset:{seed}:{question_id}".encode()).hexdigest()
