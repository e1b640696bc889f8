"""The TRINITY parameter vector: one flat float32 array, in the reference's layout.

``[svf_offsets (n_svf), head (n_agents + n_roles) × hidden, row-major, agent rows first]``.
SVF offsets come FIRST, in ``state_dict`` order of the target matrices, then the head. This
is what Sakana's ``ParameterApplier.apply_params_to_model`` consumes and what the public
port nshkrdotcom/trinity_coordinator splits (``split_router_vector(vector, 9216, 1024, 10)``
→ offsets ``vector[:9216]``, head ``vector[9216:].reshape(10, 1024)``), so for Qwen3-0.6B
with 7 workers and 3 roles it is 9 × 1024 + 10 × 1024 = 19,456 numbers, and a released
vector loads unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

VECTOR_DTYPE = np.float32
# pycma's solutions are float64 and the released vector was written from them; both load.
ACCEPTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
SAFETENSORS_KEY = "trinity_router_es_vector"  # the key of the port's .safetensors release


class VectorError(ValueError):
    """A parameter vector that does not fit the layout (length, dtype, values)."""


@dataclass(frozen=True)
class VectorLayout:
    n_svf: int
    hidden_size: int
    n_agents: int
    n_roles: int

    @property
    def head_rows(self) -> int:
        return self.n_agents + self.n_roles

    @property
    def head_size(self) -> int:
        return self.head_rows * self.hidden_size

    @property
    def size(self) -> int:
        return self.n_svf + self.head_size

    def pack(self, svf_offsets: np.ndarray, head: np.ndarray) -> np.ndarray:
        """[svf_offsets, head.ravel()] as one float32 vector."""
        svf_offsets = np.asarray(svf_offsets)
        head = np.asarray(head)
        if svf_offsets.shape != (self.n_svf,):
            raise VectorError(f"SVF offsets: expected shape ({self.n_svf},), got {svf_offsets.shape}")
        if head.shape != (self.head_rows, self.hidden_size):
            raise VectorError(f"head: expected shape ({self.head_rows}, {self.hidden_size}), got {head.shape}")
        return np.concatenate([svf_offsets.ravel(), head.ravel()]).astype(VECTOR_DTYPE)

    def unpack(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(svf_offsets [n_svf], head [n_agents + n_roles, hidden]) as float32 copies."""
        vector = self.check(vector).astype(VECTOR_DTYPE)
        return vector[: self.n_svf].copy(), vector[self.n_svf:].reshape(self.head_rows, self.hidden_size).copy()

    def check(self, vector: np.ndarray) -> np.ndarray:
        """The vector itself if it fits this layout; otherwise a VectorError saying expected vs got."""
        if not isinstance(vector, np.ndarray):
            raise VectorError(f"parameter vector: expected a numpy array, got {type(vector).__name__}")
        if vector.dtype not in ACCEPTED_DTYPES:
            raise VectorError(f"parameter vector: expected dtype float32 (or float64), got {vector.dtype}")
        if vector.shape != (self.size,):
            raise VectorError(
                f"parameter vector: expected length {self.size} = {self.n_svf} SVF offsets + "
                f"{self.head_rows} × {self.hidden_size} head, got shape {vector.shape}"
            )
        if not np.all(np.isfinite(vector)):
            raise VectorError("parameter vector: contains NaN or infinite values")
        return vector


def save_vector(path: str | Path, vector: np.ndarray, layout: VectorLayout) -> Path:
    """Write a checked vector as float32 ``.npy`` in the reference layout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, layout.check(np.asarray(vector)).astype(VECTOR_DTYPE), allow_pickle=False)
    return path


def load_vector(path: str | Path, layout: VectorLayout) -> np.ndarray:
    """Read a ``.npy`` (or the port's ``.safetensors``) vector, check it against ``layout``, float32."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no parameter vector at {path}")
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        tensors = load_file(str(path))
        if SAFETENSORS_KEY not in tensors:
            raise VectorError(f"{path}: no tensor {SAFETENSORS_KEY!r} (has {sorted(tensors)})")
        vector = tensors[SAFETENSORS_KEY].reshape(-1)
    else:
        try:
            vector = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise VectorError(f"{path}: not a numpy .npy array: {exc}") from exc
    try:
        return layout.check(vector).astype(VECTOR_DTYPE)
    except VectorError as exc:
        raise VectorError(f"{path}: {exc}") from exc

