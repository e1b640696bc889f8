"""Routers share one interface; masked workers are never chosen; best-single never sees test data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fugu.data.matrix import Outcomes
from fugu.routing.base import choose, question_text
from fugu.routing.baselines import (
    BestPerCategoryRouter,
    BestSingleRouter,
    CostWeighted,
    KNNRouter,
    LogisticRouter,
    MatrixFactorisationRouter,
    OracleRouter,
    RandomRouter,
    mean_cost_per_1k,
)
from fugu.routing.features import CachedFeatures


def outcomes(scores, costs=None, categories=None) -> Outcomes:
    scores = np.asarray(scores, dtype=float)
    n, k = scores.shape
    return Outcomes(tuple(f"q{i}" for i in range(n)), tuple(f"question {i}?" for i in range(n)),
                    tuple(categories or ["c"] * n), tuple(f"w{j}" for j in range(k)), scores,
                    np.zeros((n, k)) if costs is None else np.asarray(costs, dtype=float))


@settings(max_examples=200, deadline=None)
@given(scores=arrays(float, (6, 5), elements=st.floats(-1e6, 1e6)),
       available=arrays(bool, (6, 5)).filter(lambda m: m.any(axis=1).all()))
def test_masked_workers_are_never_chosen(scores, available):
    picks = choose(scores, available)
    assert available[np.arange(6), picks].all()


def test_a_row_with_no_available_worker_is_an_error():
    with pytest.raises(ValueError, match="at least one available worker"):
        choose(np.zeros((2, 3)), np.array([[True, False, False], [False, False, False]]))


def test_best_single_is_picked_on_train_never_on_test():
    train = outcomes([[1, 0], [1, 0], [1, 1]])  # w0 best on train
    test = outcomes([[0, 1], [0, 1]])            # w1 best on test
    router = BestSingleRouter.fit(train)
    assert router.worker == "w0"
    assert (choose(router.scores(test.conversations())) == 0).all()


def test_best_single_breaks_ties_by_cost():
    router = BestSingleRouter.fit(outcomes([[1, 1], [0, 0]], costs=[[2.0, 1.0], [2.0, 1.0]]))
    assert router.worker == "w1"


def test_oracle_picks_a_best_worker_for_every_question():
    data = outcomes([[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    picks = choose(OracleRouter(data).scores(data.conversations()))
    assert data.routed(picks)[0].tolist() == [1, 1, 1]


def test_random_router_is_seeded():
    convs = outcomes(np.zeros((4, 3))).conversations()
    np.testing.assert_array_equal(RandomRouter(3, seed=1).scores(convs), RandomRouter(3, seed=1).scores(convs))


def clustered(n_per: int = 20, seed: int = 0):
    """Two clusters of questions; cluster c is solved only by worker c."""
    rng = np.random.default_rng(seed)
    centres = np.array([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0]])
    labels = np.repeat([0, 1], n_per)
    features = centres[labels] + rng.normal(scale=0.5, size=(2 * n_per, 3))
    scores = np.eye(2)[labels]
    return features, scores, labels


def lookup(features):
    data = outcomes(np.zeros((len(features), 2)))
    table = {q: f for q, f in zip(data.questions, features)}
    return data, lambda convs: np.stack([table[question_text(c)] for c in convs])


def test_knn_and_logistic_route_each_cluster_to_its_solver():
    features, scores, labels = clustered()
    data, featurize = lookup(features)
    knn = KNNRouter(featurize, features, scores, k=3)
    logistic = LogisticRouter.fit(featurize, features, scores, epochs=200, learning_rate=0.1,
                                  weight_decay=0.0, seed=0)
    for router in (knn, logistic):
        assert (choose(router.scores(data.conversations())) == labels).all(), router.name


def test_matrix_factorisation_routes_each_cluster_to_its_solver():
    features, scores, labels = clustered()
    data, featurize = lookup(features)
    mf = MatrixFactorisationRouter.fit(featurize, features, scores, dim=4, epochs=300, learning_rate=0.05,
                                       weight_decay=0.0, seed=0)
    assert (choose(mf.scores(data.conversations())) == labels).all()


def test_best_per_category_uses_the_best_single_rule_within_each_category():
    train = outcomes([[1, 0], [1, 0], [0, 1], [0, 1]], categories=["a", "a", "b", "b"])
    category = dict(zip(train.questions, train.categories))
    router = BestPerCategoryRouter.fit(train, lambda c: category.get(question_text(c), "unseen"))
    assert router.per_category == {"a": 0, "b": 1}
    assert choose(router.scores(train.conversations())).tolist() == [0, 0, 1, 1]


def test_a_cost_weight_moves_questions_to_the_cheaper_worker():
    train = outcomes([[1, 0.9]] * 4, costs=[[0.01, 0.001]] * 4)  # USD per question
    base = BestSingleRouter.fit(train)
    np.testing.assert_allclose(mean_cost_per_1k(train), [10.0, 1.0])
    convs = train.conversations()
    assert choose(CostWeighted(base, mean_cost_per_1k(train), 0.0).scores(convs)).tolist() == [0] * 4
    assert choose(CostWeighted(base, mean_cost_per_1k(train), 1.0).scores(convs)).tolist() == [1] * 4


def test_cached_features_compute_each_conversation_once():
    calls = []

    def featurize(convs):
        calls.append(len(convs))
        return np.ones((len(convs), 2))

    cached = CachedFeatures(featurize)
    convs = outcomes(np.zeros((3, 2))).conversations()
    cached(convs + convs[:1])
    cached(convs)
    assert calls == [3]
