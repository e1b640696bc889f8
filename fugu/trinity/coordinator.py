"""TRINITY: a small causal LM reads the conversation; a bias-free linear head picks the worker.

    text   = format(conversation)                      # transcript or chat template
    H      = backbone_SVF(z)(text)[:, penultimate, :]  # final-layer hidden state, [batch, hidden]
    logits = H @ Wᵀ                                    # W: [n_agents + n_roles, hidden], no bias
    worker = argmax(logits[:, :n_agents]);  role = argmax(logits[:, n_agents:])

The backbone never answers. Its only trainable numbers are the SVF offsets z
(:mod:`fugu.trinity.svf`) and the head W: one flat vector (:mod:`fugu.trinity.vector`),
optimised gradient-free with sep-CMA-ES.

Prompt format: the public reconstruction (OpenFugu ``mini.py``) found that the released
vector routes its fixture at 95% on a plain ``"role: content"`` transcript joined by
newlines and at 11% through the chat template, so ``"transcript"`` is the reference format;
``"chat_template"`` uses the tokenizer's template (falling back to the transcript when the
tokenizer has none).

Speed: reading states is the cost of every profile (one forward pass per
conversation, and again for every SVF candidate). :meth:`Trinity.token_states` tokenizes
everything once, sorts by length and batches only rows of similar length (``pad_tolerance``:
a batch may hold at most that fraction of padding; on a 2-core CPU, padding is pure loss and
batch 1 is often fastest: see ``benchmarks/trinity_features.py``), then puts each row back in
input order. ``max_prompt_tokens`` caps the prompt keeping its END (left truncation), as the
reference caps its context at 4,096 tokens: the penultimate token, the one read, is always kept.
Both the penultimate and the last token's states come from the same pass, for the paper's
penultimate-vs-last ablation (Table 2). With ``prefix_cache_mb`` > 0 a conversation read alone
(a batch of one, as the server reads each request) reuses the keys and values of the longest
prompt prefix read before (:mod:`fugu.trinity.prefix_cache`): a growing multi-turn exchange
then costs its new tokens, not its whole length, at every turn.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from transformers import DynamicCache

from fugu.models.backbone import Backbone, text_tail
from fugu.routing.base import mask_unavailable
from fugu.trinity.prefix_cache import PrefixCache
from fugu.trinity.svf import SVFAdapter, svf_offset_count, svf_target_keys
from fugu.trinity.vector import VectorError, VectorLayout
from fugu.types import Conversation

PROMPT_FORMATS = ("transcript", "chat_template")
POSITIONS = ("penultimate", "last")
# A batch may hold at most this much padding per real token: a quarter keeps most batches full
# without spending much of a forward pass on pad tokens (on 2 CPU cores padding is pure loss).
DEFAULT_PAD_TOLERANCE = 0.25


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
        max_prompt_tokens: int | None = None,
        pad_tolerance: float = DEFAULT_PAD_TOLERANCE,
        tied_embeddings: str = "lm_head",
        prefix_cache_mb: float = 0.0,
    ):
        self.model, self.tokenizer = backbone
        self.workers, self.roles = list(workers), list(roles)
        # which reading of a tied embedding/lm_head pair the vector is applied under (fugu.trinity.svf)
        self.svf = SVFAdapter(self.model, svf_target_keys(self.model, svf_layers), tied=tied_embeddings)
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
        if max_prompt_tokens is not None and max_prompt_tokens < 2:
            raise ValueError(f"max_prompt_tokens must be at least 2 (the penultimate token is read), got {max_prompt_tokens}")
        self.max_prompt_tokens = max_prompt_tokens
        self.pad_tolerance = float(pad_tolerance)
        self.device = next(self.model.parameters()).device
        self.set_prefix_cache(prefix_cache_mb)
        self.baked_offsets: np.ndarray | None = None  # set by quantise_int8: the offsets are then fixed

    def set_prefix_cache(self, megabytes: float) -> None:
        """Reuse read prefixes' keys/values for lone conversations, within ``megabytes`` (0 = off)."""
        if megabytes < 0:
            raise ValueError(f"the prefix cache budget must be >= 0 MB (0 = off), got {megabytes}")
        self.prefix_cache = PrefixCache(int(megabytes * 2**20)) if megabytes else None

    def quantise_int8(self, svf_offsets: np.ndarray | None = None) -> None:
        """Write ``svf_offsets`` (None: z = 0), then quantise every Linear layer to int8 (dynamic).

        A speed lever for serving a fixed vector (``benchmarks/trinity_levers.py`` measures its
        speed-up and decision agreement): a quantised Linear holds packed weights that SVF cannot
        adapt, so the offsets are baked in and any other offsets are refused from then on."""
        from torch.ao.quantization import quantize_dynamic

        offsets = np.zeros(self.svf.n_offsets, np.float32) if svf_offsets is None else np.asarray(svf_offsets, np.float32)
        self.svf.apply(offsets)
        with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao, and still shipped
            warnings.simplefilter("ignore")
            self.model = quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8, inplace=False)
        self.baked_offsets = offsets.copy()

    def cast(self, dtype: torch.dtype, svf_offsets: np.ndarray | None = None) -> None:
        """Write ``svf_offsets`` (None: z = 0) in fp32, then hold the backbone in ``dtype`` (bf16 for
        serving on CPUs with native bf16, ``fugu.models.precision``). The offsets are composed
        from fp32 factors and baked in, as for int8: other offsets are refused from then on."""
        if dtype == torch.float32:
            return
        offsets = np.zeros(self.svf.n_offsets, np.float32) if svf_offsets is None else np.asarray(svf_offsets, np.float32)
        self.svf.apply(offsets)
        self.model.to(dtype)
        self.baked_offsets = offsets.copy()

    @classmethod
    def build(cls, backbone: Backbone, workers: Sequence[str], roles: Sequence[str],
              svf_layers: Sequence[int] | None, **options) -> "Trinity":
        """A coordinator whose layout is the one the backbone implies."""
        layout = layout_for(backbone.model, len(workers), len(roles), svf_layers)
        return cls(backbone, layout, workers, roles, svf_layers, **options)

    def hidden_states(self, conversations: Sequence[Conversation], svf_offsets: np.ndarray | None = None,
                      batch_size: int | None = None, *, max_tokens: int | None = None,
                      with_last: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """[batch, hidden] float32: the final-layer state at each conversation's penultimate token.

        ``svf_offsets=None`` means z = 0 (the base model). Position ids count real tokens
        only, so a padded row sees the positions it would see alone. ``max_tokens`` overrides
        the coordinator's ``max_prompt_tokens`` cap (only the *last* N tokens are read).
        ``with_last`` also returns the state at the last token, from the same pass: (penultimate, last).
        """
        positions = ("penultimate", "last") if with_last else ("penultimate",)
        states = self.token_states(conversations, svf_offsets, positions, batch_size, max_tokens=max_tokens)
        return (states["penultimate"], states["last"]) if with_last else states["penultimate"]

    def prompt_ids(self, conversations: Sequence[Conversation],
                   max_tokens: int | None = None) -> tuple[list[list[int]], int]:
        """(token ids per conversation, capped keeping the end; how many were cut).

        The cap is ``max_tokens`` or else ``max_prompt_tokens``. A capped text is first cut to its
        end that holds its last ``cap`` tokens (``text_tail``), so tokenising a 1 MB prompt costs what a
        short one does (the server's bound against a wedging request)."""
        cap = max_tokens or self.max_prompt_tokens
        if cap is not None and cap < 2:
            raise ValueError(f"the prompt cap must be at least 2 tokens (the penultimate is read), got {cap}")
        texts = [format_conversation(c, self.tokenizer, self.prompt_format) for c in conversations]
        if cap:
            texts = [text_tail(text, cap) for text in texts]
        ids = self.tokenizer(texts, add_special_tokens=True)["input_ids"] if texts else []
        n_cut = sum(len(row) > cap for row in ids) if cap else 0
        if cap:
            ids = [row[-cap:] for row in ids]
        short = [i for i, row in enumerate(ids) if len(row) < 2]
        if short:
            raise ValueError(f"conversations {short[:5]} have fewer than two tokens (the penultimate is read)")
        return ids, n_cut

    def batches(self, lengths: Sequence[int], batch_size: int) -> list[list[int]]:
        """Row indices grouped shortest first; a batch grows while its padding stays within ``pad_tolerance``."""
        order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
        groups: list[list[int]] = []
        for i in order:
            group = groups[-1] if groups else None
            if group is not None and len(group) < batch_size:
                longest = lengths[i]  # sorted: the newcomer is the longest
                real = sum(lengths[j] for j in group) + lengths[i]
                if longest * (len(group) + 1) <= (1.0 + self.pad_tolerance) * real:
                    group.append(i)
                    continue
            groups.append([i])
        return groups

    @torch.no_grad()
    def token_states(self, conversations: Sequence[Conversation], svf_offsets: np.ndarray | None = None,
                     positions: Sequence[str] = ("penultimate",), batch_size: int | None = None, *,
                     max_tokens: int | None = None) -> dict[str, np.ndarray]:
        """{position: [batch, hidden] float32} for each of ``positions`` ("penultimate", "last"), one pass.

        Rows come back in input order whatever order they were computed in.
        """
        bad = [p for p in positions if p not in POSITIONS]
        if bad:
            raise ValueError(f"positions must be among {POSITIONS}, got {bad}")
        offsets = np.zeros(self.svf.n_offsets, np.float32) if svf_offsets is None else svf_offsets
        if self.baked_offsets is None:
            self.svf.apply(offsets)
        elif not np.array_equal(np.asarray(offsets, np.float32), self.baked_offsets):
            raise ValueError("this coordinator's SVF offsets are baked in (int8 or bf16 serving); other offsets "
                             "need the fp32 backbone")
        ids, _ = self.prompt_ids(conversations, max_tokens)
        out = {p: np.empty((len(ids), self.layout.hidden_size), dtype=np.float32) for p in positions}
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        for group in self.batches([len(r) for r in ids], batch_size or self.batch_size):
            if self.prefix_cache is not None and len(group) == 1:
                pair = self._states_reusing_prefix(ids[group[0]])  # [2, hidden]: penultimate, last
                for p in positions:
                    out[p][group[0]] = pair[0 if p == "penultimate" else 1]
                continue
            width = max(len(ids[i]) for i in group)
            input_ids = torch.full((len(group), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(group), width), dtype=torch.long)
            for row, i in enumerate(group):
                n = len(ids[i])
                cols = slice(width - n, width) if self.padding_side == "left" else slice(0, n)
                input_ids[row, cols] = torch.tensor(ids[i])
                mask[row, cols] = 1
            input_ids, mask = input_ids.to(self.device), mask.to(self.device)
            position_ids = (mask.cumsum(dim=1) - 1).clamp(min=0)
            states = self.model.base_model(input_ids=input_ids, attention_mask=mask,
                                           position_ids=position_ids).last_hidden_state  # [b, seq, hidden]
            rows = torch.arange(states.shape[0], device=self.device)
            penultimate = penultimate_index(mask)
            for p in positions:
                at = penultimate if p == "penultimate" else penultimate + 1
                out[p][group] = states[rows, at].float().cpu().numpy()
        return out

    def _states_reusing_prefix(self, ids: list[int]) -> np.ndarray:
        """[2, hidden]: final-layer states at the penultimate and last token of one unpadded prompt,
        computed over the tokens after the longest cached prefix; the prompt's states are cached."""
        cache, revision = self.prefix_cache, self.svf.revision
        row = np.asarray(ids, dtype=np.int64)
        m, past = cache.lookup(row, revision)
        new = torch.from_numpy(row[m:])[None].to(self.device)                      # [1, n - m]
        output = self.model.base_model(
            input_ids=new, attention_mask=torch.ones((1, len(row)), dtype=torch.long, device=self.device),
            position_ids=torch.arange(m, len(row), device=self.device)[None],
            cache=DynamicCache(ddp_cache_data=past, config=self.model.config) if past else None,
            use_cache=True)
        cache.store(row, tuple((layer.keys, layer.values) for layer in output.cache.layers), revision)
        return output.last_hidden_state[0, -2:].float().cpu().numpy()               # [2, hidden]

    def scores(self, conversations: Sequence[Conversation], vector: np.ndarray,
               max_tokens: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(agent_scores [batch, n_agents], role_scores [batch, n_roles]) under ``vector``."""
        svf_offsets, head = self.layout.unpack(vector)
        logits = self.hidden_states(conversations, svf_offsets, max_tokens=max_tokens) @ head.T  # [batch, n_agents + n_roles]
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

