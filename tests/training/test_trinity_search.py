"""TRINITY's search over seeds: every seed trains a head, only the first (the served one) sweeps λ."""

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.training.trinity_search import train_over_seeds, training_record


def split(name: str, n: int, seed: int) -> Outcomes:
    rng = np.random.default_rng(seed)
    return Outcomes(tuple(f"{name}{i}" for i in range(n)), tuple(f"{name} question {i}" for i in range(n)),
                    ("c",) * n, ("w0", "w1", "w2"), (rng.random((n, 3)) < 0.5).astype(float), rng.random((n, 3)) * 1e-3)


def trained(seeds=(0, 1)):
    train, validation = split("train", 30, 1), split("validation", 10, 2)
    rng = np.random.default_rng(0)
    result = train_over_seeds(rng.normal(size=(30, 4)), train, rng.normal(size=(10, 4)), validation,
                              generation_grid=[2, 4], cost_penalties=[0.0, 0.5], population_size=6, sigma0=0.5,
                              seeds=list(seeds))
    return result, train, validation


def test_every_seed_trains_a_head_and_only_the_first_sweeps_the_cost_weight():
    result, _, _ = trained()
    assert [t.cost_penalty for t in result.sweep] == [0.0, 0.5]
    assert len(result.replicates) == 2 and result.replicates[0] is result.chosen
    assert result.sweep[0] is result.chosen and result.chosen in result.candidates
    assert all(t.cost_penalty == 0.0 for t in result.replicates)


def test_the_training_record_names_each_seed_candidate_and_cost_weight():
    result, train, validation = trained()
    record = training_record(result, train, validation)
    assert record["seeds"] == [0, 1] and [s["seed"] for s in record["per_seed"]] == [0, 1]
    assert [c["generations"] for c in record["selection"]["candidates"]] == [2, 4]
    assert record["selection"]["chosen_generations"] == record["generations"] == result.chosen.generations
    assert [s["cost_penalty"] for s in record["cost_sweep"]] == [0.0, 0.5]
    assert record["n_train"] == 30 and record["n_validation"] == 10
