"""The planted head: least squares recovers choices that are linear in the hidden state."""

import numpy as np

from fugu.trinity.planting import plant_head


def test_planted_head_reproduces_linearly_separable_choices():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(5, 16))  # 3 agents + 2 roles
    hidden = rng.normal(size=(200, 16))
    logits = hidden @ truth.T
    agents, roles = logits[:, :3].argmax(1), logits[:, 3:].argmax(1)
    head = plant_head(hidden[:150], agents[:150], roles[:150], 3, 2, ridge=1e-4)
    assert head.shape == (5, 16) and head.dtype == np.float32
    held = hidden[150:] @ head.T
    assert np.mean(held[:, :3].argmax(1) == agents[150:]) > 0.8
    assert np.mean(held[:, 3:].argmax(1) == roles[150:]) > 0.9
