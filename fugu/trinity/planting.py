"""A planted head: the least-squares linear head that maps hidden states to known choices.

Used where no trained vector exists (the tiny profile's self-test): fit the head on
*training* cases, then score *held-out* ones. The fit is ridge-regularised least squares on
±1 one-hot targets, solved separately for the agent block and the role block (one solve,
since they share the hidden states), which keeps the head bias-free like the reference's.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def plant_head(hidden: np.ndarray, agent_ids: Sequence[int], role_ids: Sequence[int],
               n_agents: int, n_roles: int, ridge: float = 1e-3) -> np.ndarray:
    """[n_agents + n_roles, hidden] head whose argmax reproduces the given choices where it can."""
    hidden = np.asarray(hidden, dtype=np.float64)  # [batch, hidden]
    targets = -np.ones((len(hidden), n_agents + n_roles))
    rows = np.arange(len(hidden))
    targets[rows, np.asarray(agent_ids)] = 1.0
    targets[rows, n_agents + np.asarray(role_ids)] = 1.0
    gram = hidden.T @ hidden + ridge * len(hidden) * np.eye(hidden.shape[1])
    return np.linalg.solve(gram, hidden.T @ targets).T.astype(np.float32)
