"""SVF: z = 0 is the base model bit for bit; z ≠ 0 is the reference's parameterisation."""

from pathlib import Path

import numpy as np
import pytest
import torch

from fugu.models.backbone import load_backbone, meta_model
from fugu.trinity.svf import SVFAdapter, svf_target_keys

REFERENCE_CONFIG = Path(__file__).resolve().parents[2] / "configs/qwen3-0.6b"


@pytest.fixture()
def model(tiny_backbone_dir):
    return load_backbone(tiny_backbone_dir).model


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_reference_selection_is_nine_matrices_of_qwen3_0_6b():
    keys = svf_target_keys(meta_model(REFERENCE_CONFIG), [26])
    assert keys == ["model.embed_tokens.weight"] + [
        f"model.layers.26.{m}.weight" for m in
        ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
         "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
    ] + ["lm_head.weight"]


def test_layers_out_of_range_are_refused(model):
    with pytest.raises(ValueError, match="out of range"):
        svf_target_keys(model, [99])


def test_zero_offsets_leave_every_weight_bit_for_bit(model):
    before = _snapshot(model)
    adapter = SVFAdapter(model, svf_target_keys(model, [0]))
    adapter.apply(np.zeros(adapter.n_offsets, np.float32))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_restore_after_an_adaptation_is_bit_for_bit_the_base_model(model):
    before = _snapshot(model)
    ids = torch.tensor([[5, 9, 33, 70, 2]])
    with torch.no_grad():
        base_out = model.model(input_ids=ids).last_hidden_state
    adapter = SVFAdapter(model, svf_target_keys(model, [0]))
    adapter.apply(np.random.default_rng(0).normal(0, 0.2, adapter.n_offsets).astype(np.float32))
    assert not torch.equal(before["model.layers.0.mlp.up_proj.weight"], model.state_dict()["model.layers.0.mlp.up_proj.weight"])
    adapter.restore()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with torch.no_grad():
        assert torch.equal(model.model(input_ids=ids).last_hidden_state, base_out)


def test_nonzero_offsets_follow_the_reference_formula(model):
    key = "model.layers.0.self_attn.q_proj.weight"
    weight = model.state_dict()[key].clone()
    adapter = SVFAdapter(model, [key])
    z = np.random.default_rng(1).normal(0, 0.3, adapter.n_offsets).astype(np.float32)
    adapter.apply(z)
    u, s, vh = torch.linalg.svd(weight, full_matrices=False)
    scaled = s * (1 + torch.from_numpy(z))
    expected = (u @ torch.diag(scaled) @ vh) * (s.sum() / scaled.sum())
    torch.testing.assert_close(model.state_dict()[key], expected, rtol=1e-4, atol=1e-5)


def test_offsets_of_the_wrong_length_are_refused(model):
    adapter = SVFAdapter(model, svf_target_keys(model, [0]))
    with pytest.raises(ValueError, match=f"expected shape \\({adapter.n_offsets},\\)"):
        adapter.apply(np.zeros(adapter.n_offsets + 1, np.float32))


def _qwen3(tied: bool):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=16, tie_word_embeddings=tied)
    return Qwen3ForCausalLM(config).eval()


def _slices(adapter, key_values):
    """Offsets with the given key's slice set to a fixed random draw and every other slice zero."""
    z = np.zeros(adapter.n_offsets, np.float32)
    start = 0
    for key, size in zip(adapter.keys, adapter.sizes):
        if key in key_values:
            z[start:start + size] = np.random.default_rng(key_values[key]).normal(0, 0.3, size)
        start += size
    return z


EMBED, HEAD = "model.embed_tokens.weight", "lm_head.weight"


def test_tied_embeddings_the_lm_head_slice_is_what_the_shared_tensor_holds():
    """Documented choice (fugu/trinity/svf.py): decompose once, write in state_dict order; lm_head wins."""
    model = _qwen3(tied=True)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    base = model.model.embed_tokens.weight.detach().clone()
    adapter = SVFAdapter(model, svf_target_keys(model, [0]))
    assert adapter.keys[0] == EMBED and adapter.keys[-1] == HEAD and adapter.shadowed == {EMBED}
    adapter.apply(_slices(adapter, {EMBED: 1}))  # the embed slice alone: inert
    assert torch.equal(model.model.embed_tokens.weight, base)
    adapter.apply(_slices(adapter, {HEAD: 2}))   # the lm_head slice alone: W(z) of the base matrix
    head_only = model.model.embed_tokens.weight.detach().clone()
    assert not torch.equal(head_only, base)
    adapter.apply(_slices(adapter, {EMBED: 1, HEAD: 2}))  # both: the same as lm_head alone
    assert torch.equal(model.model.embed_tokens.weight, head_only)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()  # still tied
    adapter.restore()
    assert torch.equal(model.model.embed_tokens.weight, base)


