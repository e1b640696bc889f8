"""Eval numbers: intervals contain their estimates; the oracle closes the whole gap, best single none."""

import numpy as np
import pytest

from fugu.evaluation.compare import Routed, compare_to_baselines, route_split
from fugu.routing.baselines import BestSingleRouter, OracleRouter, RandomRouter
from tests.routing.test_baselines import outcomes


def test_oracle_closes_the_gap_and_best_single_closes_none():
    rng = np.random.default_rng(1)
    data = outcomes((rng.random((80, 3)) < [0.3, 0.5, 0.4]).astype(float),
                    categories=["a", "b"] * 40)
    routers = [BestSingleRouter.fit(data), OracleRouter(data), RandomRouter(3, seed=0)]
    routed = {r.name: route_split(r, data) for r in routers}
    summary = compare_to_baselines(routed, data, "best_single", "oracle", n_resamples=300, seed=0)
    assert summary["oracle"]["gap_closed"]["estimate"] == pytest.approx(1.0)
    assert summary["best_single"]["gap_closed"]["estimate"] == pytest.approx(0.0)
    assert summary["best_single"]["relative_gain"]["estimate"] == pytest.approx(0.0)
    for entry in summary.values():
        low, high = entry["accuracy"]["ci"]
        assert low <= entry["accuracy"]["estimate"] <= high
        assert set(entry["per_category"]) == {"a", "b"}
    assert sum(summary["random"]["workers_chosen"]["w0"] + summary["random"]["workers_chosen"]["w1"]
               + summary["random"]["workers_chosen"]["w2"]) == 80


def test_a_router_trained_per_seed_is_judged_on_every_seed_and_shows_each():
    rng = np.random.default_rng(2)
    data = outcomes((rng.random((60, 3)) < [0.3, 0.5, 0.4]).astype(float), categories=["a"] * 60)
    best, oracle = BestSingleRouter.fit(data), OracleRouter(data)
    runs = Routed.over_seeds([route_split(RandomRouter(3, seed=s), data) for s in (0, 1, 2)])
    summary = compare_to_baselines({"best_single": route_split(best, data), "oracle": route_split(oracle, data),
                                    "random": runs}, data, "best_single", "oracle", 300, 0, seeds=(0, 1, 2))
    accuracy = summary["random"]["accuracy"]
    assert accuracy["seeds"] == [0, 1, 2] and len(accuracy["per_seed"]) == 3
    assert accuracy["estimate"] == pytest.approx(np.mean(accuracy["per_seed"]))
    assert summary["random"]["workers_chosen"]["w0"].__len__() == 3


def test_a_router_choosing_a_model_of_unknown_cost_has_an_unknown_cost_never_zero():
    rng = np.random.default_rng(3)
    costs = np.tile([np.nan, 0.002, 0.001], (60, 1))  # w0: nobody priced it
    data = outcomes((rng.random((60, 3)) < [0.9, 0.5, 0.4]).astype(float), costs=costs, categories=["a"] * 60)
    routed = {r.name: route_split(r, data) for r in (BestSingleRouter.fit(data), OracleRouter(data))}
    routed["w2 only"] = Routed("w2 only", np.full(60, 2), data.scores[:, 2], data.costs[:, 2])
    summary = compare_to_baselines(routed, data, "best_single", "oracle", n_resamples=100, seed=0)
    assert summary["best_single"]["estimated_usd_per_1k"] == "unknown"  # best single is w0
    assert summary["best_single"]["per_category"]["a"]["estimated_usd_per_1k"] == "unknown"
    assert summary["w2 only"]["estimated_usd_per_1k"]["estimate"] == pytest.approx(1.0)
