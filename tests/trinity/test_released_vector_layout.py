"""The released TRINITY vector's loader on a vector of its shape and dtype (float64, 19,456 numbers).

The port ships ``sakana_model_iter_60.npy`` as a float64 ``.npy`` of shape (19456,) (configs/provenance.yaml
pins it): 9 SVF target matrices × 1,024 offsets of Qwen3-0.6B's layer 26 first, then the bias-free head,
7 agent rows and 3 role rows of 1,024, row-major. This vector is synthetic, every number distinct, so a
wrong split or order shows.
"""

import numpy as np
import pytest

from fugu.models.backbone import meta_model
from fugu.trinity.coordinator import layout_for
from fugu.trinity.vector import VectorError, load_vector
from stages.common import load_params, resolve
from stages.paths import REFERENCE_CONFIG


@pytest.fixture(scope="module")
def reference_layout():
    full = resolve(load_params()["trinity"], "full", "trinity")
    return layout_for(meta_model(REFERENCE_CONFIG), len(full["workers"]), len(full["roles"]), full["svf_layers"])


@pytest.fixture()
def released_like(tmp_path):
    vector = np.arange(19456, dtype=np.float64) * 1e-3 + 1e-9  # float64 bits that float32 cannot keep exactly
    path = tmp_path / "sakana_model_iter_60.npy"
    np.save(path, vector)
    return path, vector


def test_the_reference_layout_holds_19456_numbers_svf_first(reference_layout):
    assert (reference_layout.size, reference_layout.n_svf, reference_layout.head_rows) == (19456, 9 * 1024, 10)
    assert (reference_layout.n_agents, reference_layout.n_roles, reference_layout.hidden_size) == (7, 3, 1024)


def test_a_float64_vector_of_that_shape_loads_and_splits_as_the_reference_does(reference_layout, released_like):
    path, vector = released_like
    svf, head = reference_layout.unpack(load_vector(path, reference_layout))
    np.testing.assert_array_equal(svf, vector[:9216].astype(np.float32))
    np.testing.assert_array_equal(head, vector[9216:].reshape(10, 1024).astype(np.float32))
    assert head[0, 0] == np.float32(vector[9216]) and head[7, 0] == np.float32(vector[9216 + 7 * 1024])  # first role row


def test_a_vector_one_number_short_is_refused_naming_the_file(reference_layout, tmp_path):
    np.save(tmp_path / "short.npy", np.zeros(19455, np.float64))
    with pytest.raises(VectorError, match=r"short.npy: .*expected length 19456"):
        load_vector(tmp_path / "short.npy", reference_layout)
