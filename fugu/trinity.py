"""TRINITY: a small causal LM reads the conversation; a bias-free linear head picks the worker.

    text   = format(conversation)                      # transcript or chat template
    H      = backbone_SVF(z)(text)[:, penultimate, :]  # final-layer hidden state, [batch, hidden]
    logits = H @ Wᵀ                                    # W: [n_agents + n_roles, hidden], no bias
    worker = argmax(logits[:, :n_agents]);  role = argmax(logits[:, n_agents:])

The backbone never answers. Its only trainable numbers are the SVF offsets z
(:mod:`fugu.svf`) and the head W: one flat vector, optimised gradient-free with sep-CMA-ES.

Parameter vector layout (the reference's, so the released vector loads unchanged):
``[svf_offsets (n_svf), head (n_agents + n_roles) × hidden, row-major, agent rows first]``.
SVF offsets come FIRST, in ``state_dict`` order of the target matrices, then the head. This
is what Sakana's ``ParameterApplier.apply_params_to_model`` consumes and what the public
port nshkrdotcom/trinity_coordinator splits (``split_router_vector(vector, 9216, 1024, 10)``
→ offsets ``vector[:9216]``, head ``vector[9216:].reshape(10, 1024)``), so for Qwen3-0.6B
with 7 workers and 3 roles it is 9 × 1024 + 10 × 1024 = 19,456 numbers. The issue text says
"[head, SVF]"; we follow the reference instead (see README, "TRINITY").

Prompt format: the public reconstruction (OpenFugu ``mini.py``) found that the released
vector routes its fixture at 95% on a plain ``"role: content"`` transcript joined by
newlines and at 11% through the chat template, so ``"transcript"`` is the reference format;
``"chat_template"`` uses the tokenizer's template (falling back to the transcript when the
tokenizer has none).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from fugu.backbone import Backbone, load_backbone
from fugu.pools.base import Message
from fugu.routers import mask_unavailable
from fugu.svf import SVFAdapter, svf_offset_count, svf_target_keys

Conversation = list[Message]
VECTOR_DTYPE = np.float32
# pycma's solutions are float64 and the released vector was written from them; both load.
ACCEPTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
SAFETENSORS_KEY = "trinity_router_es_vector"  # the key of the port's .safetensors release
PROMPT_FORMATS = ("transcript", "chat_template")


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


def population_scores(hidden: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """Scores of every candidate head on every row: [pop, batch, n_out].

    With SVF frozen the hidden states do not depend on the candidate, so CMA-ES can score a
    whole population with one matmul over hidden states computed once.
    """
    hidden = np.asarray(hidden, dtype=np.float32)  # [batch, hidden]
    heads = np.asarray(heads, dtype=np.float32)  # [pop, n_out, hidden]
    return np.einsum("bh,poh->pbo", hidden, heads)


def layout_for(model: torch.nn.Module | Backbone, n_agents: int, n_roles: int,
               svf_layers: Sequence[int] | None) -> VectorLayout:
    """The layout a model (or loaded backbone) implies: shapes only, so a meta-device model will do."""
    if isinstance(model, Backbone):
        model = model.model
    keys = svf_target_keys(model, svf_layers)
    return VectorLayout(svf_offset_count(model, keys), int(model.config.hidden_size), n_agents, n_roles)


def format_conversation(conversation: Conversation, tokenizer, prompt_format: str = "transcript") -> str:
    """The text the backbone reads (see the module docstring for the two formats)."""
    if prompt_format not in PROMPT_FORMATS:
        raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
    messages = [{"role": m["role"], "content": m["content"]} for m in conversation]
    if prompt_format == "chat_template" and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages)


def penultimate_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Per row, the position of the second-to-last real token, whichever side the padding is on."""
    seq_len = attention_mask.shape[1]
    positions = torch.arange(seq_len, device=attention_mask.device).expand_as(attention_mask)
    last = torch.where(attention_mask.bool(), positions, -1).max(dim=1).values
    if bool((attention_mask.sum(dim=1) < 2).any()):
        raise ValueError("every conversation needs at least two tokens (the penultimate is read)")
    return last - 1


@dataclass(frozen=True)
class Decision:
    worker: str
    role: str
    agent_scores: dict[str, float]  # every worker, in pool order; unavailable ones are -inf
    role_scores: dict[str, float]


