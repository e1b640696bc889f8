"""Which float bits does this machine compute? A fingerprint of a model's hidden states.

Why: the same code and inputs give other last bits on another CPU path (instruction set,
thread count), enough to move a knife-edge verdict. Hashing the states of fixed inputs shows
whether two machines computed the same bits without shipping the states themselves. The
inputs and the hash are those of ``tools/numeric_probe.py`` (shared with the lead), so a
stage's recorded fingerprint and the probe's printed one can be compared directly.
"""

from __future__ import annotations

import hashlib

import torch
from transformers import PreTrainedModel

PROBE_SEED = 0
PROBE_SHAPE = (2, 200)      # two sequences of 200 tokens
PROBE_TOKEN_RANGE = (100, 40000)


def hidden_state_fingerprint(model: PreTrainedModel) -> str:
    """sha256[:16] of the final-layer hidden states at the penultimate token (TRINITY's feature
    position) of two seeded random 200-token inputs, under the process's current threads.

    Token ids are drawn from the probe's range, capped at the vocabulary (a tiny test backbone
    has fewer tokens; SmolLM2's 49,152 leave the range as the probe's), by torch's global
    generator seeded as the probe seeds it; its state is restored after, so no later draw moves.
    """
    low, high = PROBE_TOKEN_RANGE
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(PROBE_SEED)
        ids = torch.randint(low, min(high, model.config.vocab_size), PROBE_SHAPE)
    with torch.inference_mode():
        states = model(ids, output_hidden_states=True).hidden_states[-1][:, -2].contiguous()
    return hashlib.sha256(states.numpy().tobytes()).hexdigest()[:16]
