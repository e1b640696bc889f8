"""sep-CMA-ES over a flat parameter vector, and the routing fitness that makes it cheap.

TRINITY is trained gradient-free: the published reconstruction runs sep-CMA-ES (CMA-ES with
a *diagonal* covariance, Ros & Hansen 2008) over its ~19.5K numbers, because the reward —
did the routed worker answer correctly — is not differentiable. We use the ``cma`` package
with ``CMA_diagonal=True`` for the whole run, which is exactly sep-CMA-ES.

The performance core: a fitness call scores a whole *population*. When the SVF offsets are
frozen the backbone's hidden states do not depend on the candidate, so they are computed once
and a generation is one matrix product (``head_fitness``); only when SVF offsets are trained
does every candidate need its own forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cma
import numpy as np
from tqdm.auto import tqdm

from fugu.routing.base import mask_unavailable
from fugu.training.population import population_scores

# population [pop, dim] → fitness [pop], higher is better.
PopulationFitness = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class CMAESConfig:
    population_size: int
    generations: int
    sigma0: float
    seed: int


@dataclass(frozen=True)
class Generation:
    generation: int        # 1-based: generation 1 is the first sampled population
    best_fitness: float    # best candidate of this generation
    mean_fitness: float
    sigma: float           # the step size after this generation's update
    best_so_far: float


@dataclass(frozen=True)
class CMAESResult:
    best_vector: np.ndarray
    best_fitness: float
    history: list[Generation]


def sep_cmaes(fitness: PopulationFitness, x0: np.ndarray, config: CMAESConfig,
              progress: bool = True) -> CMAESResult:
    """Maximise ``fitness`` from ``x0`` with sep-CMA-ES; seeded, so a rerun gives the same result.

    ``fitness`` receives the whole population at once so it can batch; ``cma`` minimises,
    hence the sign flip at the boundary only.
    """
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 1 or x0.size < 2:
        raise ValueError(f"x0 must be a flat vector of at least 2 numbers, got shape {x0.shape}")
    # cma treats seed 0 (and None) as "seed from the clock": shift so every int is reproducible.
    # The loop runs a fixed number of generations (never consults strategy.stop()), so a run's
    # length is a param, not an accident of cma's termination heuristics.
    options = {"CMA_diagonal": True, "popsize": config.population_size, "seed": config.seed + 1, "verbose": -9}
    strategy = cma.CMAEvolutionStrategy(x0, config.sigma0, options)
    history: list[Generation] = []
    best_vector, best_fitness = x0.copy(), -np.inf
    bar = tqdm(range(1, config.generations + 1), desc="sep-CMA-ES", unit="gen", disable=not progress)
    for generation in bar:
        candidates = np.asarray(strategy.ask())
        values = np.asarray(fitness(candidates), dtype=float)
        if values.shape != (len(candidates),):
            raise ValueError(f"fitness must return one value per candidate, got shape {values.shape}")
        strategy.tell(list(candidates), list(-values))
        top = int(np.argmax(values))
        if values[top] > best_fitness:
            best_vector, best_fitness = candidates[top].copy(), float(values[top])
        history.append(Generation(generation, float(values[top]), float(values.mean()),
                                  float(strategy.sigma), best_fitness))
        bar.set_postfix(best=f"{best_fitness:.4f}", sigma=f"{strategy.sigma:.3f}")
    return CMAESResult(best_vector, best_fitness, history)


def routed_reward(choices: np.ndarray, scores: np.ndarray, costs: np.ndarray, cost_penalty: float) -> np.ndarray:
    """Reward per (candidate, question) of sending question i to worker ``choices[..., i]``.

    scores, costs: [n_questions, n_workers]; choices: [..., n_questions]. Reward is the graded
    outcome minus ``cost_penalty`` × cost. An unrecorded (NaN) cost counts as 0: a missing price
    must not make every candidate's fitness NaN.
    """
    rows = np.arange(scores.shape[0])
    reward = scores[rows, choices]
    if cost_penalty:
        reward = reward - cost_penalty * np.nan_to_num(costs, nan=0.0)[rows, choices]
    return reward


def head_choices(hidden: np.ndarray, heads: np.ndarray, available: np.ndarray | None = None) -> np.ndarray:
    """Chosen worker per (candidate, question) for a population of agent heads.

    hidden [n, h] (cached hidden states); heads [pop, n_workers, h]; available bool
    [n, n_workers] or None. One batched product: [pop, n, n_workers] scores, masked, argmax.
    """
    return np.argmax(mask_unavailable(population_scores(hidden, heads), available), axis=-1)


def head_fitness(hidden: np.ndarray, scores: np.ndarray, costs: np.ndarray, heads: np.ndarray,
                 cost_penalty: float = 0.0, available: np.ndarray | None = None) -> np.ndarray:
    """Mean routed reward of every head in the population: [pop]. The cached (frozen-SVF) path."""
    return routed_reward(head_choices(hidden, heads, available), scores, costs, cost_penalty).mean(axis=-1)


def cached_head_fitness(hidden: np.ndarray, scores: np.ndarray, costs: np.ndarray, n_workers: int,
                        cost_penalty: float = 0.0, available: np.ndarray | None = None) -> PopulationFitness:
    """The fitness sep-CMA-ES calls over flat agent heads [pop, n_workers × h], hidden states fixed."""
    shape = (n_workers, hidden.shape[1])
    return lambda population: head_fitness(hidden, scores, costs, population.reshape(-1, *shape),
                                           cost_penalty, available)
