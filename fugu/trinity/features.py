"""The cached TRINITY features: the backbone's hidden states per question, computed once.

Contract of ``artifacts/features/`` (what train_trinity, eval and the baselines read):

- ``features.npz``: ``question_id`` (str [n]), ``penultimate`` and ``last`` (float32 [n, hidden]):
  the final-layer state at the penultimate and at the last prompt token, both from one
  forward pass of the base model (SVF offsets zero) over the prompt as the coordinator
  formats it;
- ``meta.json``: backbone dir, prompt format, token cap, n, and how many prompts the cap cut.

A router reads rows by question id (:meth:`FeatureTable.rows`) or, behind the Router interface,
through :meth:`FeatureTable.featurizer`, which maps a conversation's question text to its row.
Asking for a question the table lacks is an error naming it: a silent recompute would hide
that a held-out question was never featurised the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from tqdm import tqdm

from fugu.routing.base import question_text
from fugu.trinity.coordinator import Trinity
from fugu.types import Conversation

FEATURES_FILE = "features.npz"
META_FILE = "meta.json"
WHICH = ("penultimate", "last")


@dataclass(frozen=True)
class FeatureTable:
    question_ids: tuple[str, ...]
    arrays: Mapping[str, np.ndarray]  # name → [n, dim]
    meta: Mapping[str, Any]

    @classmethod
    def load(cls, directory: str | Path, file: str = FEATURES_FILE) -> "FeatureTable":
        directory = Path(directory)
        path = directory / file
        if not path.is_file():
            raise FileNotFoundError(f"no cached features at {path}: run `dvc repro features`")
        with np.load(path, allow_pickle=False) as data:
            ids = tuple(str(q) for q in data["question_id"])
            arrays = {k: np.asarray(data[k], dtype=np.float32) for k in data.files if k != "question_id"}
        meta_path = directory / META_FILE
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        if len(set(ids)) != len(ids):
            raise ValueError(f"{path}: question ids repeat")
        return cls(ids, arrays, meta)

    def rows(self, question_ids: Sequence[str], which: str = "penultimate") -> np.ndarray:
        """[len(question_ids), dim] in the order asked; KeyError naming the first missing id."""
        if which not in self.arrays:
            raise KeyError(f"no feature {which!r} in this table; it has {sorted(self.arrays)}")
        index = self._index()
        missing = [q for q in question_ids if q not in index]
        if missing:
            raise KeyError(f"{len(missing)} question ids have no cached features, e.g. {missing[:3]}")
        return self.arrays[which][[index[q] for q in question_ids]]

    def featurizer(self, text_to_id: Mapping[str, str], which: str = "penultimate") -> Callable[[Sequence[Conversation]], np.ndarray]:
        """A Featurizer (conversations → [batch, dim]) reading this table by question text."""
        def featurize(conversations: Sequence[Conversation]) -> np.ndarray:
            try:
                ids = [text_to_id[question_text(c)] for c in conversations]
            except KeyError as exc:
                raise KeyError(f"no cached features for question {str(exc.args[0])[:60]!r}") from None
            return self.rows(ids, which)
        return featurize

    def _index(self) -> dict[str, int]:
        return {q: i for i, q in enumerate(self.question_ids)}


def save_features(directory: str | Path, question_ids: Sequence[str], arrays: Mapping[str, np.ndarray],
                  meta: Mapping[str, Any] | None = None, file: str = FEATURES_FILE) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        if len(array) != len(question_ids):
            raise ValueError(f"{name}: {len(array)} rows for {len(question_ids)} question ids")
    np.savez(directory / file, question_id=np.asarray(list(question_ids), dtype=str),
             **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()})
    if meta is not None:
        (directory / META_FILE).write_text(json.dumps(dict(meta), indent=2, sort_keys=True) + "\n")
    return directory / file


def backbone_features(trinity: Trinity, conversations: Sequence[Conversation], max_tokens: int | None,
                      chunk: int | None = None, desc: str = "features") -> tuple[np.ndarray, np.ndarray, int]:
    """(penultimate [n, h], last [n, h], prompts cut by the cap): one base-model pass per question.

    The coordinator is driven in chunks so the bar moves (a forward pass per question is the cost: ~0.3–0.45 s on 2 cores at 135M).
    """
    step = chunk or trinity.batch_size
    _, cut = trinity.prompt_ids(conversations, max_tokens)
    penultimate = np.empty((len(conversations), trinity.layout.hidden_size), np.float32)
    last = np.empty_like(penultimate)
    with tqdm(total=len(conversations), desc=desc, unit="q") as bar:
        for start in range(0, len(conversations), step):
            part = list(conversations[start:start + step])
            p, l = trinity.hidden_states(part, None, max_tokens=max_tokens, with_last=True)
            penultimate[start:start + len(part)], last[start:start + len(part)] = p, l
            bar.update(len(part))
    return penultimate, last, int(cut)
