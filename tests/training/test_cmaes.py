"""sep-CMA-ES: reaches a planted optimum, reproducibly; the batched head fitness equals the naive loop."""

import numpy as np
import pytest

from fugu.training.cmaes import CMAESConfig, head_fitness, routed_reward, sep_cmaes

CONFIG = CMAESConfig(population_size=12, generations=120, sigma0=0.5, seed=3)


def planted_quadratic(dim: int = 10):
    target = np.random.default_rng(7).normal(size=dim)
    return target, lambda population: -((population - target) ** 2).sum(axis=1)


def test_reaches_the_planted_optimum():
    target, fitness = planted_quadratic()
    result = sep_cmaes(fitness, np.zeros(target.size), CONFIG, progress=False)
    np.testing.assert_allclose(result.best_vector, target, atol=1e-3)
    assert result.history[-1].best_so_far == pytest.approx(result.best_fitness)


def test_same_seed_same_run_and_other_seed_other_run():
    target, fitness = planted_quadratic()
    first = sep_cmaes(fitness, np.zeros(target.size), CONFIG, progress=False)
    again = sep_cmaes(fitness, np.zeros(target.size), CONFIG, progress=False)
    other = sep_cmaes(fitness, np.zeros(target.size), CMAESConfig(12, 120, 0.5, seed=4), progress=False)
    np.testing.assert_array_equal(first.best_vector, again.best_vector)
    assert not np.array_equal(first.best_vector, other.best_vector)


def test_history_has_one_entry_per_generation_and_best_so_far_never_drops():
    _, fitness = planted_quadratic()
    result = sep_cmaes(fitness, np.zeros(10), CMAESConfig(8, 15, 0.5, 0), progress=False)
    assert [g.generation for g in result.history] == list(range(1, 16))
    best = [g.best_so_far for g in result.history]
    assert best == sorted(best)


def test_fitness_must_return_one_value_per_candidate():
    with pytest.raises(ValueError, match="one value per candidate"):
        sep_cmaes(lambda population: np.zeros(3), np.zeros(4), CMAESConfig(6, 2, 0.5, 0), progress=False)


def test_batched_head_fitness_equals_a_naive_per_candidate_loop():
    rng = np.random.default_rng(0)
    hidden, heads = rng.normal(size=(30, 8)), rng.normal(size=(5, 4, 8))
    scores, costs = rng.random((30, 4)), rng.random((30, 4))
    naive = [np.mean([scores[i, np.argmax(heads[p] @ hidden[i])] - 0.1 * costs[i, np.argmax(heads[p] @ hidden[i])]
                      for i in range(30)]) for p in range(5)]
    np.testing.assert_allclose(head_fitness(hidden, scores, costs, heads, cost_penalty=0.1), naive)


def test_unrecorded_costs_do_not_poison_the_fitness():
    scores, costs = np.ones((3, 2)), np.full((3, 2), np.nan)
    reward = routed_reward(np.array([0, 1, 0]), scores, costs, cost_penalty=0.5)
    np.testing.assert_array_equal(reward, [1.0, 1.0, 1.0])
