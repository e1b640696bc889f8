"""What sep-CMA-ES searches when it trains TRINITY, and how a candidate is scored.

The search space is the agent rows of the head, plus the SVF offsets when they are trained
(a param). Role rows are not searched: a routing reward says nothing about roles, so they stay
at zero in the saved vector, which keeps the reference layout (``fugu.trinity.VectorLayout``)
so the vector loads wherever a released one would.

Two fitness paths, the performance core of training:
- SVF frozen: hidden states do not depend on the candidate → computed once, a generation is
  one batched matrix product (``head_fitness``);
- SVF searched: every candidate re-composes the adapted weights and runs the backbone once
  over the whole training batch (batched over questions, looped over candidates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from fugu.training.cmaes import PopulationFitness, cached_head_fitness, head_fitness

HiddenStates = Callable[[np.ndarray | None], np.ndarray]  # SVF offsets (None = base model) → [n, h]


@dataclass(frozen=True)
class SearchSpace:
    n_svf: int
    n_agents: int
    n_roles: int
    hidden_size: int
    train_svf: bool

    @property
    def size(self) -> int:
        return (self.n_svf if self.train_svf else 0) + self.n_agents * self.hidden_size

    def split(self, x: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """A searched point → (SVF offsets or None when frozen, agent head [n_agents, h])."""
        x = np.asarray(x, dtype=float)
        svf = x[: self.n_svf] if self.train_svf else None
        head = x[(self.n_svf if self.train_svf else 0):].reshape(self.n_agents, self.hidden_size)
        return svf, head

    def full_parts(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(SVF offsets, whole head [n_agents + n_roles, h]) for the saved vector; role rows zero."""
        svf, agents = self.split(x)
        head = np.zeros((self.n_agents + self.n_roles, self.hidden_size), dtype=np.float32)
        head[: self.n_agents] = agents
        return (np.zeros(self.n_svf, dtype=np.float32) if svf is None else svf.astype(np.float32)), head


def population_fitness(space: SearchSpace, hidden_states: HiddenStates, scores: np.ndarray, costs: np.ndarray,
                       cost_penalty: float, available: np.ndarray | None = None) -> PopulationFitness:
    """The fitness sep-CMA-ES calls: mean routed reward of every candidate on the training batch."""
    if not space.train_svf:
        return cached_head_fitness(hidden_states(None), scores, costs, space.n_agents, cost_penalty, available)

    def adapted(population: np.ndarray) -> np.ndarray:
        values = []
        for x in population:
            svf, head = space.split(x)
            values.append(head_fitness(hidden_states(svf), scores, costs, head[None], cost_penalty, available)[0])
        return np.array(values)

    return adapted
