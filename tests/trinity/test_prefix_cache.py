"""KV-prefix reuse: every turn of a growing exchange scores as a full recompute does, reading fewer tokens."""

from pathlib import Path

import numpy as np
import pytest
import torch

from fugu.models.backbone import load_backbone
from fugu.trinity.coordinator import Trinity
from fugu.trinity.prefix_cache import PrefixCache, common_prefix_length

WORKERS = ["w0", "w1", "w2", "w3"]
ROLES = ["solver", "thinker", "verifier"]


def growing_exchange(turns: int):
    """Turn k's conversation: k user questions and k - 1 assistant replies (each turn extends the last)."""
    messages, out = [], []
    for k in range(turns):
        messages = messages + [{"role": "user", "content": f"Question {k}: what is {k} times {k + 3} plus seven?"}]
        out.append(list(messages))
        messages = messages + [{"role": "assistant", "content": f"It is {k * (k + 3) + 7}, computed step by step."}]
    return out


@pytest.fixture(scope="module")
def backbone(tiny_backbone_dir):
    return load_backbone(tiny_backbone_dir)


def test_every_turn_decides_and_scores_as_a_full_recompute(backbone):
    full = Trinity.build(backbone, WORKERS, ROLES, [0])
    vector = np.random.default_rng(0).normal(0, 0.3, full.layout.size).astype(np.float32)
    reusing = Trinity.build(backbone, WORKERS, ROLES, [0], prefix_cache_mb=64)
    for turn, conversation in enumerate(growing_exchange(6)):
        want, got = full.decide([conversation], vector)[0], reusing.decide([conversation], vector)[0]
        assert (got.worker, got.role) == (want.worker, want.role), f"turn {turn}"
        np.testing.assert_allclose(list(got.agent_scores.values()), list(want.agent_scores.values()), atol=1e-4)
        np.testing.assert_allclose(list(got.role_scores.values()), list(want.role_scores.values()), atol=1e-4)
        states = reusing.hidden_states([conversation], full.layout.unpack(vector)[0], with_last=True)
        np.testing.assert_allclose(states[1], full.hidden_states([conversation], full.layout.unpack(vector)[0],
                                                                 with_last=True)[1], atol=1e-4)
    cache = reusing.prefix_cache
    assert cache.hits >= 5 and cache.reused_tokens > 0  # turns 2..6 (and the repeats) started from a cached prefix
    assert len(cache) == 1  # each turn's entry replaced the shorter one it extends


def test_changed_svf_offsets_never_reuse_states_of_the_old_weights(backbone):
    trinity = Trinity.build(backbone, WORKERS, ROLES, [0], prefix_cache_mb=64)
    plain = Trinity.build(backbone, WORKERS, ROLES, [0])
    conversation = growing_exchange(2)[1]
    trinity.hidden_states([conversation])  # cached under z = 0
    z = np.random.default_rng(1).normal(0, 0.3, trinity.layout.n_svf).astype(np.float32)
    hits = trinity.prefix_cache.hits
    got = trinity.hidden_states([conversation], z)
    assert trinity.prefix_cache.hits == hits  # the entry of the old weights was not used
    np.testing.assert_allclose(got, plain.hidden_states([conversation], z), atol=1e-4)
    trinity.svf.restore()


def test_the_cache_stays_within_its_byte_budget_and_evicts_the_least_recently_used():
    def states(n):  # 2 layers, 1 head, n tokens, dim 4: 2 × 2 × n × 4 × 4 bytes
        return tuple((torch.zeros(1, 1, n, 4), torch.zeros(1, 1, n, 4)) for _ in range(2))

    cache = PrefixCache(max_bytes=3 * 2 * 2 * 10 * 4 * 4)  # room for 30 tokens
    a, b, c = (np.arange(10) + offset for offset in (0, 100, 200))
    for ids in (a, b, c):
        cache.store(ids, states(10), weights_revision=0)
    assert len(cache) == 3 and cache.nbytes == cache.max_bytes
    assert cache.lookup(np.concatenate([a, [7, 7]]), 0)[0] == 10  # a is now the most recently used
    cache.store(np.arange(300, 310), states(10), 0)                 # evicts b, the least recently used
    assert cache.lookup(np.concatenate([b, [7, 7]]), 0) == (0, None)
    assert cache.lookup(np.concatenate([a, [7, 7]]), 1) == (0, None)  # other weights: no reuse
    cache.store(np.arange(1000), states(1000), 0)                      # larger than the whole budget: not kept
    assert cache.nbytes <= cache.max_bytes and len(cache) == 3
    m, _ = cache.lookup(a[:5], 0)
    assert m == 3  # at least two tokens are always left to compute
    with pytest.raises(ValueError, match=">= 0"):
        PrefixCache(-1)


def test_common_prefix_length():
    assert common_prefix_length(np.array([1, 2, 3]), np.array([1, 2, 4, 5])) == 2
    assert common_prefix_length(np.array([1, 2]), np.array([1, 2, 3])) == 2
    assert common_prefix_length(np.array([9]), np.array([1])) == 0


def held_bytes(cache: PrefixCache) -> int:
    """The bytes every tensor the cache holds keeps alive, each storage counted once, computed here."""
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
                for entry in cache._entries.values() for pair in entry.layers for t in pair}
    return sum(storages.values())


def test_accounted_bytes_are_the_real_storage_bytes_and_never_exceed_the_cap():
    cache = PrefixCache(max_bytes=2 * 2 * 2 * 64 * 4 * 5)  # room for five 64-token entries
    rng = np.random.default_rng(0)
    for n in rng.integers(2, 64, size=40):
        base = torch.randn(1, 2, 4096, 4)  # a slice of it would keep all 4,096 tokens alive
        layers = tuple((base[:, :1, :n], base[:, 1:, :n].transpose(2, 3).transpose(2, 3)) for _ in range(2))
        cache.store(rng.integers(0, 10**6, size=n), layers, weights_revision=0)
        assert cache.nbytes == held_bytes(cache) <= cache.max_bytes
    assert len(cache) >= 5  # what is held is the slices' bytes, not their bases'


def test_a_coordinators_entries_are_counted_by_their_real_bytes(backbone):
    trinity = Trinity.build(backbone, WORKERS, ROLES, [0], prefix_cache_mb=1)
    for k in range(12):
        trinity.hidden_states([[{"role": "user", "content": f"Distinct question {k}: " + "word " * (5 * k)}]])
        assert trinity.prefix_cache.nbytes == held_bytes(trinity.prefix_cache) <= trinity.prefix_cache.max_bytes


def rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_memory_of_evicted_entries_goes_back_so_rss_stays_within_the_cap():
    cache = PrefixCache(max_bytes=16 * 2**20)
    source = torch.randn(1, 2, 4096, 64)  # 2 MiB: an entry of (keys, values) is 4 MiB
    before = rss_mib()
    for i in range(50):  # 200 MiB of entries pass through a 16 MiB cache
        cache.store(np.arange(i * 10, i * 10 + 8), ((source, source),), weights_revision=0)
    assert cache.nbytes <= cache.max_bytes
    assert rss_mib() - before <= 16 + 8  # the cap, plus slack for the interpreter's own allocations
