"""LocalHFPool: workers that are local transformers causal LMs, decoding greedily.

Each distinct model directory is loaded once, at construction, and shared: several workers
may name the same directory (e.g. one small model under different system prompts), and a
missing directory fails at start-up with its path rather than at the first request.
Generation runs in a worker thread, one call at a time per model (a model's forward pass is
not meant to be shared by concurrent calls), so the server's event loop stays free.
Greedy decoding makes a worker a function of the conversation: the same question gets the
same answer, which the audit needs to compare runs.

A worker's ``path`` is a transformers directory or a single ``.gguf`` file (dequantised at
load by :func:`fugu.models.gguf.load_gguf`): e.g. SmolLM2-135M-Instruct as fetch converted it,
or Gemma-3-270M assembled from its PyPI chunk packages (a base model without a chat
template, prompted with a plain transcript).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from fugu.models.backbone import load_backbone
from fugu.models.gguf import load_gguf
from fugu.pools.base import PoolError, Reply, Worker
from fugu.types import Message


@dataclass(frozen=True)
class LocalHFWorker:
    name: str
    path: str                        # a local model directory (config, weights, tokenizer) or a .gguf file
    system_prompt: str | None = None  # prepended as a system turn when the conversation has none
    cost_per_call: float = 0.0


class _LoadedModel:
    def __init__(self, path: Path):
        if path.suffix == ".gguf" and path.is_file():
            self.model, self.tokenizer = load_gguf(path)
        elif not path.is_dir():
            raise FileNotFoundError(f"local model {path} does not exist (a model directory or a .gguf file): "
                                    "fetch the model into it first")
        else:
            self.model, self.tokenizer = load_backbone(path)
        self.lock = threading.Lock()

    def prompt_ids(self, messages: list[Message]) -> torch.Tensor:
        if self.tokenizer.chat_template:
            ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                     return_dict=True)["input_ids"]
        else:  # a base model: a plain transcript ending where the assistant speaks
            text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"
            ids = self.tokenizer(text, return_tensors="pt")["input_ids"]
        return ids

    def generate(self, messages: list[Message], max_new_tokens: int) -> tuple[str, dict[str, int]]:
        with self.lock, torch.inference_mode():
            ids = self.prompt_ids(messages)
            pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
            out = self.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                      max_new_tokens=max_new_tokens, pad_token_id=pad)
        new = out[0, ids.shape[1]:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return text, {"prompt_tokens": int(ids.shape[1]), "completion_tokens": int(new.shape[0])}


class LocalHFPool:
    def __init__(self, workers: list[LocalHFWorker], max_new_tokens: int = 256):
        names = [w.name for w in workers]
        if len(set(names)) != len(names):
            raise ValueError(f"worker names must be unique, got {names}")
        self._specs = {w.name: w for w in workers}
        self.max_new_tokens = max_new_tokens
        self._models: dict[Path, _LoadedModel] = {}
        for w in workers:
            path = Path(w.path).resolve()
            if path not in self._models:
                self._models[path] = _LoadedModel(path)

    @property
    def workers(self) -> list[Worker]:
        return [Worker(name=w.name, cost_per_call=w.cost_per_call) for w in self._specs.values()]

    @property
    def n_loaded(self) -> int:
        """How many distinct models are in memory (one per directory, however many workers)."""
        return len(self._models)

    async def answer(self, worker: str, messages: list[Message]) -> Reply:
        spec = self._specs.get(worker)
        if spec is None:
            raise PoolError(f"unknown worker {worker!r}; this pool has {list(self._specs)}")
        turns = [{"role": m["role"], "content": m["content"]} for m in messages]
        if spec.system_prompt and not any(m["role"] == "system" for m in turns):
            turns.insert(0, {"role": "system", "content": spec.system_prompt})
        started = time.perf_counter()
        model = self._models[Path(spec.path).resolve()]
        text, usage = await asyncio.to_thread(model.generate, turns, self.max_new_tokens)
        return Reply(worker=worker, text=text, cost=spec.cost_per_call,
                     latency_s=time.perf_counter() - started, usage=usage)
