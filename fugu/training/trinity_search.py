"""TRINITY's head trained on recorded real outcomes: search on train, choose on validation.

The honest protocol the orchestration claim needs, as code:

1. every candidate setting (a number of sep-CMA-ES generations: fewer is the search's form of
   early stopping; the step size is no candidate, since argmax routing and CMA-ES from zero are
   both scale-invariant, so every ``sigma0`` gives the same routes) is trained on the *train* split only: fitness = mean recorded correctness of the routed worker − λ·estimated cost;
2. the setting is chosen by routed accuracy on the *validation* split;
3. the cost weight λ is swept with that setting (one vector per λ, for the cost–quality curve);
4. the test split is read by eval only, never here.

Every reduced check is judged over seeds: the head is trained once per seed; the first seed's
is the one served and swept over λ. Hidden states are the cached features (SVF offsets zero),
so a generation is one batched matrix product; λ is per 1,000 questions
(:mod:`fugu.training.agent_head`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.training.agent_head import head_from, route_with_head, train_head
from fugu.training.cmaes import CMAESConfig, CMAESResult


@dataclass(frozen=True)
class TrainedHead:
    generations: int
    cost_penalty: float
    head: np.ndarray          # [n_workers, hidden]
    result: CMAESResult
    validation_accuracy: float
    validation_cost_per_1k: float


def fit_and_select(train_x: np.ndarray, train: Outcomes, validation_x: np.ndarray, validation: Outcomes,
                   generation_grid: Sequence[int], cost_penalties: Sequence[float], population_size: int,
                   sigma0: float, seed: int) -> tuple[TrainedHead, list[TrainedHead], list[TrainedHead]]:
    """(chosen head at λ = cost_penalties[0], every candidate, the λ sweep at the chosen setting)."""
    if len(train_x) != len(train) or len(validation_x) != len(validation):
        raise ValueError("features and outcomes must have one row per question")

    def run(generations: int, penalty: float) -> TrainedHead:
        config = CMAESConfig(population_size, int(generations), sigma0, seed)
        result = train_head(train_x, train.scores, train.costs, config, penalty, progress=True)
        head = head_from(result, len(train.workers))
        routes = route_with_head(validation_x, head, validation)
        return TrainedHead(int(generations), float(penalty), head, result, routes.accuracy, routes.cost_per_1k)

    first = float(cost_penalties[0])
    candidates = [run(g, first) for g in generation_grid]
    # validation accuracy; ties → the lower validation cost, then the shorter search
    chosen = max(candidates, key=lambda c: (c.validation_accuracy, -c.validation_cost_per_1k, -c.generations))
    sweep = [chosen] + [run(chosen.generations, p) for p in cost_penalties[1:]]
    return chosen, candidates, sweep


@dataclass(frozen=True)
class SeededTraining:
    """The head trained once per seed: the first seed's search (served, swept over λ) and every seed's chosen head."""

    seeds: list[int]
    chosen: TrainedHead             # first seed, λ = cost_penalties[0]: the served head
    candidates: list[TrainedHead]   # first seed, one per number of generations
    sweep: list[TrainedHead]        # first seed, one per λ
    replicates: list[TrainedHead]   # one chosen head per seed (the first is ``chosen``)


def train_over_seeds(train_x: np.ndarray, train: Outcomes, validation_x: np.ndarray, validation: Outcomes,
                     generation_grid: Sequence[int], cost_penalties: Sequence[float], population_size: int,
                     sigma0: float, seeds: Sequence[int]) -> SeededTraining:
    """:func:`fit_and_select` once per seed; only the first seed sweeps λ (eval judges every seed's head)."""
    search = lambda seed, penalties: fit_and_select(  # noqa: E731
        train_x, train, validation_x, validation, generation_grid, penalties, population_size, sigma0, seed)
    chosen, candidates, sweep = search(seeds[0], cost_penalties)
    replicates = [chosen] + [search(seed, cost_penalties[:1])[0] for seed in seeds[1:]]
    return SeededTraining(list(seeds), chosen, candidates, sweep, replicates)


def training_record(training: SeededTraining, train: Outcomes, validation: Outcomes) -> dict[str, Any]:
    """What the search did, as plain numbers: the choice on validation, every seed's head, the λ sweep."""
    chosen = training.chosen
    return {
        "generations": chosen.generations, "n_train": len(train), "n_validation": len(validation),
        "workers": list(train.workers), "best_fitness": chosen.result.best_fitness,
        "chance_fitness": train.random_accuracy(), "oracle_fitness": train.oracle_accuracy(),
        "selection": {"on": "validation accuracy", "chosen_generations": chosen.generations,
                      "candidates": [{"generations": c.generations, "validation_accuracy": c.validation_accuracy,
                                      "train_fitness": c.result.best_fitness} for c in training.candidates]},
        "seeds": training.seeds,
        "per_seed": [{"seed": seed, "generations": t.generations, "train_fitness": t.result.best_fitness,
                      "validation_accuracy": t.validation_accuracy}
                     for seed, t in zip(training.seeds, training.replicates)],
        "cost_sweep": [{"cost_penalty": t.cost_penalty, "train_fitness": t.result.best_fitness,
                        "validation_accuracy": t.validation_accuracy,
                        "validation_estimated_usd_per_1k": t.validation_cost_per_1k} for t in training.sweep],
    }
