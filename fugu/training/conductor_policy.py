"""The Conductor's policy: SmolLM2-135M-Instruct (TRINITY's converted backbone), its top layers trained.

No random model and no tokenizer of ours: the policy is the checkpoint fetch converted, with its
own tokenizer and chat template. Only the top ``trainable_layers`` decoder layers and the final
norm learn (embeddings, the tied output head and every layer below stay frozen): backward then
stops at the lowest trained layer, which is what makes GRPO fit a CPU budget (a full fine-tune
measured about twice as slow per step; peft/LoRA is not a dependency). A seed's run is therefore
stored as those tensors only (:func:`trained_tensors`), a few MB instead of the whole model.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from fugu.models.backbone import Backbone, load_backbone


def load_policy(backbone_dir: str | Path, trainable_layers: int) -> Backbone:
    """The backbone with every parameter frozen but the top ``trainable_layers`` layers and the final norm."""
    model, tokenizer = load_backbone(backbone_dir)
    layers = model.model.layers
    if not 1 <= trainable_layers <= len(layers):
        raise ValueError(f"trainable_layers must be 1..{len(layers)} (the policy's layers), got {trainable_layers}")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for module in [*layers[-trainable_layers:], model.model.norm]:
        for parameter in module.parameters():
            parameter.requires_grad_(True)
    return Backbone(model, tokenizer)


def trained_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The parameters that learn, by name: a seed's whole difference from the backbone."""
    return {name: p.detach().clone().contiguous() for name, p in model.named_parameters() if p.requires_grad}


def save_trained(model: torch.nn.Module, path: Path) -> None:
    save_file(trained_tensors(model), str(path))


def load_trained(backbone_dir: str | Path, path: Path, trainable_layers: int) -> Backbone:
    """A seed's policy again: the backbone with that seed's trained tensors put back."""
    model, tokenizer = load_policy(backbone_dir, trainable_layers)
    tensors = load_file(str(path))
    expected = set(trained_tensors(model))
    if set(tensors) != expected:
        raise ValueError(f"{path} holds other tensors than the top {trainable_layers} layers' "
                         f"({len(tensors)} vs {len(expected)}): trained with another trainable_layers?")
    model.load_state_dict(tensors, strict=False)
    model.eval()
    return Backbone(model, tokenizer)
