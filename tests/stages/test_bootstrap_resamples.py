"""One bootstrap: ``bootstrap.resamples`` in the params a stage reads is the resample count of every interval it writes.

Each stage's own params → settings code, then its library entry points on a tiny synthetic world
(sizes shrunk so the searches take seconds); every estimate record in the result must carry the
changed count, so no interval is drawn with a count of its own.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from fugu.evaluation.optimisers import compare_optimisers
from fugu.evaluation.router_comparison import compare_routers
from fugu.routing.baselines import RandomRouter
from fugu.trinity.features import FeatureTable, save_features
from stages import compare_optimisers as compare_optimisers_stage
from stages import eval as eval_stage
from stages import train_trinity
from stages.builders import simulated_world
from stages.common import load_params, stage_params
from tests.evaluation.test_optimisers import specialist_world
from tests.evaluation.test_router_comparison import specialist_splits

RESAMPLES = 37  # params.yaml says 2000: every record must say 37 instead
SMALL_SEARCH = {"population_size": 4, "generations": 2}


def params_with_resamples() -> dict:
    params = copy.deepcopy(load_params())
    params["bootstrap"]["resamples"] = RESAMPLES
    params["seeds"] = [0, 1]
    params["simulated_pool"]["n_questions"] = 40
    eval_section = params["eval"]
    for key in ("mock_twin", "adaptive_pool_mock", "perstep_subset"):
        eval_section[key].update(SMALL_SEARCH)
    eval_section["logistic"]["epochs"] = eval_section["mf"]["epochs"] = 5
    params["train_trinity"].update(mock_population_size=4, mock_generations=2)
    params["compare_optimisers"].update(SMALL_SEARCH, sft_epochs=5)
    return params


def estimate_records(value) -> list[dict]:
    if isinstance(value, dict):
        return ([value] if "ci" in value else []) + [r for v in value.values() for r in estimate_records(v)]
    if isinstance(value, list):
        return [r for v in value for r in estimate_records(v)]
    return []


def assert_every_interval_counts(result) -> None:
    records = estimate_records(result)
    assert records, "the entry point wrote no interval"
    assert {r["resamples"] for r in records} == {RESAMPLES}


def simulated_features(params, h: int = 4) -> FeatureTable:
    pool, _, _ = simulated_world(params)
    ids = [q.question_id for q in pool.questions]
    return FeatureTable(tuple(ids), {"penultimate": np.random.default_rng(0).normal(size=(len(ids), h)).astype(np.float32)},
                        {})


def test_eval_writes_the_params_resample_count_in_every_interval():
    params = params_with_resamples()
    section = stage_params(params, "eval")
    settings = eval_stage.comparison_settings(params, section)
    splits, features = specialist_splits()
    runs = [RandomRouter(3, seed) for seed in (10, 11)]
    assert_every_interval_counts(compare_routers(splits, features, runs, [], settings))
    live = lambda conversations: np.ones((len(conversations), 4), np.float32)  # noqa: E731
    mock = eval_stage.mock_metrics(params, section, settings, simulated_features(params), live, 4)
    assert set(mock) == {"mock_routing", "adaptive_pool_mock", "perstep_subset", "recursion_mock"}
    for experiment in mock.values():
        assert_every_interval_counts(experiment)


def test_compare_optimisers_writes_the_params_resample_count_in_every_interval():
    params = params_with_resamples()
    settings = compare_optimisers_stage.settings_from(stage_params(params, "compare_optimisers"), params)
    data, x = specialist_world(60)
    result = compare_optimisers(x[:40], data.take(range(40)), x[40:], data.take(range(40, 60)), settings,
                                train_last=x[:40], test_last=x[40:])
    assert_every_interval_counts(result)


def test_train_trinity_writes_the_params_resample_count_in_every_interval(tmp_path, monkeypatch):
    params = params_with_resamples()
    table = simulated_features(params)
    save_features(tmp_path, table.question_ids, table.arrays, file=train_trinity.SIMULATED_FEATURES)
    monkeypatch.setattr(train_trinity, "FEATURES_DIR", tmp_path)
    assert_every_interval_counts(train_trinity.mock_claim(params, stage_params(params, "train_trinity")))


@pytest.mark.parametrize("resamples", [5, 11])
def test_a_record_states_the_resamples_it_was_drawn_with(resamples):
    from fugu.stats.estimate import Resamples, mean, pooled_estimate, seed_estimate
    from fugu.training.grpo import window_gain_estimate

    values = np.random.default_rng(0).random(20)
    assert pooled_estimate(mean, [values], Resamples.draw(20, 1, resamples, 0), [0])["resamples"] == resamples
    assert seed_estimate([1.0, 2.0, 4.0], [0, 1, 2], resamples, 0)["resamples"] == resamples
    assert window_gain_estimate([list(values)], 5, resamples, 0, [0])["resamples"] == resamples
