"""Text generation with a loaded causal LM (the Conductor's policy, local worker models)."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase, StoppingCriteria, StoppingCriteriaList


@torch.no_grad()
def generate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: list[str],
             max_new_tokens: int, *, sample: bool, seed: int = 0) -> list[str]:
    """Completions (prompt stripped) for ``prompts``; greedy unless ``sample``."""
    torch.manual_seed(seed)
    tokenizer.padding_side = "left"
    batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
    out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=sample,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    return tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)


class StopWhen(StoppingCriteria):
    """Ends generation after the current token once ``stop()`` says so (a deadline, a client gone):
    a generation in a thread cannot be interrupted from outside, only asked between tokens."""

    def __init__(self, stop: Callable[[], bool]):
        self.stop = stop

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        return torch.full((input_ids.shape[0],), bool(self.stop()), dtype=torch.bool, device=input_ids.device)


@torch.no_grad()
def complete_greedy(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompt_ids: Sequence[int],
                    max_new_tokens: int, *, stop: Callable[[], bool] | None = None) -> str:
    """The greedy completion of one tokenised prompt (what ``generate`` gives for its text, unpadded);
    ``stop`` is asked after every token and ends generation early when it says so.

    One prompt, no padding: the tokenizer is not reconfigured, so threads may share it."""
    ids = torch.tensor([list(prompt_ids)], dtype=torch.long, device=model.device)
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                         do_sample=False, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                         stopping_criteria=StoppingCriteriaList([StopWhen(stop)]) if stop is not None else None)
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
