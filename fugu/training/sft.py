"""A supervised head fit on "best worker" labels: the imitation (SFT) twin of sep-CMA-ES.

Each training question is labelled with its best workers (every worker that reached the
question's top score shares the label's mass; a question nobody answered carries no label
and is skipped), and the same linear head [n_workers, h] is fit by full-batch gradient
descent on the cross-entropy. It reads the same outcome matrix sep-CMA-ES's fitness reads,
but optimises agreement with the per-question argmax instead of the routed reward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fugu.training.reinforce import softmax


@dataclass(frozen=True)
class SFTConfig:
    epochs: int
    learning_rate: float
    weight_decay: float = 0.0


def best_worker_labels(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(soft labels [n, k], rows kept): uniform over each question's top-scoring workers."""
    top = scores.max(axis=1, keepdims=True)
    keep = top[:, 0] > 0
    hits = (scores == top) & keep[:, None]
    labels = hits / np.maximum(hits.sum(axis=1, keepdims=True), 1)
    return labels[keep], keep


def fit_sft(hidden: np.ndarray, scores: np.ndarray, config: SFTConfig) -> np.ndarray:
    """The head [k, h] minimising cross-entropy to the best-worker labels (all-zero start)."""
    labels, keep = best_worker_labels(np.asarray(scores, dtype=float))
    x = np.asarray(hidden, dtype=float)[keep]
    head = np.zeros((scores.shape[1], x.shape[1]))
    if not len(x):
        return head  # no question was answered by anyone: nothing to imitate
    for _ in range(config.epochs):
        grad = (softmax(x @ head.T) - labels).T @ x / len(x) + config.weight_decay * head
        head -= config.learning_rate * grad
    return head
