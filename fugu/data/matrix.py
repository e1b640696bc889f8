"""Outcomes as matrices: what eval and training read, in one call, without a pool round-trip.

Routing is judged question by question against every worker's outcome, so the natural form
is a [n_questions, n_workers] matrix of scores (and of costs) next to the question texts and
categories. Going through ``Pool.answer`` per item would give the same numbers one coroutine
at a time; this is the fast path, and the replay pool is built from the same table so the
two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from fugu.data.splits import SPLITS_FILE, read_splits, split_ids
from fugu.data.table import TABLE_FILE, read_outcome_table


class IncompleteOutcomesError(ValueError):
    """A (question, worker) pair the matrix needs has no record."""


@dataclass(frozen=True)
class Outcomes:
    """Questions × workers, with everything a router may read and everything that grades it.

    scores [n, k]  outcome of every worker on every question, in [0, 1]
    costs  [n, k]  cost of every worker on every question (NaN where not recorded)
    mock           True when the numbers come from the simulated pool, never from real models
    """

    question_ids: tuple[str, ...]
    questions: tuple[str, ...]
    categories: tuple[str, ...]
    workers: tuple[str, ...]
    scores: np.ndarray
    costs: np.ndarray
    mock: bool = False

    def __post_init__(self) -> None:
        n, k = len(self.question_ids), len(self.workers)
        for name in ("scores", "costs"):
            shape = getattr(self, name).shape
            if shape != (n, k):
                raise ValueError(f"{name} must be [{n}, {k}] (questions × workers), got {list(shape)}")
        if len(self.questions) != n or len(self.categories) != n:
            raise ValueError("questions and categories need one entry per question id")

    def __len__(self) -> int:
        return len(self.question_ids)

    def conversations(self) -> list[list[dict[str, str]]]:
        """Each question as the one-turn conversation a router scores."""
        return [[{"role": "user", "content": q}] for q in self.questions]

    def take(self, rows: Sequence[int] | np.ndarray) -> "Outcomes":
        rows = np.asarray(rows, dtype=int)
        pick = lambda items: tuple(items[i] for i in rows)  # noqa: E731
        return Outcomes(pick(self.question_ids), pick(self.questions), pick(self.categories),
                        self.workers, self.scores[rows], self.costs[rows], self.mock)

    def select(self, question_ids: Sequence[str]) -> "Outcomes":
        index = {q: i for i, q in enumerate(self.question_ids)}
        missing = [q for q in question_ids if q not in index]
        if missing:
            raise KeyError(f"{len(missing)} question ids not in these outcomes, e.g. {missing[:3]}")
        return self.take([index[q] for q in question_ids])

    def routed(self, choices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score and cost per question when question i goes to worker ``choices[i]``."""
        choices = np.asarray(choices, dtype=int)
        rows = np.arange(len(self))
        return self.scores[rows, choices], self.costs[rows, choices]

    def worker_accuracy(self) -> dict[str, float]:
        return {w: float(m) for w, m in zip(self.workers, self.scores.mean(axis=0))}

    def oracle_accuracy(self) -> float:
        """The ceiling of per-question routing: each question's best worker."""
        return float(self.scores.max(axis=1).mean())

    def random_accuracy(self) -> float:
        """Expected score of a uniformly random worker per question (chance)."""
        return float(self.scores.mean())


def best_single_index(train: "Outcomes") -> int:
    """THE best-single rule, the only one in the project: highest mean score on ``train``;
    exact ties go to the worker with the lower mean recorded cost, then to the earlier worker.

    Baselines (``BestSingleRouter.fit``), the data card and every stage call this, always on a
    training split, so the baseline a router is judged against is never picked on held-out data.
    """
    return best_single_among(train, None)


def best_single_among(train: "Outcomes", available: np.ndarray | None) -> int:
    """:func:`best_single_index` restricted to the ``available`` workers (bool [n_workers]; None: all):
    the same rule, for a pool where only some workers are up (the adaptive-pool experiment)."""
    if len(train) == 0:
        raise ValueError("best-single needs at least one training question")
    candidates = np.ones(len(train.workers), dtype=bool) if available is None else np.asarray(available, dtype=bool)
    if not candidates.any():
        raise ValueError("best-single needs at least one available worker")
    accuracy = np.where(candidates, train.scores.mean(axis=0), -np.inf)
    recorded = ~np.isnan(train.costs)
    mean_cost = np.where(recorded, train.costs, 0.0).sum(axis=0) / np.maximum(recorded.sum(axis=0), 1)
    tied = np.flatnonzero(np.isclose(accuracy, accuracy.max(), rtol=0.0, atol=1e-12))
    return int(tied[np.argmin(mean_cost[tied])])


def outcomes_from_table(table: pd.DataFrame, question_ids: Sequence[str] | None = None,
                        workers: Sequence[str] | None = None) -> Outcomes:
    """Pivot the tidy table into matrices (questions in the given order, else sorted by id).

    Every asked (question, worker) pair must be recorded: a gap would make the oracle and the
    best single worker meaningless, so it is an error naming the first gaps, not a silent NaN.
    """
    workers = tuple(sorted(table["model"].unique()) if workers is None else workers)
    ids = tuple(sorted(table["question_id"].unique()) if question_ids is None else question_ids)
    meta = table.drop_duplicates("question_id").set_index("question_id")
    missing_ids = [q for q in ids if q not in meta.index]
    if missing_ids:
        raise IncompleteOutcomesError(f"{len(missing_ids)} question ids have no record, e.g. {missing_ids[:3]}")
    scores = table.pivot(index="question_id", columns="model", values="score").reindex(index=list(ids), columns=list(workers))
    costs = table.pivot(index="question_id", columns="model", values="cost").reindex(index=list(ids), columns=list(workers))
    gaps = np.argwhere(scores.isna().to_numpy())
    if len(gaps):
        examples = [(ids[i], workers[j]) for i, j in gaps[:3]]
        raise IncompleteOutcomesError(f"{len(gaps)} (question, worker) pairs have no recorded outcome, e.g. {examples}")
    return Outcomes(
        question_ids=ids,
        questions=tuple(str(q) for q in meta.loc[list(ids), "question"]),
        categories=tuple(str(c) for c in meta.loc[list(ids), "category"]),
        workers=workers,
        scores=scores.to_numpy(dtype=float),
        costs=costs.to_numpy(dtype=float),
    )


def load_split(data_dir: Path, split: str) -> Outcomes:
    """The recorded outcomes of one split, read from the folder ``fetch`` writes.

    ``data_dir`` holds ``outcomes.parquet`` and ``splits.csv`` (``artifacts/fetch/routing``).
    An empty table gives an empty Outcomes (zero questions and zero workers).
    """
    data_dir = Path(data_dir)
    table = read_outcome_table(data_dir / TABLE_FILE)
    ids = split_ids(read_splits(data_dir / SPLITS_FILE), split)
    return outcomes_from_table(table, question_ids=ids)


def load_responses(data_dir: Path, outcomes: Outcomes) -> np.ndarray:
    """object [n_questions, n_workers]: the recorded response text of every worker on every question
    of ``outcomes`` (the same table ``load_split`` reads); None where the source recorded none."""
    table = read_outcome_table(Path(data_dir) / TABLE_FILE)
    texts = table.pivot(index="question_id", columns="model", values="response").reindex(
        index=list(outcomes.question_ids), columns=list(outcomes.workers))
    return texts.astype(object).where(texts.notna(), None).to_numpy(dtype=object)
