"""The router comparison: every router judged on test alike, trained ones once per seed, the curve on the first."""

import numpy as np
import pytest

from fugu.data.matrix import Outcomes
from fugu.evaluation.router_comparison import (
    BaselineSettings,
    ComparisonSettings,
    QuestionFeatures,
    compare_routers,
    mock_twin,
)
from fugu.pools.simulated import SimulatedPool
from fugu.routing.baselines import RandomRouter
from fugu.training.cmaes import CMAESConfig
from fugu.trinity.features import FeatureTable

BASELINES = BaselineSettings(knn_k_grid=(1, 3), logistic_epochs=10, logistic_learning_rate=0.1,
                             logistic_weight_decay=0.0, mf_dim=3, mf_epochs=10, mf_learning_rate=0.05,
                             mf_weight_decay=0.0)


def specialist_splits(sizes=(("train", 40), ("validation", 12), ("test", 20)), k=3, h=4):
    """Worker j is right on topic j; the hidden states and embeddings name the topic."""
    rng = np.random.default_rng(0)
    splits, ids, hidden = {}, [], []
    for name, n in sizes:
        topic = rng.integers(0, k, n)
        scores = (rng.random((n, k)) < 0.2).astype(float)
        scores[np.arange(n), topic] = 1.0
        splits[name] = Outcomes(tuple(f"{name}{i}" for i in range(n)), tuple(f"{name} question {i}" for i in range(n)),
                                tuple(f"t{t}" for t in topic), tuple(f"w{j}" for j in range(k)), scores,
                                rng.random((n, k)) * np.array([1e-4, 1e-3, 1e-2]))
        ids += splits[name].question_ids
        hidden.append(np.eye(k, h)[topic] * 3 + rng.normal(scale=0.3, size=(n, h)))
    hidden = np.concatenate(hidden).astype(np.float32)
    features = QuestionFeatures(splits, FeatureTable(tuple(ids), {"penultimate": hidden}, {}),
                                FeatureTable(tuple(ids), {"embedding": hidden[:, ::-1].copy()}, {}))
    return splits, features


def settings(seeds=(0, 1), resamples=200):
    return ComparisonSettings(BASELINES, (0.0, 1.0), seeds, resamples, 0.95, 0)


@pytest.fixture(scope="module")
def compared():
    splits, features = specialist_splits()
    runs = [RandomRouter(3, seed) for seed in (10, 11)]  # stand-ins for TRINITY's per-seed routers
    for run in runs:
        run.name = "trinity"
    sweep = [RandomRouter(3, 12)]
    sweep[0].name = "trinity@0.1"
    return compare_routers(splits, features, runs, sweep, settings())


def test_every_router_is_judged_and_the_trained_ones_pool_their_seeds(compared):
    routers = compared["routers"]
    assert {"trinity", "random", "best_single", "oracle", "best_per_category", "knn_hidden", "knn_minilm",
            "logistic_hidden", "mf"} == set(routers)
    for name in ("trinity", "random", "logistic_hidden", "mf"):
        assert routers[name]["accuracy"]["seeds"] == [0, 1] and len(routers[name]["accuracy"]["per_seed"]) == 2
    assert routers["oracle"]["gap_closed"]["estimate"] == pytest.approx(1.0)
    assert routers["knn_hidden"]["k"] in (1, 3) and routers["best_single"]["worker"] in ("w0", "w1", "w2")
    assert compared["n_test"] == 20 and compared["seeds"] == [0, 1]


def test_the_curve_holds_every_single_worker_and_every_router_setting_on_the_first_seed(compared):
    points = compared["cost_quality"]["points"]
    singles = {p["router"] for p in points if p["kind"] == "single"}
    settings_swept = {(p["router"], p["cost_penalty"]) for p in points if p["kind"] == "router"}
    assert singles == {"w0", "w1", "w2"}
    assert settings_swept == {(r, c) for r in ("knn_minilm", "mf", "knn_hidden") for c in (0.0, 1.0)} | {("trinity", 0.1)}
    assert "found" in compared["cost_quality"]["headline"] and compared["cost_quality"]["estimated"] is True


def test_the_mock_twin_trains_a_head_per_seed_and_beats_best_single_on_a_world_built_for_routing():
    pool = SimulatedPool.generate(120, n_categories=3, n_workers=3, seed=0)
    data = pool.outcomes()
    cats = sorted(set(data.categories))
    hidden = np.stack([np.eye(3)[cats.index(c)] * 4 for c in data.categories])
    hidden += np.random.default_rng(0).normal(scale=0.2, size=hidden.shape)
    result = mock_twin(hidden[:80], data.take(range(80)), hidden[80:], data.take(range(80, 120)),
                       CMAESConfig(8, 15, 1.0, 99), seed=0, seeds=(0, 1), bootstrap_resamples=200)
    assert result["mock"] is True and result["seeds"] == [0, 1]
    assert len(result["trinity"]["accuracy"]["per_seed"]) == 2
    assert result["trinity"]["gain"]["estimate"] > 0
