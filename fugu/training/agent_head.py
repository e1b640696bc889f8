"""An agent head over cached hidden states: how it is trained, and the routes it takes.

The agent head [n_workers, h] scores every worker from the backbone's hidden state of a
question; the routed worker is the argmax (over the available workers). With SVF frozen the
hidden states do not depend on the candidate, so they are read once from the features cache.
Every place that trains such a head with sep-CMA-ES (TRINITY on recorded outcomes, the mock
experiments, the optimiser comparison) calls :func:`train_head`, and every place that judges a
head calls :func:`route_with_head`, so a head is judged on the routes its fitness scored (the
same float32 product, :func:`fugu.training.cmaes.head_choices`).

The cost unit, once: λ (``cost_penalty``) is quoted per 1,000 questions, as params quote it.
The fitness is mean(score − λ · estimated USD per 1,000 questions); costs arrive in USD per
question (as fetch records them) and are scaled here. An unrecorded (NaN) cost counts as 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.training.cmaes import CMAESConfig, CMAESResult, cached_head_fitness, head_choices, sep_cmaes

PER_1K = 1000.0  # questions λ's cost is counted over


def train_head(hidden: np.ndarray, scores: np.ndarray, costs: np.ndarray, config: CMAESConfig,
               cost_penalty: float = 0.0, available: np.ndarray | None = None,
               progress: bool = False) -> CMAESResult:
    """sep-CMA-ES from zero over a flat agent head [n_workers × h] on cached hidden states [n, h].

    scores, costs: [n, n_workers] (costs in USD per question); ``cost_penalty``: λ per 1,000
    questions; ``available``: bool [n, n_workers] worker masks the head is trained under, or None.
    """
    n_workers = scores.shape[1]
    fitness = cached_head_fitness(hidden, scores, np.nan_to_num(costs) * PER_1K, n_workers, cost_penalty, available)
    return sep_cmaes(fitness, np.zeros(n_workers * hidden.shape[1]), config, progress=progress)


def head_from(result: CMAESResult, n_workers: int) -> np.ndarray:
    """The best head of a search, as [n_workers, h]."""
    return result.best_vector.reshape(n_workers, -1)


@dataclass(frozen=True)
class HeadRoutes:
    """What one head did on one set of questions, per question ([n])."""

    choices: np.ndarray  # worker index
    scores: np.ndarray   # graded outcome of the chosen worker
    costs: np.ndarray    # USD per question of the chosen worker (NaN where not recorded)

    @property
    def accuracy(self) -> float:
        return float(self.scores.mean())

    @property
    def cost_per_1k(self) -> float:
        """Estimated USD per 1,000 questions; an unrecorded cost counts as 0."""
        return float(np.nan_to_num(self.costs).mean() * PER_1K)


def route_with_head(hidden: np.ndarray, head: np.ndarray, outcomes: Outcomes,
                    available: np.ndarray | None = None) -> HeadRoutes:
    """Each question of ``outcomes`` to the head's best available worker, with what that worker scored.

    hidden [n, h] in the order of ``outcomes``; head [n_workers, h]; available bool
    [n, n_workers] or None (every worker).
    """
    choices = head_choices(hidden, np.asarray(head)[None], available)[0]
    scores, costs = outcomes.routed(choices)
    return HeadRoutes(choices, scores, costs)
