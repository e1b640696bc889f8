"""A bounded LRU of the backbone's key/value states per token prefix: per-step turns in O(new tokens).

The per-step coordinator re-scores the whole conversation at every turn, and turn k + 1's
prompt begins with turn k's (the transcript only grows at its end). Re-reading the shared
prefix is the waste: its keys and values per layer do not depend on what follows (causal
attention). So a forward pass stores them, keyed by its token ids, and the next pass over a
prompt that starts with those ids runs only on the new tokens:

    ids     = t_0 … t_{m-1} | t_m … t_{n-1}     # m shared with a cached prompt, at least 2 new
    past    = cache[t_0 … t_{m-1}]              # [layers] × (keys, values) [1, kv_heads, m, head_dim]
    states  = model(t_m … t_{n-1}, positions m … n-1, past)   # [1, n - m, hidden]

Matching is on token ids, not text, so a tokenizer that merges across the old end simply
shares fewer tokens. At least the last two tokens are always recomputed: the head reads the
penultimate (and the ablation the last) final-layer state, which the cache does not hold.
Entries are tensors no later pass mutates (a cache update concatenates into new tensors), so
one entry can seed concurrent passes; the lock guards only the dictionary, never a forward.
An entry belongs to the weights it was computed under: :meth:`PrefixCache.lookup` ignores
entries of another ``weights_revision`` (the SVF adapter's count of weight writes).

Bounded by bytes (``max_bytes``): a 4,096-token SmolLM2-135M entry holds 189 MB of fp32
keys and values (30 layers × 2 × 3 heads × 64 × 4 bytes per token); least recently used
entries go first, and a prompt larger than the whole budget is not stored.

**Bytes are real bytes.** An entry is counted by the storage its tensors hold (each storage
once), not by their shapes: a view or slice would keep its whole base alive. And an entry is
copied into one anonymous memory map of its own (``packed``) rather than kept as the forward's
60 tensors: those come from malloc's arenas, where a long-lived tensor pins the pages around it
and a freed one rarely goes back to the OS. Measured (SmolLM2-135M, 256-token prompts, 50
distinct prompts, a 256 MiB cap holding 247.5 MiB): RSS grew 372 MiB with the forward's tensors
kept, 268 MiB with each entry one malloc'd block, 239 MiB with each entry its own map (39 MiB
with the cache off). An evicted entry's map is unmapped once no pass still reads it, so the
cache's memory is its count. What the caching pass itself leaves behind (the forward's 60 key
and value tensors, freed once packed) stays in malloc's arenas; so each store then asks glibc to
hand free pages back (``malloc_trim``): in the server (``benchmarks/serve_memory.py``, 120
prompts) RSS grew 260 MiB at the 256 MiB cap with it, 335 MiB without.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import mmap
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

LayerStates = tuple[tuple[torch.Tensor, torch.Tensor], ...]  # per layer: (keys, values) [1, heads, seq, dim]


@dataclass(frozen=True)
class CachedPrefix:
    ids: np.ndarray            # [seq] int64: the tokens the states are of
    layers: LayerStates
    weights_revision: int
    nbytes: int


def storage_bytes(layers: LayerStates) -> int:
    """The bytes ``layers``' tensors keep alive: each underlying storage once, whole."""
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for pair in layers for t in pair}
    return sum(storages.values())


def packed(layers: LayerStates) -> LayerStates:
    """``layers`` copied into one anonymous memory map (CPU tensors; others are returned as they are)."""
    tensors = [t for pair in layers for t in pair]
    if not tensors or any(t.device.type != "cpu" or t.dtype != tensors[0].dtype for t in tensors):
        return layers
    count = sum(t.numel() for t in tensors)
    flat = torch.frombuffer(mmap.mmap(-1, count * tensors[0].element_size()), dtype=tensors[0].dtype, count=count)
    views, at = [], 0
    for t in tensors:
        views.append(flat[at:at + t.numel()].view(t.shape).copy_(t))
        at += t.numel()
    return tuple(zip(views[::2], views[1::2]))


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None


def release_free_memory() -> None:
    """Hand malloc's free pages back to the OS (under a millisecond here; nothing where glibc is absent)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def common_prefix_length(a: np.ndarray, b: np.ndarray) -> int:
    """How many leading tokens two id arrays share."""
    n = min(len(a), len(b))
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if differ.size else n


class PrefixCache:
    """LRU of per-prompt key/value states, at most ``max_bytes`` in all; thread-safe."""

    def __init__(self, max_bytes: int):
        if max_bytes < 0:
            raise ValueError(f"the prefix cache budget must be >= 0 bytes, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._entries: OrderedDict[tuple[int, ...], CachedPrefix] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = self.reused_tokens = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, ids: np.ndarray, weights_revision: int, keep_new: int = 2) -> tuple[int, LayerStates | None]:
        """(m, states of the first m tokens) for the longest cached prefix of ``ids`` under these
        weights, leaving at least ``keep_new`` tokens to compute; (0, None) when nothing useful is cached."""
        limit = len(ids) - keep_new
        best, best_key = 0, None
        with self._lock:
            for key, entry in self._entries.items():
                if entry.weights_revision != weights_revision:
                    continue
                shared = min(common_prefix_length(entry.ids, ids), limit)
                if shared > best:
                    best, best_key = shared, key
            if best_key is None:
                self.misses += 1
                return 0, None
            self._entries.move_to_end(best_key)
            entry = self._entries[best_key]
            self.hits += 1
            self.reused_tokens += best
        return best, tuple((k[:, :, :best], v[:, :, :best]) for k, v in entry.layers)

    def store(self, ids: np.ndarray, layers: LayerStates, weights_revision: int) -> None:
        """Keep the states of ``ids`` (packed into a map of their own); evict least recently used
        entries to stay within budget."""
        if sum(k.nbytes + v.nbytes for k, v in layers) > self.max_bytes:
            return
        layers = packed(layers)
        nbytes = storage_bytes(layers)
        if nbytes > self.max_bytes:
            return
        key = tuple(int(t) for t in ids)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            # an entry that is a prefix of the new one is now redundant: the new one serves it too
            for other in [k for k, e in self._entries.items() if len(k) < len(key) and key[:len(k)] == k
                          and e.weights_revision == weights_revision]:
                self._bytes -= self._entries.pop(other).nbytes
            self._entries[key] = CachedPrefix(np.asarray(ids, dtype=np.int64), layers, weights_revision, nbytes)
            self._bytes += nbytes
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes
        release_free_memory()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
