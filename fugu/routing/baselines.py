"""Baseline routers, one interface (``scores``): what a routing researcher compares against.

chance (random), best single (THE rule: :func:`fugu.data.matrix.best_single_index`, on train),
the oracle ceiling, best model per category, kNN and logistic regression over features (the
TRINITY backbone's hidden states, or a sentence encoder's embeddings), and a RouteLLM-style
matrix-factorisation router. Any of them can trade quality for cost with :class:`CostWeighted`.
Every ``fit`` takes the *train* split only; eval picks hyper-parameters on validation.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from fugu.data.matrix import Outcomes, best_single_index
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
        best = best_single_index(train)
        accuracy = train.scores.mean(axis=0)
        # rank: the chosen worker first, then the others by training accuracy (a fallback's order)
        ranking = accuracy.copy()
        ranking[best] = accuracy.max() + 1.0
        return cls(ranking, train.workers)

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


class BestPerCategoryRouter:
    """The best single worker of each category on train (the same rule), the global one for a
    category train never saw. Reads the category a question belongs to, as a benchmark router may."""

    name = "best_per_category"

    def __init__(self, per_category: dict[str, int], fallback: int, n_workers: int,
                 category_of: Callable[[Conversation], str]):
        self.per_category, self.fallback, self.n_workers, self._category_of = per_category, fallback, n_workers, category_of

    @classmethod
    def fit(cls, train: Outcomes, category_of: Callable[[Conversation], str]) -> "BestPerCategoryRouter":
        labels = np.asarray(train.categories)
        per = {str(c): best_single_index(train.take(np.flatnonzero(labels == c))) for c in sorted(set(train.categories))}
        return cls(per, best_single_index(train), len(train.workers), category_of)

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        out = np.zeros((len(conversations), self.n_workers))
        for i, c in enumerate(conversations):
            out[i, self.per_category.get(self._category_of(c), self.fallback)] = 1.0
        return out


class MatrixFactorisationRouter:
    """RouteLLM-style matrix factorisation: P(worker m answers q correctly) = σ(w·(v_m ⊙ P e_q) + b_m).

    ``e_q`` is a question embedding (a sentence encoder's), ``P`` a learned projection, ``v_m`` a
    learned worker vector; fit by Adam on binary cross-entropy over every (train question,
    worker) outcome. RouteLLM trains the same form on pairwise preferences; here the recorded
    per-worker correctness is the label.
    """

    def __init__(self, featurize: Featurizer, projection: np.ndarray, worker_vectors: np.ndarray,
                 out: np.ndarray, bias: np.ndarray, name: str = "mf"):
        self.name, self._featurize = name, featurize
        self.projection, self.worker_vectors, self.out, self.bias = projection, worker_vectors, out, bias

    @classmethod
    def fit(cls, featurize: Featurizer, train_features: np.ndarray, train_scores: np.ndarray, *, dim: int,
            epochs: int, learning_rate: float, weight_decay: float, seed: int, name: str = "mf") -> "MatrixFactorisationRouter":
        import torch  # local: only the learned baselines train by gradient

        torch.manual_seed(seed)
        x = torch.from_numpy(np.asarray(train_features, dtype=np.float32))
        y = torch.from_numpy(np.asarray(train_scores, dtype=np.float32))
        projection = torch.nn.Linear(x.shape[1], dim, bias=False)
        workers = torch.nn.Parameter(torch.randn(y.shape[1], dim) * 0.1)
        out = torch.nn.Parameter(torch.ones(dim))
        bias = torch.nn.Parameter(torch.zeros(y.shape[1]))
        optimiser = torch.optim.Adam([*projection.parameters(), workers, out, bias], lr=learning_rate,
                                     weight_decay=weight_decay)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        for _ in range(epochs):
            optimiser.zero_grad()
            logits = (projection(x)[:, None, :] * workers[None]) @ out + bias  # [n, k]
            loss_fn(logits, y).backward()
            optimiser.step()
        grab = lambda t: t.detach().numpy().copy()  # noqa: E731
        return cls(featurize, grab(projection.weight), grab(workers), grab(out), grab(bias), name)

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        q = np.asarray(self._featurize(conversations), dtype=np.float32) @ self.projection.T  # [b, dim]
        logits = (q[:, None, :] * self.worker_vectors[None]) @ self.out + self.bias
        return 1.0 / (1.0 + np.exp(-logits))


class CostWeighted:
    """Any router's scores − λ × the worker's mean estimated cost on train (USD per 1,000 questions).

    How a quality router becomes a cost–quality family (RouterBench's willingness to pay): λ = 0
    is the router itself; larger λ moves questions to cheaper workers.
    """

    def __init__(self, router, worker_cost_per_1k: np.ndarray, cost_penalty: float, name: str | None = None):
        self.router, self.cost_penalty = router, float(cost_penalty)
        self.worker_cost = np.asarray(worker_cost_per_1k, dtype=float)
        self.name = name or f"{router.name}@λ={cost_penalty:g}"

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        return self.router.scores(conversations) - self.cost_penalty * self.worker_cost[None, :]


def mean_cost_per_1k(train: Outcomes) -> np.ndarray:
    """Per worker, the mean estimated cost on the train split in USD per 1,000 questions."""
    return _mean_recorded_cost(train.costs) * 1000.0


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)


def _mean_recorded_cost(costs: np.ndarray) -> np.ndarray:
    """Mean cost per worker over the questions whose cost was recorded (0 where none was)."""
    recorded = ~np.isnan(costs)
    return np.where(recorded, costs, 0.0).sum(axis=0) / np.maximum(recorded.sum(axis=0), 1)
