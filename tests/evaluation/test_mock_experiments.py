"""Mock experiments: optimal routing is found; held-out worker subsets are never trained on."""

import numpy as np

from fugu.evaluation.mock_experiments import (
    adaptive_pool,
    chance_to_optimal,
    make_episodes,
    rollout,
    split_subsets,
)
from fugu.evaluation.worker_masks import worker_subsets
from fugu.pools.simulated import SimulatedPool
from fugu.training.cmaes import CMAESConfig


def separable_world(n_questions: int = 120):
    pool = SimulatedPool.generate(n_questions, n_categories=3, n_workers=3, seed=0)
    data = pool.outcomes()
    centres = {c: np.eye(3)[i] * 4 for i, c in enumerate(sorted(set(data.categories)))}
    rng = np.random.default_rng(0)
    hidden = np.stack([centres[c] + rng.normal(scale=0.2, size=3) for c in data.categories])
    return pool, data, hidden


def test_cmaes_finds_optimal_routing_on_a_separable_mock():
    _, data, hidden = separable_world()
    metrics, run = chance_to_optimal(hidden, data, CMAESConfig(12, 30, 1.0, 0), tolerance=1e-9)
    assert metrics["reached_optimal"] and metrics["mock"]
    assert metrics["optimal_fitness"] > metrics["chance_fitness"]
    assert metrics["generations_to_optimal"] <= 30
    assert len(run.history) == 30


def test_heldout_subsets_are_disjoint_from_training_subsets():
    train, heldout = split_subsets(worker_subsets(5, 2), n_heldout=3, seed=0)
    assert not set(train) & set(heldout)
    assert len(train) + len(heldout) == 10


def test_adaptive_pool_reports_disjoint_subsets_and_bounded_accuracies():
    _, data, hidden = separable_world()
    result = adaptive_pool(hidden[:80], data.take(range(80)), hidden[80:], data.take(range(80, 120)),
                           k=2, n_heldout_subsets=1, replicas=2, config=CMAESConfig(8, 10, 1.0, 0), seed=0)
    assert not {tuple(s) for s in result["train_subsets"]} & {tuple(s) for s in result["heldout_subsets"]}
    assert result["adaptive_accuracy"] <= result["oracle_accuracy"] + 1e-12
    assert result["mock"] is True


def test_rollout_only_routes_to_available_workers():
    pool, data, hidden = separable_world(12)
    episodes = make_episodes(data, steps=2, k=1, seed=0)  # exactly one worker available per turn
    available = np.array([[e.masks[s].argmax() for s in range(2)] for e in episodes])
    chosen = []

    def reply(question_id: str, worker: int) -> str:
        chosen.append(worker)
        return pool.reply(question_id, pool.workers[worker].name).text

    rollout(np.random.default_rng(0).normal(size=(3, 3)), episodes, data,
            lambda convs: np.ones((len(convs), 3)), reply, "final answer?")
    assert chosen == list(available[:, 0]) + list(available[:, 1])
