"""Random search over the TRINITY agent head: the no-adaptation twin of sep-CMA-ES.

Draws as many heads as sep-CMA-ES evaluates (population × generations), each from the
distribution sep-CMA-ES *starts* from (N(0, sigma0²) per number), scores each on the training
questions with the same fitness, and keeps the best. Whatever sep-CMA-ES gains over this is
what its adaptation (mean, step size and diagonal covariance updates) buys at equal budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fugu.training.cmaes import PopulationFitness


@dataclass(frozen=True)
class RandomSearchConfig:
    evaluations: int
    sigma0: float
    seed: int
    batch_size: int = 256   # candidates scored per fitness call (memory, not results)


@dataclass(frozen=True)
class RandomSearchResult:
    best_vector: np.ndarray
    best_fitness: float
    best_so_far: list[float]  # after each batch


def random_search(fitness: PopulationFitness, dim: int, config: RandomSearchConfig) -> RandomSearchResult:
    if config.evaluations < 1:
        raise ValueError(f"random search needs at least one evaluation, got {config.evaluations}")
    rng = np.random.default_rng(config.seed)
    best_vector, best_fitness, curve = np.zeros(dim), -np.inf, []
    remaining = config.evaluations
    while remaining:
        batch = min(config.batch_size, remaining)
        candidates = rng.normal(0.0, config.sigma0, size=(batch, dim))
        values = np.asarray(fitness(candidates), dtype=float)
        top = int(np.argmax(values))
        if values[top] > best_fitness:
            best_vector, best_fitness = candidates[top].copy(), float(values[top])
        curve.append(best_fitness)
        remaining -= batch
    return RandomSearchResult(best_vector, best_fitness, curve)
