"""Deterministic train / validation / test split of questions, stratified by category.

Each question's place is decided by a seeded hash of its id, not by a shuffled list, so the
split of a question never depends on which other questions are in the table: adding a data
file later does not move a held-out question into training. Within each category the
questions are ordered by that hash and cut by the fractions, so every category is represented
in every split in proportion (rounded; a category of one question goes to train).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

SPLITS = ("train", "validation", "test")
SPLITS_FILE = "splits.csv"


class SplitError(ValueError):
    """Bad fractions, or splits that share a question."""


def assign_splits(questions: pd.DataFrame, fractions: dict[str, float], seed: int) -> pd.DataFrame:
    """``question_id, category, split`` for every distinct question of ``questions``.

    ``questions`` needs ``question_id`` and ``category`` columns (the tidy table has them;
    repeated rows per model are collapsed). ``fractions`` maps each of SPLITS to its share.
    """
    _check_fractions(fractions)
    distinct = questions[["question_id", "category"]].drop_duplicates("question_id")
    rows = []
    for category, group in distinct.groupby("category", sort=True):
        ids = sorted(group["question_id"], key=lambda q: _rank(q, seed))
        n = len(ids)
        n_test = round(n * fractions["test"])
        n_validation = min(round(n * fractions["validation"]), n - n_test)
        cuts = {"test": ids[:n_test], "validation": ids[n_test:n_test + n_validation],
                "train": ids[n_test + n_validation:]}
        rows += [(q, category, split) for split, chosen in cuts.items() for q in chosen]
    frame = pd.DataFrame(rows, columns=["question_id", "category", "split"])
    frame = frame.sort_values("question_id", kind="stable").reset_index(drop=True)
    check_disjoint(frame)
    return frame


def check_disjoint(splits: pd.DataFrame) -> None:
    """Every question in exactly one split, and only known split names."""
    unknown = sorted(set(splits["split"]) - set(SPLITS))
    if unknown:
        raise SplitError(f"unknown split names {unknown}; expected {list(SPLITS)}")
    repeated = splits[splits["question_id"].duplicated(keep=False)]
    if len(repeated):
        shared = repeated.groupby("question_id")["split"].apply(lambda s: sorted(s)).head(5).to_dict()
        raise SplitError(f"{repeated['question_id'].nunique()} questions sit in more than one split, e.g. {shared}")


def split_ids(splits: pd.DataFrame, split: str) -> list[str]:
    if split not in SPLITS:
        raise SplitError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
    return sorted(splits.loc[splits["split"] == split, "question_id"])


def write_splits(splits: pd.DataFrame, path: Path) -> Path:
    check_disjoint(splits)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    splits[["question_id", "category", "split"]].to_csv(path, index=False)
    return path


def read_splits(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    check_disjoint(frame)
    return frame


def _rank(question_id: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{question_id}".encode()).hexdigest()


def _check_fractions(fractions: dict[str, float]) -> None:
    if set(fractions) != set(SPLITS):
        raise SplitError(f"fractions must name exactly {list(SPLITS)}, got {sorted(fractions)}")
    if any(f < 0 for f in fractions.values()) or abs(sum(fractions.values()) - 1.0) > 1e-9:
        raise SplitError(f"fractions must be non-negative and sum to 1, got {fractions}")
