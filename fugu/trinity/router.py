"""The trained TRINITY coordinator behind the Router interface (what ``fugu serve`` routes with).

The vector's head rows follow the spec's worker order; a pool may list the same workers in
another order, so scores are re-indexed by name. A pool worker the vector has no row for
cannot be scored: that is an error at start-up, not a silent zero. Every request re-scores the
conversation, so in a multi-turn exchange the choice is made again at every turn with the
earlier replies in context (the per-step coordinator); the keys and values of the prefix read
at the last turn are reused (``prefix_cache_mb``), so a turn costs its new tokens.

Serving bounds: the backbone reads at most ``max_tokens`` tokens, the *end* of the
conversation (by default the spec's ``max_prompt_tokens``, the cap it was trained with; the
reference caps the coordinator's context at 4,096 tokens; the head reads the penultimate token,
so the end is what matters). A 1 MB prompt then costs what a ``max_tokens``-token one does. The SVF offsets are written into the backbone once, here, so a forward pass only
reads weights and concurrent requests need no lock (the server bounds how many run at once,
long prompts apart from short ones, and gives each a deadline; see ``fugu.serving.admission``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from fugu.routing.features import Featurizer
from fugu.types import Conversation

if TYPE_CHECKING:  # the CLI reads DEFAULT_MAX_TOKENS for its --help without importing torch
    import torch

    from fugu.trinity.coordinator import Trinity

DEFAULT_MAX_TOKENS = 4096  # the reference coordinator's context cap
# Keys/values of read prompts kept for the next turn (fugu.trinity.prefix_cache): a few long
# conversations of SmolLM2-135M (46 KB per token), or ~1,100 tokens of Qwen3-0.6B (229 KB).
DEFAULT_PREFIX_CACHE_MB = 256


class TrinityRouter:
    name = "trinity"

    def __init__(self, trinity: "Trinity", vector: np.ndarray, workers: Sequence[str],
                 max_tokens: int | None = None, featurizer: Featurizer | None = None, name: str = "trinity",
                 prefix_cache_mb: float | None = None, dtype: "torch.dtype | None" = None):
        """``featurizer`` (e.g. cached features, :class:`fugu.trinity.features.FeatureTable`) replaces
        the backbone pass; it must give the base model's states read under the same token window, so
        the vector's SVF offsets must be zero (a head-only vector): eval scores exactly what the server would.
        ``prefix_cache_mb`` sets the coordinator's prefix cache (None: leave it as built). ``dtype``
        (None: as loaded, fp32) is the backbone's serving precision (``fugu.models.precision``)."""
        unknown = [w for w in workers if w not in trinity.workers]
        if unknown:
            raise ValueError(f"the trained vector has no head row for workers {unknown}; it scores {trinity.workers}")
        # The cap the coordinator was trained and evaluated with, unless the caller sets another.
        max_tokens = max_tokens or trinity.max_prompt_tokens or DEFAULT_MAX_TOKENS
        if max_tokens < 2:
            raise ValueError(f"max_tokens must be at least 2 (the penultimate token is read), got {max_tokens}")
        svf_offsets, _ = trinity.layout.unpack(vector)
        if featurizer is not None and dtype is not None:
            raise ValueError("cached features are fp32 states: a serving dtype applies to backbone passes only")
        if featurizer is not None and np.any(svf_offsets):
            raise ValueError("cached features are the base model's states; this vector has non-zero SVF offsets, "
                             "so it must be scored through the backbone (no featurizer)")
        self.trinity, self.vector, self.max_tokens = trinity, vector, max_tokens
        self.name, self._featurizer = name, featurizer
        self._order = [trinity.workers.index(w) for w in workers]
        # Write W(z) now: later passes find the same offsets applied (a no-op) and only read weights;
        # a serving dtype holds the backbone in it with W(z) baked in.
        trinity.svf.apply(svf_offsets)
        if dtype is not None:
            trinity.cast(dtype, svf_offsets)
        if prefix_cache_mb is not None:
            trinity.set_prefix_cache(prefix_cache_mb)

    def prompt_tokens(self, conversation: Conversation) -> int:
        """How many tokens a pass over ``conversation`` reads (at most ``max_tokens``): what it costs.
        The server's admission weighs a request by it (``fugu.serving.admission.BoundedRouter``)."""
        ids, _ = self.trinity.prompt_ids([conversation], self.max_tokens)
        return len(ids[0])

    def scores(self, conversations: Sequence[Conversation]) -> np.ndarray:
        if self._featurizer is not None:
            _, head = self.trinity.layout.unpack(self.vector)
            agent_scores = np.asarray(self._featurizer(conversations)) @ head[: self.trinity.layout.n_agents].T
        else:
            agent_scores, _ = self.trinity.scores(conversations, self.vector, max_tokens=self.max_tokens)
        return agent_scores[:, self._order]
