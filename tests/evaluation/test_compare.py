"""Eval numbers: intervals contain their estimates; the oracle closes the whole gap, best-single none."""

import numpy as np
import pytest

from fugu.evaluation.compare import bootstrap_ci, compare_to_baselines, route_split
from fugu.routing.baselines import BestSingleRouter, OracleRouter, RandomRouter
from tests.routing.test_baselines import outcomes


def test_bootstrap_interval_contains_the_point_estimate():
    values = np.random.default_rng(0).random(200)
    low, high = bootstrap_ci(values, n_resamples=500, seed=0)
    assert low <= values.mean() <= high


def test_bootstrap_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        bootstrap_ci(np.array([]), 10, 0)


def test_oracle_closes_the_gap_and_best_single_closes_none():
    rng = np.random.default_rng(1)
    data = outcomes((rng.random((80, 3)) < [0.3, 0.5, 0.4]).astype(float),
                    categories=["a", "b"] * 40)
    routers = [BestSingleRouter.fit(data), OracleRouter(data), RandomRouter(3, seed=0)]
    routed = {r.name: route_split(r, data) for r in routers}
    summary = compare_to_baselines(routed, data, "best_single", "oracle", n_resamples=300, seed=0)
    assert summary["oracle"]["gap_closed"] == pytest.approx(1.0)
    assert summary["best_single"]["gap_closed"] == pytest.approx(0.0)
    assert summary["best_single"]["relative_gain_over_best_single"] == pytest.approx(0.0)
    for entry in summary.values():
        low, high = entry["accuracy_ci"]
        assert low <= entry["accuracy"] <= high
        assert set(entry["per_category"]) == {"a", "b"}
    assert sum(summary["random"]["workers_chosen"].values()) == 80