class Trinity:
    """The coordinator over a loaded backbone; see the module docstring for the math."""

    def __init__(
        self,
        backbone: Backbone,
        layout: VectorLayout,
        workers: Sequence[str],
        roles: Sequence[str],
        svf_layers: Sequence[int] | None,
        *,
        prompt_format: str = "transcript",
        padding_side: str = "left",
        batch_size: int = 16,
    ):
        self.model, self.tokenizer = backbone
        self.workers, self.roles = list(workers), list(roles)
        self.svf = SVFAdapter(self.model, svf_target_keys(self.model, svf_layers))
        implied = VectorLayout(self.svf.n_offsets, int(self.model.config.hidden_size), len(self.workers), len(self.roles))
        if layout != implied:
            raise VectorError(f"layout {layout} does not match the backbone, workers and roles: {implied}")
        if padding_side not in ("left", "right"):
            raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
        if prompt_format not in PROMPT_FORMATS:
            raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
        self.layout = layout
        self.prompt_format = prompt_format
        self.padding_side = padding_side
        self.batch_size = batch_size
        self.device = next(self.model.parameters()).device

    @classmethod
    def build(cls, backbone: Backbone, workers: Sequence[str], roles: Sequence[str],
              svf_layers: Sequence[int] | None, **options) -> "Trinity":
        """A coordinator whose layout is the one the backbone implies."""
        layout = layout_for(backbone.model, len(workers), len(roles), svf_layers)
        return cls(backbone, layout, workers, roles, svf_layers, **options)

    @torch.no_grad()
    def hidden_states(self, conversations: Sequence[Conversation], svf_offsets: np.ndarray | None = None,
                      batch_size: int | None = None) -> np.ndarray:
        """[batch, hidden] float32: the final-layer state at each conversation's penultimate token.

        ``svf_offsets=None`` means z = 0 (the base model). Position ids count real tokens
        only, so a padded row sees the positions it would see alone.
        """
        self.svf.apply(np.zeros(self.svf.n_offsets, np.float32) if svf_offsets is None else svf_offsets)
        texts = [format_conversation(c, self.tokenizer, self.prompt_format) for c in conversations]
        step = batch_size or self.batch_size
        out = np.empty((len(texts), self.layout.hidden_size), dtype=np.float32)
        for start in range(0, len(texts), step):
            batch = self.tokenizer(texts[start:start + step], return_tensors="pt", padding=True,
                                   padding_side=self.padding_side).to(self.device)
            mask = batch["attention_mask"]
            position_ids = (mask.cumsum(dim=1) - 1).clamp(min=0)
            states = self.model.base_model(input_ids=batch["input_ids"], attention_mask=mask,
                                      position_ids=position_ids).last_hidden_state  # [b, seq, hidden]
            rows = torch.arange(states.shape[0], device=self.device)
            out[start:start + len(mask)] = states[rows, penultimate_index(mask)].float().cpu().numpy()
        return out

    def scores(self, conversations: Sequence[Conversation], vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(agent_scores [batch, n_agents], role_scores [batch, n_roles]) under ``vector``."""
        svf_offsets, head = self.layout.unpack(vector)
        logits = self.hidden_states(conversations, svf_offsets) @ head.T  # [batch, n_agents + n_roles]
        return logits[:, : self.layout.n_agents], logits[:, self.layout.n_agents:]

    def decide(self, conversations: Sequence[Conversation], vector: np.ndarray,
               available: np.ndarray | None = None) -> list[Decision]:
        """The chosen worker and role per conversation; ``available`` masks workers out."""
        agent_scores, role_scores = self.scores(conversations, vector)
        agent_scores = mask_unavailable(agent_scores, available)
        decisions = []
        for agents, roles in zip(agent_scores, role_scores):
            decisions.append(Decision(
                worker=self.workers[int(np.argmax(agents))],
                role=self.roles[int(np.argmax(roles))],
                agent_scores={w: float(s) for w, s in zip(self.workers, agents)},
                role_scores={r: float(s) for r, s in zip(self.roles, roles)},
            ))
        return decisions


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
                             padding_side=self.padding_side, batch_size=self.batch_size)

    @classmethod
    def load(cls, path: str | Path) -> "TrinitySpec":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no coordinator spec at {path}: run `dvc repro` (self_test writes "
                                    "artifacts/self_test/trinity.json, train_trinity artifacts/train_trinity/"
                                    "trinity.json), or pass --spec")
        return cls(**json.loads(path.read_text()))


def load_trinity(spec: TrinitySpec, root: str | Path = ".") -> tuple[Trinity, np.ndarray]:
    """The coordinator and its checked vector, from a spec whose paths are relative to ``root``."""
    root = Path(root)
    trinity = spec.build(load_backbone(root / spec.backbone_dir))
    return trinity, load_vector(root / spec.vector, trinity.layout)
