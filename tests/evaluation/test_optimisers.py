"""The optimiser comparison: equal budgets, held-out scoring, paired intervals, and twins that tie."""

from dataclasses import replace

import numpy as np
import pytest

from fugu.data.matrix import Outcomes
from fugu.evaluation.optimisers import OptimiserSettings, compare_heads, compare_optimisers, standardise
from fugu.training.cmaes import cached_head_fitness
from fugu.training.random_search import RandomSearchConfig, random_search
from fugu.training.reinforce import ReinforceConfig, reinforce
from fugu.training.sft import SFTConfig, best_worker_labels, fit_sft

SETTINGS = OptimiserSettings(population_size=8, generations=12, sigma0=0.5, reinforce_learning_rate=0.5,
                             sft_epochs=200, sft_learning_rate=0.5, sft_weight_decay=0.0,
                             bootstrap_resamples=400, confidence=0.95, seed=0)


def specialist_world(n: int = 240, n_workers: int = 3, h: int = 6, seed: int = 0):
    """Real-shaped outcomes (0/1 scores) where worker j is right on topic j, features name the topic."""
    rng = np.random.default_rng(seed)
    topic = rng.integers(0, n_workers, n)
    scores = (rng.random((n, n_workers)) < 0.25).astype(float)
    scores[np.arange(n), topic] = (rng.random(n) < 0.9).astype(float)
    x = rng.normal(scale=0.3, size=(n, h))
    x[np.arange(n), topic] += 2.0
    outcomes = Outcomes(tuple(f"q{i}" for i in range(n)), tuple(f"question {i}" for i in range(n)),
                        tuple(f"t{t}" for t in topic), tuple(f"w{j}" for j in range(n_workers)),
                        scores, np.full((n, n_workers), np.nan))
    return outcomes, x


def test_every_arm_gets_the_same_evaluation_budget_and_is_scored_on_held_out_questions():
    data, x = specialist_world()
    result = compare_optimisers(x[:160], data.take(range(160)), x[160:], data.take(range(160, 240)), SETTINGS)
    arms = result["optimisers"]
    assert {arms[a]["evaluations"] for a in ("cmaes", "reinforce", "random_search")} == {SETTINGS.evaluations}
    assert result["n_test"] == 80 and result["mock"] is False
    for arm in ("cmaes", "reinforce", "random_search", "sft", "best_single"):
        low, high = arms[arm]["test_accuracy"]["ci"]
        assert low <= arms[arm]["test_accuracy"]["estimate"] <= high
    for other in ("reinforce", "random_search", "sft", "best_single"):
        assert {"estimate", "ci", "n", "seeds", "per_seed"} <= set(result[f"cmaes_vs_{other}"])


def test_every_arm_runs_once_per_seed_and_the_comparison_pools_them():
    data, x = specialist_world()
    settings = replace(SETTINGS, seeds=(0, 1, 2))
    result = compare_optimisers(x[:160], data.take(range(160)), x[160:], data.take(range(160, 240)), settings)
    assert len(result["optimisers"]["cmaes"]["train_accuracy"]) == 3
    record = result["cmaes_vs_reinforce"]
    assert record["seeds"] == [0, 1, 2] and record["estimate"] == pytest.approx(np.mean(record["per_seed"]))


def test_learned_routing_beats_best_single_when_features_name_the_specialist():
    data, x = specialist_world()
    result = compare_optimisers(x[:160], data.take(range(160)), x[160:], data.take(range(160, 240)), SETTINGS)
    assert result["cmaes_vs_best_single"]["ci"][0] > 0
    accuracy = {arm: result["optimisers"][arm]["test_accuracy"]["estimate"] for arm in ("sft", "best_single")}
    assert accuracy["sft"] > accuracy["best_single"]


def test_a_head_against_itself_ties_exactly():
    data, x = specialist_world()
    train, test = data.take(range(160)), data.take(range(160, 240))
    _, te = standardise(x[:160], x[160:])
    head = np.random.default_rng(0).normal(size=(3, 6))
    result = compare_heads({"cmaes": head, "reinforce": head}, te, test, train, SETTINGS)
    assert result["cmaes_vs_reinforce"]["estimate"] == 0.0 and result["cmaes_vs_reinforce"]["ci"] == [0.0, 0.0]


def test_standardise_reads_only_the_training_split():
    train_x, test_x = np.array([[0.0], [2.0]]), np.array([[100.0]])
    tr, te = standardise(train_x, test_x)
    assert np.allclose(tr.ravel(), [-1, 1]) and np.allclose(te.ravel(), [99.0])


def test_reinforce_learns_the_specialists_from_sampled_rewards():
    data, x = specialist_world()
    result = reinforce(x, data.scores, ReinforceConfig(evaluations=200, learning_rate=0.5, seed=0))
    greedy = data.routed(np.argmax(x @ result.head.T, axis=1))[0].mean()
    assert greedy > data.scores.mean(axis=0).max() and len(result.mean_reward) == 200


def test_random_search_spends_exactly_its_budget_and_keeps_the_best():
    data, x = specialist_world()
    calls = []
    fitness = cached_head_fitness(x, data.scores, data.costs, 3)
    counted = lambda pop: (calls.append(len(pop)), fitness(pop))[1]  # noqa: E731
    result = random_search(counted, 18, RandomSearchConfig(evaluations=300, sigma0=0.5, seed=0, batch_size=128))
    assert sum(calls) == 300 and result.best_fitness == max(result.best_so_far)


def test_sft_labels_share_mass_among_tied_best_workers_and_skip_unanswered_questions():
    labels, keep = best_worker_labels(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    assert keep.tolist() == [True, False, True]
    assert np.allclose(labels, [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
    data, x = specialist_world()
    head = fit_sft(x, data.scores, SFTConfig(epochs=200, learning_rate=0.5))
    assert data.routed(np.argmax(x @ head.T, axis=1))[0].mean() > data.scores.mean(axis=0).max()


def test_mismatched_features_are_an_error():
    data, x = specialist_world()
    with pytest.raises(ValueError, match="features do not match"):
        compare_optimisers(x[:10], data.take(range(160)), x[160:], data.take(range(160, 240)), SETTINGS)
