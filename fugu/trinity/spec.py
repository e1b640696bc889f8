"""The coordinator spec: everything needed to rebuild a TRINITY coordinator next to its vector."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from fugu.models.backbone import Backbone, load_backbone
from fugu.trinity.coordinator import DEFAULT_PAD_TOLERANCE, Trinity
from fugu.trinity.vector import load_vector


@dataclass(frozen=True)
class TrinitySpec:
    """Everything needed to rebuild a coordinator: written next to a vector, read by ``fugu route``.

    Paths are relative to the project root (the directory ``dvc repro`` runs in).
    """

    backbone_dir: str
    vector: str
    workers: list[str]
    roles: list[str]
    svf_layers: list[int] | None
    prompt_format: str = "transcript"
    padding_side: str = "left"
    batch_size: int = 16
    max_prompt_tokens: int | None = None  # cap keeping the end (the reference: 4,096)
    pad_tolerance: float = DEFAULT_PAD_TOLERANCE  # the most padding a batch may hold, per real token
    tied_embeddings: str = "lm_head"      # which write of a tied embed/lm_head pair counts (fugu.trinity.svf)
    trained_on: str = "unspecified"  # what produced the vector, in words (a planted, released or trained one)
    mock: bool = False               # trained on the simulated pool, never on real outcomes

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    def build(self, backbone: Backbone) -> Trinity:
        """The coordinator this spec describes, over an already-loaded backbone (no vector yet)."""
        return Trinity.build(backbone, self.workers, self.roles, self.svf_layers, prompt_format=self.prompt_format,
                             padding_side=self.padding_side, batch_size=self.batch_size,
                             max_prompt_tokens=self.max_prompt_tokens, pad_tolerance=self.pad_tolerance,
                             tied_embeddings=self.tied_embeddings)

    @classmethod
    def load(cls, path: str | Path) -> "TrinitySpec":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no coordinator spec at {path}: run `dvc repro` (self_test writes "
                                    "artifacts/self_test/trinity.json, train_trinity artifacts/train_trinity/"
                                    "trinity.json), or pass --spec")
        return cls(**json.loads(path.read_text()))


def load_trinity(spec: TrinitySpec, root: str | Path = ".", device: str = "cpu") -> tuple[Trinity, np.ndarray]:
    """The coordinator and its checked vector, from a spec whose paths are relative to ``root``."""
    root = Path(root)
    trinity = spec.build(load_backbone(root / spec.backbone_dir, device=device))
    return trinity, load_vector(root / spec.vector, trinity.layout)
