"""TRINITY's head trained on recorded real outcomes: search on train, choose on validation.

The honest protocol the orchestration claim needs, as code:

1. every candidate setting (a number of sep-CMA-ES generations: fewer is the search's form of
   early stopping; the step size is no candidate, since argmax routing and CMA-ES from zero are
   both scale-invariant, so every ``sigma0`` gives the same routes) is trained on the *train* split only: fitness = mean recorded correctness of the routed worker − λ·estimated cost;
2. the setting is chosen by routed accuracy on the *validation* split;
3. the cost weight λ is swept with that setting (one vector per λ, for the cost–quality curve);
4. the test split is read by eval only, never here.

Hidden states are the cached features (SVF offsets zero), so a generation is one batched
matrix product. Costs enter in USD per 1,000 questions, the unit λ is quoted in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.training.cmaes import CMAESConfig, CMAESResult, cached_head_fitness, head_choices, sep_cmaes

PER_1K = 1000.0  # λ multiplies the estimated cost in USD per 1,000 questions


@dataclass(frozen=True)
class TrainedHead:
    generations: int
    cost_penalty: float
    head: np.ndarray          # [n_workers, hidden]
    result: CMAESResult
    validation_accuracy: float
    validation_cost_per_1k: float


def train_head_on(hidden: np.ndarray, outcomes: Outcomes, config: CMAESConfig, cost_penalty: float,
                  progress: bool = True) -> CMAESResult:
    """sep-CMA-ES over the agent head on ``outcomes`` (the train split) and its cached states."""
    fitness = cached_head_fitness(hidden, outcomes.scores, np.nan_to_num(outcomes.costs) * PER_1K,
                                  len(outcomes.workers), cost_penalty)
    return sep_cmaes(fitness, np.zeros(len(outcomes.workers) * hidden.shape[1]), config, progress=progress)


def routed_on(hidden: np.ndarray, outcomes: Outcomes, head: np.ndarray) -> tuple[float, float]:
    """(accuracy, estimated USD per 1,000 questions) of ``head`` routing ``outcomes``."""
    choices = head_choices(hidden, head[None])[0]
    scores, costs = outcomes.routed(choices)
    return float(scores.mean()), float(np.nan_to_num(costs).mean() * PER_1K)


def fit_and_select(train_x: np.ndarray, train: Outcomes, validation_x: np.ndarray, validation: Outcomes,
                   generation_grid: Sequence[int], cost_penalties: Sequence[float], population_size: int,
                   sigma0: float, seed: int) -> tuple[TrainedHead, list[TrainedHead], list[TrainedHead]]:
    """(chosen head at λ = cost_penalties[0], every candidate, the λ sweep at the chosen setting)."""
    if len(train_x) != len(train) or len(validation_x) != len(validation):
        raise ValueError("features and outcomes must have one row per question")

    def run(generations: int, penalty: float) -> TrainedHead:
        result = train_head_on(train_x, train, CMAESConfig(population_size, int(generations), sigma0, seed), penalty)
        head = result.best_vector.reshape(len(train.workers), train_x.shape[1])
        accuracy, cost = routed_on(validation_x, validation, head)
        return TrainedHead(int(generations), float(penalty), head, result, accuracy, cost)

    first = float(cost_penalties[0])
    candidates = [run(g, first) for g in generation_grid]
    # validation accuracy; ties → the lower validation cost, then the shorter search
    chosen = max(candidates, key=lambda c: (c.validation_accuracy, -c.validation_cost_per_1k, -c.generations))
    sweep = [chosen] + [run(chosen.generations, p) for p in cost_penalties[1:]]
    return chosen, candidates, sweep
