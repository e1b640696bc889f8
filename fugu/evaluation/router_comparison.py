"""Does per-query routing beat the best single worker, on held-out questions? Every router judged alike.

Every router of :mod:`fugu.routing.baselines` — random, best single (THE rule, on train),
oracle, best per category, kNN and logistic on the TRINITY backbone's cached hidden states,
kNN on all-MiniLM-L6-v2 embeddings, a RouteLLM-style matrix-factorisation router — and TRINITY
(the router ``fugu serve`` routes with, scored from cached features) on the *test* split, with
paired bootstrap intervals and a per-category breakdown (:mod:`fugu.evaluation.compare`).
Learned routers fit on train; their hyper-parameters (k) are chosen on validation; test only
scores. A router that is trained (TRINITY, logistic, MF, random) is fitted and routed once per
seed; its estimates pool the seeds. The cost–quality curve (:mod:`fugu.evaluation.cost_quality`)
is read off the first seed's runs.

:func:`mock_twin` is the same comparison on the simulated pool (MOCK), with a head trained the
same way on its hidden states, to show what it gives on a world built for routing to win.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.evaluation.compare import Routed, compare_to_baselines, route_split
from fugu.evaluation.cost_quality import cheapest_within_ci, cost_quality_points, cost_weighted_sweep
from fugu.routing.base import Router, question_text
from fugu.routing.baselines import (
    BestPerCategoryRouter,
    BestSingleRouter,
    KNNRouter,
    LogisticRouter,
    MatrixFactorisationRouter,
    OracleRouter,
    RandomRouter,
)
from fugu.training.agent_head import head_from, route_with_head, train_head
from fugu.training.cmaes import CMAESConfig
from fugu.trinity.features import FeatureTable

# baselines whose fit depends on the seed: fitted and judged once per seed
SEEDED_BASELINES = ("logistic_hidden", "mf")


@dataclass(frozen=True)
class BaselineSettings:
    knn_k_grid: tuple[int, ...]   # k chosen on validation accuracy
    logistic_epochs: int
    logistic_learning_rate: float
    logistic_weight_decay: float
    mf_dim: int
    mf_epochs: int
    mf_learning_rate: float
    mf_weight_decay: float


@dataclass(frozen=True)
class ComparisonSettings:
    baselines: BaselineSettings
    cost_penalties: tuple[float, ...]  # kNN/MF cost weight λ (per 1,000 questions) of the cost–quality curve
    seeds: tuple[int, ...]             # every training seed; the first one's runs trace the curve
    bootstrap_resamples: int
    confidence: float
    seed: int                          # the bootstrap's


class QuestionFeatures:
    """The cached features of every recorded question, as featurizers keyed by question text."""

    def __init__(self, splits: dict[str, Outcomes], hidden_table: FeatureTable, embedding_table: FeatureTable):
        self.text_to_id = {q: i for o in splits.values() for q, i in zip(o.questions, o.question_ids)}
        self.category = {q: c for o in splits.values() for q, c in zip(o.questions, o.categories)}
        self.hidden_table, self.embedding_table = hidden_table, embedding_table
        self.hidden = hidden_table.featurizer(self.text_to_id, "penultimate")
        self.embedding = embedding_table.featurizer(self.text_to_id, "embedding")

    def category_of(self, conversation) -> str:
        return self.category[question_text(conversation)]


def fit_routers(train: Outcomes, validation: Outcomes, features: QuestionFeatures, settings: BaselineSettings,
                seed: int) -> dict[str, Any]:
    """Every learned baseline, fit on ``train``; its hyper-parameter (k) chosen on ``validation``.

    The test split is not an argument: nothing here can see it (tests/stages/test_heldout.py).
    """
    hidden_train = features.hidden_table.rows(train.question_ids)
    embedding_train = features.embedding_table.rows(train.question_ids, "embedding")
    knn = lambda featurize, rows, name: choose_on_validation(  # noqa: E731
        [KNNRouter(featurize, rows, train.scores, k, name=name) for k in settings.knn_k_grid], validation)
    return {
        "best_single": BestSingleRouter.fit(train),
        "best_per_category": BestPerCategoryRouter.fit(train, features.category_of),
        "knn_hidden": knn(features.hidden, hidden_train, "knn_hidden"),
        "logistic_hidden": LogisticRouter.fit(features.hidden, hidden_train, train.scores,
                                              epochs=settings.logistic_epochs,
                                              learning_rate=settings.logistic_learning_rate,
                                              weight_decay=settings.logistic_weight_decay, seed=seed,
                                              name="logistic_hidden"),
        "knn_minilm": knn(features.embedding, embedding_train, "knn_minilm"),
        "mf": MatrixFactorisationRouter.fit(features.embedding, embedding_train, train.scores, dim=settings.mf_dim,
                                            epochs=settings.mf_epochs, learning_rate=settings.mf_learning_rate,
                                            weight_decay=settings.mf_weight_decay, seed=seed),
    }


def choose_on_validation(candidates: Sequence[Any], validation: Outcomes):
    """The candidate with the best routed accuracy on validation (ties → the earlier one)."""
    accuracy = [route_split(c, validation).scores.mean() for c in candidates]
    return candidates[int(np.argmax(accuracy))]


def compare_routers(splits: dict[str, Outcomes], features: QuestionFeatures, trinity_runs: Sequence[Router],
                    trinity_sweep: Sequence[Router], settings: ComparisonSettings) -> dict[str, Any]:
    """Every router on test with CIs, and the cost–quality curve. Fit on train, choose on validation.

    ``trinity_runs``: the TRINITY router trained with each seed of ``settings.seeds``;
    ``trinity_sweep``: the first seed's, one per training λ, each named ``trinity@λ``.
    """
    train, validation, test = splits["train"], splits["validation"], splits["test"]
    seeds, resamples, level = list(settings.seeds), settings.bootstrap_resamples, settings.confidence
    fitted = {s: fit_routers(train, validation, features, settings.baselines, s) for s in seeds}
    first = fitted[seeds[0]]
    per_seed = {
        "trinity": list(trinity_runs),
        "random": [RandomRouter(len(test.workers), s) for s in seeds],
        **{name: [fitted[s][name] for s in seeds] for name in SEEDED_BASELINES},
    }
    routed = {name: Routed.over_seeds([route_split(r, test) for r in runs]) for name, runs in per_seed.items()}
    routed.update({name: route_split(router, test) for name, router in first.items() if name not in SEEDED_BASELINES})
    routed["oracle"] = route_split(OracleRouter(test), test)
    summary = compare_to_baselines(routed, test, "best_single", "oracle", resamples, settings.seed, level, seeds)
    summary["best_single"]["worker"] = first["best_single"].worker
    summary["knn_hidden"]["k"], summary["knn_minilm"]["k"] = first["knn_hidden"].k, first["knn_minilm"].k

    # cost–quality: single models as points, routers as curves (λ swept), all on test, first seed
    swept = cost_weighted_sweep({name: first[name] for name in ("knn_minilm", "mf", "knn_hidden")}, train, test,
                                settings.cost_penalties)
    swept.update({router.name: route_split(router, test) for router in trinity_sweep})
    curve = cost_quality_points(swept, test, routed["best_single"], routed["oracle"], resamples, settings.seed, level,
                                seeds[0])
    headline = cheapest_within_ci(curve, summary["best_single"])
    return {"n_train": len(train), "n_validation": len(validation), "n_test": len(test), "seeds": seeds,
            "routers": summary, "cost_quality": {"estimated": True, "points": curve, "headline": headline}}


def mock_twin(train_hidden: np.ndarray, train: Outcomes, test_hidden: np.ndarray, test: Outcomes,
              config: CMAESConfig, seed: int, seeds: Sequence[int] = (0,), bootstrap_resamples: int = 2000,
              confidence: float = 0.95) -> dict[str, Any]:
    """The same comparison on the simulated pool (MOCK): a head trained by sep-CMA-ES (once per seed) vs best single.

    ``config.seed`` is replaced by each seed of ``seeds``; ``seed`` is the bootstrap's.
    """
    seeds, n = list(seeds), len(train.workers)
    runs = []
    for run_seed in seeds:
        run_config = CMAESConfig(config.population_size, config.generations, config.sigma0, run_seed)
        head = head_from(train_head(train_hidden, train.scores, train.costs, run_config), n)
        routes = route_with_head(test_hidden, head, test)
        runs.append(Routed("trinity", routes.choices, routes.scores, routes.costs))
    routed = {r.name: route_split(r, test) for r in (BestSingleRouter.fit(train), OracleRouter(test))}
    routed["random"] = Routed.over_seeds([route_split(RandomRouter(len(test.workers), s), test) for s in seeds])
    routed["trinity"] = Routed.over_seeds(runs)
    summary = compare_to_baselines(routed, test, "best_single", "oracle", bootstrap_resamples, seed, confidence, seeds)
    return {"mock": bool(test.mock), "meaning": "simulated pool: seeded per-category skill matrix built for routing to win",
            "n_train": len(train), "n_test": len(test), "seeds": seeds, **summary}
