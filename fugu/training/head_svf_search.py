"""TRINITY's head and SVF offsets searched together, as the paper trains it (the full profile).

Why apart from :mod:`fugu.training.trinity_search` (head only, on cached features): once the SVF
offsets are searched, the backbone's weights change with every candidate, so each candidate
re-reads the training questions through the adapted model (:func:`population_fitness` with
``train_svf=True``). That is the cost TRINITY Table 2's with-SVF row pays; here it is paid and
counted (candidates, forward passes, seconds), and the result set beside the head-only search on
the same validation questions (70.44 with SVF vs 67.85 without, in the paper).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.training.agent_head import PER_1K, route_with_head
from fugu.training.cmaes import CMAESConfig, CMAESResult, sep_cmaes
from fugu.training.trinity_fitness import SearchSpace, population_fitness
from fugu.types import Conversation


@dataclass(frozen=True)
class HeadSvfSearch:
    space: SearchSpace
    svf: np.ndarray          # [n_svf] float32: the best candidate's offsets
    head: np.ndarray         # [n_agents, h]: its agent rows
    result: CMAESResult
    validation_accuracy: float
    wall_s: float            # the whole search, on this machine
    forward_passes: int      # questions read through the backbone by the search (every candidate, every generation)


def search_head_and_svf(trinity, train_conversations: Sequence[Conversation], train: Outcomes,
                        validation_conversations: Sequence[Conversation], validation: Outcomes,
                        config: CMAESConfig, cost_penalty: float) -> HeadSvfSearch:
    """sep-CMA-ES from zero over [SVF offsets, agent head] on ``train``; the best candidate routed on ``validation``.

    ``cost_penalty``: λ per 1,000 questions, as the head-only search. The backbone is restored after.
    """
    layout = trinity.layout
    space = SearchSpace(layout.n_svf, len(train.workers), layout.n_roles, layout.hidden_size, train_svf=True)
    read = {"questions": 0}

    def hidden_states(svf: np.ndarray | None) -> np.ndarray:
        read["questions"] += len(train_conversations)
        return trinity.hidden_states(train_conversations, None if svf is None else svf.astype(np.float32))

    fitness = population_fitness(space, hidden_states, train.scores, np.nan_to_num(train.costs) * PER_1K,
                                 cost_penalty)
    started = time.perf_counter()
    try:
        result = sep_cmaes(fitness, np.zeros(space.size), config)
        wall_s = time.perf_counter() - started
        svf, head = space.split(result.best_vector)
        svf = svf.astype(np.float32)
        validation_x = trinity.hidden_states(validation_conversations, svf)
    finally:
        trinity.svf.restore()
    accuracy = route_with_head(validation_x, head, validation).accuracy
    return HeadSvfSearch(space, svf, head, result, float(accuracy), wall_s, read["questions"])


def search_record(search: HeadSvfSearch, config: CMAESConfig, head_only_validation_accuracy: float,
                  n_train: int) -> dict[str, Any]:
    """The search as plain numbers for the metrics; its seconds go to the timings (they depend on the machine)."""
    return {
        "run": True, "trainable": "head+svf", "svf_offsets": search.space.n_svf,
        "searched_numbers": search.space.size, "training_questions": n_train,
        "population_size": config.population_size, "generations": config.generations,
        "candidates": config.population_size * config.generations, "backbone_forward_passes": search.forward_passes,
        "best_fitness": search.result.best_fitness, "validation_accuracy": search.validation_accuracy,
        "head_only_validation_accuracy": head_only_validation_accuracy,
        "gain_over_head_only": search.validation_accuracy - head_only_validation_accuracy,
        "cost": "backbone_forward_passes here; seconds in metrics/timings/train_trinity.json (svf_search)",
    }
