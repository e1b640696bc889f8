"""One head search, one routing rule: λ is per 1,000 questions, and a head is judged on the routes its fitness scored."""

import numpy as np
import pytest

from fugu.data.matrix import Outcomes
from fugu.training.agent_head import PER_1K, HeadRoutes, head_from, route_with_head, train_head
from fugu.training.cmaes import CMAESConfig, cached_head_fitness, sep_cmaes

CONFIG = CMAESConfig(population_size=8, generations=6, sigma0=0.5, seed=1)


def world(n: int = 40, k: int = 3, h: int = 5, seed: int = 0, nan_costs: bool = False):
    rng = np.random.default_rng(seed)
    costs = rng.random((n, k)) * 1e-3  # USD per question, as fetch records them
    if nan_costs:
        costs[::4, 0] = np.nan
    outcomes = Outcomes(tuple(f"q{i}" for i in range(n)), tuple(f"question {i}" for i in range(n)), ("c",) * n,
                        tuple(f"w{j}" for j in range(k)), (rng.random((n, k)) < 0.5).astype(float), costs)
    return outcomes, rng.normal(size=(n, h))


def test_the_cost_weight_is_per_1000_questions():
    data, hidden = world(nan_costs=True)
    result = train_head(hidden, data.scores, data.costs, CONFIG, cost_penalty=0.2)
    routes = route_with_head(hidden, head_from(result, 3), data)
    per_1k = np.nan_to_num(routes.costs) * PER_1K  # an unrecorded cost counts as 0
    assert result.best_fitness == pytest.approx(np.mean(routes.scores - 0.2 * per_1k), abs=1e-12)


def test_at_zero_cost_weight_a_heads_routed_accuracy_is_exactly_its_fitness():
    data, hidden = world()
    result = train_head(hidden, data.scores, data.costs, CONFIG)
    assert route_with_head(hidden, head_from(result, 3), data).accuracy == result.best_fitness


def test_train_head_is_the_search_each_caller_ran_before_it_was_shared():
    """Bit for bit: costs per 1,000 (train_trinity's λ sweep) and raw costs at λ = 0 (every other caller)."""
    data, hidden = world(nan_costs=True)
    start = np.zeros(3 * hidden.shape[1])
    swept = sep_cmaes(cached_head_fitness(hidden, data.scores, np.nan_to_num(data.costs) * 1000.0, 3, 0.1), start,
                      CONFIG, progress=False)
    unweighted = sep_cmaes(cached_head_fitness(hidden, data.scores, data.costs, 3), start, CONFIG, progress=False)
    for before, penalty in ((swept, 0.1), (unweighted, 0.0)):
        now = train_head(hidden, data.scores, data.costs, CONFIG, cost_penalty=penalty)
        np.testing.assert_array_equal(now.best_vector, before.best_vector)
        assert now.history == before.history


def test_each_question_goes_to_the_heads_best_available_worker():
    data, hidden = world()
    head = np.random.default_rng(3).normal(size=(3, hidden.shape[1]))
    available = np.random.default_rng(4).random((len(data), 3)) < 0.6
    available[~available.any(axis=1), 2] = True
    routes = route_with_head(hidden, head, data, available)
    naive = [max((j for j in range(3) if available[i, j]), key=lambda j: hidden[i] @ head[j]) for i in range(len(data))]
    np.testing.assert_array_equal(routes.choices, naive)
    np.testing.assert_array_equal(routes.scores, data.scores[np.arange(len(data)), naive])


def test_an_unrecorded_cost_counts_as_zero_in_the_cost_per_1000_questions():
    routes = HeadRoutes(np.array([0, 1]), np.array([1.0, 0.0]), np.array([np.nan, 0.002]))
    assert routes.cost_per_1k == pytest.approx(1.0) and routes.accuracy == 0.5


def test_masks_the_head_is_trained_under_are_respected_by_its_fitness():
    data, hidden = world()
    only_last = np.zeros((len(data), 3), dtype=bool)
    only_last[:, 2] = True
    result = train_head(hidden, data.scores, data.costs, CONFIG, available=only_last)
    assert result.best_fitness == pytest.approx(data.scores[:, 2].mean())
