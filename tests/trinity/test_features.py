"""The features cache: one forward pass gives penultimate and last states; the table reads them by id."""

import numpy as np
import pytest

from fugu.models.backbone import load_backbone
from fugu.trinity.coordinator import Trinity
from fugu.trinity.features import FeatureTable, backbone_features, save_features
from fugu.trinity.router import TrinityRouter

CONVS = [[{"role": "user", "content": "What is 2 + 2?"}], [{"role": "user", "content": "Name a prime number, please."}]]


@pytest.fixture(scope="module")
def trinity(tiny_backbone_dir):
    return Trinity.build(load_backbone(tiny_backbone_dir), ["a", "b"], ["solver"], [0], batch_size=1)


def test_one_pass_gives_the_penultimate_state_hidden_states_gives_and_the_last(trinity):
    penultimate, last, cut = backbone_features(trinity, CONVS, max_tokens=None)
    np.testing.assert_allclose(penultimate, trinity.hidden_states(CONVS), atol=1e-5)
    assert cut == 0 and last.shape == penultimate.shape and not np.allclose(last, penultimate)


def test_the_token_cap_cuts_long_prompts_and_counts_them(trinity):
    _, _, cut = backbone_features(trinity, CONVS, max_tokens=4)
    assert cut == 2


def test_the_table_reads_rows_by_id_and_refuses_an_unknown_one(tmp_path):
    save_features(tmp_path, ["q1", "q2"], {"penultimate": np.eye(2), "last": 2 * np.eye(2)}, {"n": 2})
    table = FeatureTable.load(tmp_path)
    np.testing.assert_array_equal(table.rows(["q2", "q1"], which="last"), [[0, 2], [2, 0]])
    assert table.meta == {"n": 2}
    with pytest.raises(KeyError, match="no cached features"):
        table.rows(["q3"])


def test_the_served_router_scores_the_same_from_cached_features_as_through_the_backbone(trinity, tmp_path):
    head = np.random.default_rng(0).normal(size=(trinity.layout.head_rows, trinity.layout.hidden_size))
    vector = trinity.layout.pack(np.zeros(trinity.layout.n_svf, np.float32), head.astype(np.float32))
    save_features(tmp_path, ["q1", "q2"], {"penultimate": trinity.hidden_states(CONVS)})
    featurize = FeatureTable.load(tmp_path).featurizer({c[0]["content"]: q for c, q in zip(CONVS, ["q1", "q2"])})
    cached = TrinityRouter(trinity, vector, ["b", "a"], featurizer=featurize).scores(CONVS)
    live = TrinityRouter(trinity, vector, ["b", "a"]).scores(CONVS)
    np.testing.assert_allclose(cached, live, atol=1e-4)


def test_cached_features_are_refused_for_a_vector_with_svf_offsets(trinity):
    vector = np.ones(trinity.layout.size, np.float32)
    with pytest.raises(ValueError, match="non-zero SVF offsets"):
        TrinityRouter(trinity, vector, ["a", "b"], featurizer=lambda c: np.zeros((len(c), 1)))
