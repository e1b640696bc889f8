"""Shared test set-up: the whole suite runs offline, as the tiny profile promises."""

import os

for _var, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "DVC_NO_ANALYTICS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_var, _value)

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_backbone_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen3ForCausalLM + trained tokenizer, built once per test session (seconds)."""
    import torch

    from fugu.models.backbone import build_tiny_backbone

    torch.set_num_threads(1)
    return build_tiny_backbone(tmp_path_factory.mktemp("tiny_backbone"), seed=0)
