"""The backbone: a tiny model of the reference architecture class, loaded like the full one."""

import hashlib

import pytest
import torch

from fugu.models.backbone import build_tiny_backbone, load_backbone


def test_tiny_backbone_is_the_reference_architecture_class(tiny_backbone_dir):
    model, tokenizer = load_backbone(tiny_backbone_dir)
    assert type(model).__name__ == "Qwen3ForCausalLM"
    assert model.config.tie_word_embeddings  # as in Qwen3-0.6B
    assert tokenizer.pad_token is not None and tokenizer.chat_template


def test_tiny_tokenizer_encodes_any_text_without_unknown_tokens(tiny_backbone_dir):
    _, tokenizer = load_backbone(tiny_backbone_dir)
    text = "Übersetze: 東京 — naïve café ☕ 12345"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


def test_same_seed_builds_identical_files(tmp_path):
    small = dict(vocab_size=300, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                 num_key_value_heads=1, head_dim=16, intermediate_size=64)
    corpus = ["user: route this please", "assistant: done 1 + 2 = 3"] * 20
    digests = []
    for name in ("a", "b"):
        out = build_tiny_backbone(tmp_path / name, seed=3, corpus=corpus, **small)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())})
    assert digests[0] == digests[1]


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no Hugging Face model"):
        load_backbone(tmp_path / "nowhere")


def test_loaded_model_runs_a_forward_pass(tiny_backbone_dir):
    model, tokenizer = load_backbone(tiny_backbone_dir)
    batch = tokenizer(["user: hello"], return_tensors="pt")
    with torch.no_grad():
        out = model.model(**batch)
    assert out.last_hidden_state.shape[-1] == model.config.hidden_size
