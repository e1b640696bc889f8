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
