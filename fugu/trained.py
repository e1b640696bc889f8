"""A trained coordinator on disk: the vector (reference layout) plus the manifest that gives it meaning.

A vector alone is a list of numbers: which worker each head row scores, which roles follow,
which matrices the SVF offsets adapt and how prompts were formatted all live beside it in
``vector.json``. Whoever serves or evaluates the vector rebuilds the exact coordinator from
these two files and the backbone — nothing is re-derived from params that may have changed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from fugu.backbone import Backbone
from fugu.routers import Conversation
from fugu.trinity import Trinity, VectorLayout, load_vector, save_vector

VECTOR_FILE = "vector.npy"
MANIFEST_FILE = "vector.json"


@dataclass(frozen=True)
class Manifest:
    workers: list[str]
    roles: list[str]
    svf_layers: list[int] | None
    prompt_format: str
    data: str          # what it was trained on, in words
    mock: bool         # trained on the simulated pool (a mock), not on recorded real outcomes


def save_trained(out_dir: Path, vector: np.ndarray, layout: VectorLayout, manifest: Manifest) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_vector(out_dir / VECTOR_FILE, vector, layout)
    (out_dir / MANIFEST_FILE).write_text(json.dumps({**asdict(manifest), "layout": asdict(layout)}, indent=2) + "\n")
    return out_dir


def load_trained(out_dir: Path, backbone: Backbone, **options) -> tuple[Trinity, np.ndarray, Manifest]:
    """Rebuild the coordinator a trained vector belongs to; a mismatch with the backbone is an error."""
    out_dir = Path(out_dir)
    manifest_path = out_dir / MANIFEST_FILE
    if not manifest_path.exists():
        raise FileNotFoundError(f"{manifest_path} is missing: run `dvc repro train_trinity` to train a vector")
    raw = json.loads(manifest_path.read_text())
    layout = VectorLayout(**raw.pop("layout"))
    manifest = Manifest(**raw)
    trinity = Trinity(backbone, layout, manifest.workers, manifest.roles, manifest.svf_layers,
                      prompt_format=manifest.prompt_format, **options)
    return trinity, load_vector(out_dir / VECTOR_FILE, layout), manifest


class TrinityRouter:
    """A trained coordinator behind the Router interface, scoring a pool's workers in the pool's order.

    The vector's head rows follow the manifest's worker order; a pool may list the same workers
    in another order, so scores are re-indexed by name. A pool worker the vector has no row for
    cannot be scored: that is an error at start-up, not a silent zero.
    """

    name = "trinity"

    def __init__(self, trinity: Trinity, vector: np.ndarray, workers: list[str]):
        unknown = [w for w in workers if w not in trinity.workers]
        if unknown:
            raise ValueError(f"the trained vector has no head row for workers {unknown}; it scores {trinity.workers}")
        self.trinity, self.vector = trinity, vector
        self._order = [trinity.workers.index(w) for w in workers]
        # SVF offsets are written into the shared model's weights before each pass: one at a time.
        self._lock = threading.Lock()

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        with self._lock:
            agent_scores, _ = self.trinity.scores(conversations, self.vector)
        return agent_scores[:, self._order]
