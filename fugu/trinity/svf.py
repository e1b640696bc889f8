"""Singular-value fine-tuning (SVF): the backbone's only trainable numbers in TRINITY.

Each target matrix is decomposed once, W = U diag(s) Vᵀ; a candidate is one offset z per
singular value, and the adapted matrix is the reference's parameterisation

    W(z) = U diag(s ⊙ (1 + z)) Vᵀ · Σs / Σ(s ⊙ (1 + z))

(scale the singular values, keep the total singular-value mass: Sakana's TRINITY code,
``SVDParameterManager.compose_model_weights`` / ``ParameterApplier.apply_params_to_model``,
as read in the public ports nshkrdotcom/trinity_coordinator ``Sakana.SVD.reconstruct`` and
OpenFugu ``mini.py``). Offsets are consumed in ``state_dict`` order, which is the vector
layout (:mod:`fugu.trinity`).

Why the delta form below: since U diag(s) Vᵀ = W, W(z) = c · (W + (U ⊙ s) diag(z) Vᵀ) with
c = Σs / Σ(s(1 + z)) is the same matrix, but at z = 0 it is *exactly* W (c = 1 and the
delta is 0), so the unadapted model is bit-for-bit the base model, which the reference's
U diag(s) Vᵀ recomposition is not (round-off). Recomposing is one (m × k)·(k × n) matmul per
matrix with U ⊙ s precomputed; matrices whose offsets are all zero are copied, not multiplied.

Tied weights: Qwen3-0.6B ties ``lm_head.weight`` to ``model.embed_tokens.weight``; both
keys are targets and are written in order, so, as in the reference, the ``lm_head`` slice
is the one that stays in the shared tensor.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

_LAYER_PREFIX = "model.layers."


def svf_target_keys(model: nn.Module, layers: Sequence[int] | None) -> list[str]:
    """The reference's selection: 2-D weights with every dimension > 1, in ``state_dict`` order,
    keeping every tensor outside the transformer layers and, inside them, only ``layers``
    (``opt_layer_indices``; the reference uses [26] of Qwen3-0.6B's 28 layers, which gives
    embed_tokens, that layer's q/k/v/o/gate/up/down, and lm_head: 9 matrices). ``None`` keeps all.
    Works on a meta-device model too (shapes only), so the count needs no weights.
    """
    keep = None if layers is None else {f"{_LAYER_PREFIX}{int(i)}." for i in layers}
    keys = []
    for key, tensor in model.state_dict(keep_vars=True).items():
        if tensor.ndim != 2 or min(tensor.shape) <= 1:
            continue
        if keep is not None and key.startswith(_LAYER_PREFIX) and not any(key.startswith(p) for p in keep):
            continue
        keys.append(key)
    if layers is not None:
        n_layers = getattr(getattr(model, "config", None), "num_hidden_layers", None)
        bad = [i for i in layers if n_layers is not None and not 0 <= int(i) < n_layers]
        if bad:
            raise ValueError(f"SVF layers {bad} out of range for a model with {n_layers} layers")
    return keys


def svf_offset_count(model: nn.Module, target_keys: Sequence[str]) -> int:
    """Number of SVF offsets: one per singular value, min(m, n) per target matrix."""
    state = model.state_dict(keep_vars=True)
    return sum(min(state[key].shape) for key in target_keys)


class SVFAdapter:
    """Applies SVF offsets to a model in place; the SVD of every target is computed once."""

    def __init__(self, model: nn.Module, target_modules: Sequence[str]):
        self.model = model
        self.keys = list(target_modules)
        state = model.state_dict(keep_vars=True)
        missing = [k for k in self.keys if k not in state]
        if missing:
            raise KeyError(f"SVF targets not in the model: {missing}")
        self._base: list[torch.Tensor] = []
        self._us: list[torch.Tensor] = []  # U ⊙ s, [m, k]
        self._s_sum: list[torch.Tensor] = []
        self._s: list[torch.Tensor] = []
        self._vh: list[torch.Tensor] = []  # Vᵀ, [k, n]
        with torch.no_grad():
            for key in self.keys:
                weight = state[key].detach()
                self._base.append(weight.clone())
                u, s, vh = torch.linalg.svd(weight.float(), full_matrices=False)
                self._us.append(u * s)
                self._s.append(s)
                self._s_sum.append(s.sum())
                self._vh.append(vh)
        self.sizes = [int(s.numel()) for s in self._s]
        self.n_offsets = sum(self.sizes)
        self._applied = np.zeros(self.n_offsets, dtype=np.float32)

    def compose(self, index: int, z: torch.Tensor) -> torch.Tensor:
        """W(z) of target ``index`` in its own dtype (see the module docstring for the formula)."""
        base = self._base[index]
        if not torch.any(z):
            return base
        s = self._s[index]
        scale = self._s_sum[index] / (s * (1.0 + z)).sum()
        delta = (self._us[index] * z) @ self._vh[index]
        return (scale * (base.float() + delta)).to(base.dtype)

    @torch.no_grad()
    def apply(self, offsets: np.ndarray) -> None:
        """Write W(z) into every target; a no-op when ``offsets`` equal those already applied."""
        offsets = np.asarray(offsets, dtype=np.float32)
        if offsets.shape != (self.n_offsets,):
            raise ValueError(f"SVF offsets: expected shape ({self.n_offsets},), got {offsets.shape}")
        if np.array_equal(offsets, self._applied):
            return
        state = self.model.state_dict(keep_vars=True)
        start = 0
        for index, (key, size) in enumerate(zip(self.keys, self.sizes)):
            z = torch.from_numpy(offsets[start:start + size]).to(self._s[index].device)
            state[key].data.copy_(self.compose(index, z))
            start += size
        self._applied = offsets.copy()

    def restore(self) -> None:
        """Back to the base weights, bit for bit."""
        self.apply(np.zeros(self.n_offsets, dtype=np.float32))