def test_untied_embeddings_each_matrix_takes_its_own_slice():
    model = _qwen3(tied=False)
    embed, head = (model.state_dict()[k].clone() for k in (EMBED, HEAD))
    adapter = SVFAdapter(model, svf_target_keys(model, [0]))
    assert adapter.shadowed == set()
    adapter.apply(_slices(adapter, {EMBED: 1}))
    assert not torch.equal(model.state_dict()[EMBED], embed) and torch.equal(model.state_dict()[HEAD], head)
    adapter.apply(_slices(adapter, {HEAD: 2}))
    assert torch.equal(model.state_dict()[EMBED], embed) and not torch.equal(model.state_dict()[HEAD], head)
    adapter.restore()
    assert torch.equal(model.state_dict()[EMBED], embed) and torch.equal(model.state_dict()[HEAD], head)


def test_tied_embeddings_the_embed_reading_applies_only_the_embed_slice():
    """The Elixir port's reading (fugu/trinity/svf.py, 3): the lm_head slice is the inert one."""
    model = _qwen3(tied=True)
    base = model.model.embed_tokens.weight.detach().clone()
    adapter = SVFAdapter(model, svf_target_keys(model, [0]), tied="embed")
    assert adapter.shadowed == {HEAD}
    adapter.apply(_slices(adapter, {HEAD: 2}))
    assert torch.equal(model.model.embed_tokens.weight, base)
    adapter.apply(_slices(adapter, {EMBED: 1}))
    embed_only = model.model.embed_tokens.weight.detach().clone()
    adapter.apply(_slices(adapter, {EMBED: 1, HEAD: 2}))
    assert not torch.equal(embed_only, base) and torch.equal(model.model.embed_tokens.weight, embed_only)


def test_tied_embeddings_the_composed_reading_adapts_the_embed_adapted_matrix_afresh():
    """OpenFugu's reading (2): the lm_head slice acts on a fresh SVD of what the embed write left."""
    from fugu.trinity.svf import decompose, recompose

    model = _qwen3(tied=True)
    adapter = SVFAdapter(model, svf_target_keys(model, [0]), tied="composed")
    z = _slices(adapter, {EMBED: 1, HEAD: 2})
    embed_z, head_z = (torch.from_numpy(z[adapter._starts[i]:adapter._starts[i + 1]]) for i in (0, len(adapter.keys) - 1))
    embed_adapted = adapter.compose(0, embed_z)
    expected = recompose(embed_adapted, *decompose(embed_adapted), head_z)
    adapter.apply(z)
    assert torch.allclose(model.model.embed_tokens.weight, expected, atol=1e-6)
    lm_head_reading = SVFAdapter(_qwen3(tied=True), svf_target_keys(model, [0]))
    lm_head_reading.apply(z)
    assert not torch.allclose(lm_head_reading.model.model.embed_tokens.weight, expected, atol=1e-3)
    adapter.restore()
    assert torch.equal(model.model.embed_tokens.weight, adapter._base[0])


def test_an_unknown_tied_reading_is_refused(model):
    with pytest.raises(ValueError, match="tied must be one of"):
        SVFAdapter(model, svf_target_keys(model, [0]), tied="both")


def test_layers_below_the_adaptation_are_cacheable_only_when_no_target_moves_the_embeddings():
    from fugu.trinity.svf import unadapted_layers_below

    tied, untied = _qwen3(tied=True), _qwen3(tied=False)
    layer_1 = [k for k in svf_target_keys(untied, [1]) if k.startswith("model.layers.")]
    assert unadapted_layers_below(untied, layer_1) == 1             # layer 0 reads the unadapted embeddings
    assert unadapted_layers_below(untied, [*layer_1, HEAD]) == 1    # an untied lm_head is read after every layer
    assert unadapted_layers_below(tied, [*layer_1, HEAD]) == 0      # tied: the lm_head write moves the embeddings
    assert unadapted_layers_below(untied, svf_target_keys(untied, [1])) == 0  # the reference's targets: embed too
