"""The parameter vector: reference layout, exact pack/unpack, refusal of a misfit."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fugu.models.backbone import meta_model
from fugu.training.population import population_scores
from fugu.trinity.coordinator import layout_for
from fugu.trinity.vector import VectorError, VectorLayout, load_vector, save_vector

REFERENCE_CONFIG = Path(__file__).resolve().parents[2] / "configs/qwen3-0.6b"
finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@st.composite
def layouts_and_parts(draw):
    layout = VectorLayout(draw(st.integers(0, 40)), draw(st.integers(1, 12)), draw(st.integers(1, 5)), draw(st.integers(0, 3)))
    svf = draw(arrays(np.float32, (layout.n_svf,), elements=finite32))
    head = draw(arrays(np.float32, (layout.head_rows, layout.hidden_size), elements=finite32))
    return layout, svf, head


@settings(max_examples=60, deadline=None)
@given(layouts_and_parts())
def test_unpack_inverts_pack(case):
    layout, svf, head = case
    vector = layout.pack(svf, head)
    assert vector.dtype == np.float32 and vector.shape == (layout.size,)
    got_svf, got_head = layout.unpack(vector)
    np.testing.assert_array_equal(got_svf, svf)
    np.testing.assert_array_equal(got_head, head)
    np.testing.assert_array_equal(layout.pack(got_svf, got_head), vector)


def test_svf_offsets_come_first_then_agent_rows_then_role_rows():
    layout = VectorLayout(n_svf=3, hidden_size=2, n_agents=2, n_roles=1)
    vector = layout.pack(np.array([1, 2, 3]), np.array([[10, 11], [20, 21], [30, 31]]))
    np.testing.assert_array_equal(vector, [1, 2, 3, 10, 11, 20, 21, 30, 31])


def test_reference_layout_is_19456_numbers_for_qwen3_0_6b():
    layout = layout_for(meta_model(REFERENCE_CONFIG), n_agents=7, n_roles=3, svf_layers=[26])
    assert (layout.n_svf, layout.head_size, layout.size) == (9216, 10240, 19456)


def test_wrong_length_is_refused_stating_expected_and_got():
    layout = VectorLayout(4, 3, 2, 1)
    with pytest.raises(VectorError, match=r"expected length 13 .* got shape \(12,\)"):
        layout.check(np.zeros(12, np.float32))


@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.complex64, bool])
def test_wrong_dtype_is_refused_stating_expected_and_got(dtype):
    layout = VectorLayout(4, 3, 2, 1)
    with pytest.raises(VectorError, match=f"expected dtype float32.*got {np.dtype(dtype)}"):
        layout.check(np.zeros(layout.size, dtype))


def test_non_finite_values_are_refused():
    layout = VectorLayout(4, 3, 2, 1)
    vector = np.zeros(layout.size, np.float32)
    vector[5] = np.nan
    with pytest.raises(VectorError, match="NaN"):
        layout.check(vector)


def test_save_then_load_round_trips_as_float32(tmp_path):
    layout = VectorLayout(4, 3, 2, 1)
    vector = np.random.default_rng(0).normal(size=layout.size).astype(np.float32)
    path = save_vector(tmp_path / "v.npy", vector, layout)
    np.testing.assert_array_equal(load_vector(path, layout), vector)


def test_a_float64_vector_as_pycma_writes_it_loads(tmp_path):
    layout = VectorLayout(4, 3, 2, 1)
    np.save(tmp_path / "v.npy", np.arange(layout.size, dtype=np.float64))
    assert load_vector(tmp_path / "v.npy", layout).dtype == np.float32


def test_a_vector_for_another_layout_names_the_file(tmp_path):
    np.save(tmp_path / "v.npy", np.zeros(7, np.float32))
    with pytest.raises(VectorError, match="v.npy: parameter vector: expected length 13"):
        load_vector(tmp_path / "v.npy", VectorLayout(4, 3, 2, 1))


def test_the_ports_safetensors_release_format_loads(tmp_path):
    from safetensors.numpy import save_file

    layout = VectorLayout(4, 3, 2, 1)
    vector = np.arange(layout.size, dtype=np.float32)
    save_file({"trinity_router_es_vector": vector}, str(tmp_path / "v.safetensors"))
    np.testing.assert_array_equal(load_vector(tmp_path / "v.safetensors", layout), vector)


def test_population_scores_equal_one_head_at_a_time():
    rng = np.random.default_rng(0)
    hidden, heads = rng.normal(size=(5, 8)), rng.normal(size=(3, 4, 8))
    got = population_scores(hidden, heads)
    assert got.shape == (3, 5, 4)
    for p in range(3):
        np.testing.assert_allclose(got[p], hidden @ heads[p].T, rtol=1e-5)
