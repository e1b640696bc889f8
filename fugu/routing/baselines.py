"""Baseline routers: chance, best single, the oracle ceiling, and learned routers over features."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.routing.base import question_text
from fugu.routing.features import Featurizer
from fugu.types import Conversation


class RandomRouter:
    """Uniformly random scores: chance level, seeded so eval is reproducible."""

    name = "random"

    def __init__(self, n_workers: int, seed: int):
        self.n_workers = n_workers
        self._rng = np.random.default_rng(seed)

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        return self._rng.random((len(conversations), self.n_workers))


class BestSingleRouter:
    """Always the worker with the best mean score on the *training* split.

    Picked on training data only (``fit``), never on the split it is evaluated on, so its
    number is an honest baseline. Ties go to the cheaper worker; the scores rank every worker
    by training accuracy, which is also the order a fallback tries them.
    """

    name = "best_single"

    def __init__(self, train_accuracy: np.ndarray, workers: Sequence[str]):
        self.train_accuracy = np.asarray(train_accuracy, dtype=float)
        self.workers = tuple(workers)

    @classmethod
    def fit(cls, train: Outcomes) -> "BestSingleRouter":
        if len(train) == 0:
            raise ValueError("best-single needs at least one training question")
        accuracy = train.scores.mean(axis=0)
        mean_cost = _mean_recorded_cost(train.costs)
        # Cost breaks exact ties only: scaled far below the smallest possible accuracy step.
        tie_break = -mean_cost / (1.0 + mean_cost.max(initial=0.0)) / (10.0 * max(len(train), 1))
        return cls(accuracy + tie_break, train.workers)

    @property
    def worker(self) -> str:
        return self.workers[int(np.argmax(self.train_accuracy))]

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        return np.tile(self.train_accuracy, (len(conversations), 1))


class OracleRouter:
    """The upper bound: knows every worker's outcome on the questions it is asked about.

    Not a router one could deploy — it reads the answers' grades — but the ceiling that
    "fraction of the best-single → oracle gap closed" is measured against.
    """

    name = "oracle"

    def __init__(self, outcomes: Outcomes):
        self._rows = {q: i for i, q in enumerate(outcomes.questions)}
        costs = np.nan_to_num(outcomes.costs, nan=0.0)
        # Among workers that score the same, the oracle takes the cheaper one.
        self._scores = outcomes.scores - costs / (1.0 + costs.max(initial=0.0)) * 1e-6

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        try:
            rows = [self._rows[question_text(c)] for c in conversations]
        except KeyError as exc:
            raise KeyError(f"the oracle has no outcomes for question {exc.args[0][:60]!r}") from None
        return self._scores[rows]


# --- learned routers over features (hidden states or embeddings) -----------------------


class KNNRouter:
    """Mean outcome of the k most similar training questions (cosine similarity)."""

    def __init__(self, featurize: Featurizer, train_features: np.ndarray, train_scores: np.ndarray,
                 k: int, name: str = "knn"):
        if not 1 <= k <= len(train_features):
            raise ValueError(f"k must be in [1, {len(train_features)}] (training size), got {k}")
        self.name, self.k, self._featurize = name, k, featurize
        self._train = _unit_rows(np.asarray(train_features, dtype=float))
        self._train_scores = np.asarray(train_scores, dtype=float)

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        similarity = _unit_rows(self._featurize(conversations)) @ self._train.T  # [b, n_train]
        nearest = np.argsort(-similarity, axis=1, kind="stable")[:, : self.k]
        return self._train_scores[nearest].mean(axis=1)


class LogisticRouter:
    """One logistic regression per worker, P(worker answers correctly | features), fit by gradient.

    The strongest simple learned baseline: if TRINITY's gradient-free head cannot beat a
    classifier trained by gradient on the same hidden states, the evolution buys nothing.
    """

    def __init__(self, featurize: Featurizer, weight: np.ndarray, bias: np.ndarray,
                 mean: np.ndarray, scale: np.ndarray, name: str = "logistic"):
        self.name, self._featurize = name, featurize
        self.weight, self.bias, self.mean, self.scale = weight, bias, mean, scale

    @classmethod
    def fit(cls, featurize: Featurizer, train_features: np.ndarray, train_scores: np.ndarray, *,
            epochs: int, learning_rate: float, weight_decay: float, seed: int,
            name: str = "logistic") -> "LogisticRouter":
        import torch  # local: only this baseline trains by gradient

        x = np.asarray(train_features, dtype=np.float32)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        generator = torch.Generator().manual_seed(seed)
        inputs = torch.from_numpy((x - mean) / scale)
        targets = torch.from_numpy(np.asarray(train_scores, dtype=np.float32))
        linear = torch.nn.Linear(inputs.shape[1], targets.shape[1])
        with torch.no_grad():
            linear.weight.normal_(0.0, 0.01, generator=generator)
            linear.bias.zero_()
        optimiser = torch.optim.Adam(linear.parameters(), lr=learning_rate, weight_decay=weight_decay)
        loss_fn = torch.nn.BCEWithLogitsLoss()  # soft targets: expected scores in [0, 1] are fine
        for _ in range(epochs):
            optimiser.zero_grad()
            loss_fn(linear(inputs), targets).backward()
            optimiser.step()
        return cls(featurize, linear.weight.detach().numpy().copy(), linear.bias.detach().numpy().copy(),
                   mean, scale, name)

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        x = (self._featurize(conversations) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.weight.T + self.bias)))


class LinearHeadRouter:
    """Scores = features · headᵀ: TRINITY's bias-free agent head over its hidden states."""

    def __init__(self, featurize: Featurizer, head: np.ndarray, name: str = "trinity"):
        self.name, self._featurize, self.head = name, featurize, np.asarray(head, dtype=np.float32)

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        return self._featurize(conversations) @ self.head.T


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)


def _mean_recorded_cost(costs: np.ndarray) -> np.ndarray:
    """Mean cost per worker over the questions whose cost was recorded (0 where none was)."""
    recorded = ~np.isnan(costs)
    return np.where(recorded, costs, 0.0).sum(axis=0) / np.maximum(recorded.sum(axis=0), 1)
