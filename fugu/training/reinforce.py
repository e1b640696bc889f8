"""REINFORCE on the TRINITY agent head: the policy-gradient twin sep-CMA-ES is compared with.

Same parameters (a linear head [n_workers, h] over the same cached hidden states), same
reward (the chosen worker's graded outcome on a training question), same number of reward
evaluations as sep-CMA-ES gets. One *evaluation* is one pass over the training questions:
sep-CMA-ES scores one candidate head on all of them; REINFORCE samples one worker per
question from softmax(head · h), reads those rewards and takes one gradient step with a
mean-reward baseline. The returned head is used greedily (argmax), as every router is.
This is TRINITY Table 4's REINFORCE row in shape, not the paper's implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReinforceConfig:
    evaluations: int        # passes over the training questions (= sep-CMA-ES population × generations)
    learning_rate: float
    seed: int


@dataclass(frozen=True)
class ReinforceResult:
    head: np.ndarray             # [n_workers, h]
    mean_reward: list[float]     # sampled reward per pass: the learning curve


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def reinforce(hidden: np.ndarray, scores: np.ndarray, config: ReinforceConfig) -> ReinforceResult:
    """Policy gradient over a linear softmax policy, from the all-zero head (uniform policy).

    hidden [n, h]; scores [n, n_workers]. Gradient of E[r] for a softmax policy:
    (r − b) · (onehot(a) − π) ⊗ h, averaged over questions; b is the pass's mean reward.
    """
    if config.evaluations < 1:
        raise ValueError(f"REINFORCE needs at least one evaluation, got {config.evaluations}")
    hidden = np.asarray(hidden, dtype=float)
    n, k = scores.shape
    rng = np.random.default_rng(config.seed)
    head = np.zeros((k, hidden.shape[1]))
    curve: list[float] = []
    rows = np.arange(n)
    for _ in range(config.evaluations):
        policy = softmax(hidden @ head.T)                                   # [n, k]
        actions = (policy.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
        reward = scores[rows, actions]
        advantage = reward - reward.mean()
        onehot = np.zeros_like(policy)
        onehot[rows, actions] = 1.0
        head += config.learning_rate * ((advantage[:, None] * (onehot - policy)).T @ hidden) / n
        curve.append(float(reward.mean()))
    return ReinforceResult(head, curve)
