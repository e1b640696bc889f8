"""The two fitness paths agree: searching SVF offsets at zero scores like the cached, frozen path."""

import numpy as np
import pytest

from fugu.models.backbone import load_backbone
from fugu.pools.simulated import SimulatedPool
from fugu.training.trinity_fitness import SearchSpace, population_fitness
from fugu.trinity.coordinator import Trinity


@pytest.fixture(scope="module")
def world(tiny_backbone_dir):
    outcomes = SimulatedPool.generate(12, 3, 3, seed=0).outcomes()
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), outcomes.workers, ["solver", "critic"], [0])
    conversations = outcomes.conversations()
    return outcomes, trinity, lambda z: trinity.hidden_states(conversations, z)


def spaces(trinity, train_svf):
    layout = trinity.layout
    return SearchSpace(layout.n_svf, layout.n_agents, layout.n_roles, layout.hidden_size, train_svf=train_svf)


def test_zero_svf_offsets_score_exactly_like_the_frozen_path(world):
    outcomes, trinity, hidden_states = world
    frozen, searched = spaces(trinity, False), spaces(trinity, True)
    heads = np.random.default_rng(0).normal(size=(4, frozen.size))
    with_svf = np.hstack([np.zeros((4, searched.n_svf)), heads])
    cached = population_fitness(frozen, hidden_states, outcomes.scores, outcomes.costs, 0.1)(heads)
    adapted = population_fitness(searched, hidden_states, outcomes.scores, outcomes.costs, 0.1)(with_svf)
    np.testing.assert_allclose(adapted, cached, rtol=1e-6)


def test_searched_svf_offsets_change_what_the_backbone_sees(world):
    _, trinity, hidden_states = world
    z = np.random.default_rng(1).normal(scale=0.5, size=trinity.layout.n_svf)
    assert not np.allclose(hidden_states(z), hidden_states(None))


def test_the_saved_vector_keeps_the_reference_layout_with_zero_role_rows(world):
    _, trinity, _ = world
    space = spaces(trinity, False)
    x = np.arange(space.size, dtype=float)
    svf, head = space.full_parts(x)
    vector = trinity.layout.pack(svf, head)
    unpacked_svf, unpacked_head = trinity.layout.unpack(vector)
    assert not unpacked_svf.any()
    np.testing.assert_array_equal(unpacked_head[: space.n_agents].ravel(), x)
    assert not unpacked_head[space.n_agents:].any()
