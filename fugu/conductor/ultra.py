"""Ultra mode: the trained Conductor writes a workflow for a query; show it, or run it.

For ``fugu route --ultra`` (show the emitted workflow) and the server's ultra mode (run it
over the pool, return the last step's answer). The policy is any causal LM directory
``fugu.models.backbone.load_backbone`` reads, e.g. ``artifacts/train_conductor/policy``.

Serving bounds: the Conductor reads at most ``max_prompt_tokens`` tokens, and of a longer
question its *end* (as the router does; the pool line before it and the cue after it are kept
whole), so a 1 MB question costs what a short one does; and a plan's generation stops between
tokens when the caller's ``stop`` says so (the server's deadline, a client gone).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fugu.conductor.parser import ParseError, parse_workflow
from fugu.conductor.prompts import conductor_prompt
from fugu.conductor.schema import Workflow


@dataclass(frozen=True)
class UltraPlan:
    text: str                   # what the Conductor emitted
    workflow: Workflow | None   # None when it did not parse (or was stopped)
    error: str | None


class UltraConductor:
    """A loaded Conductor policy; greedy decoding, so the same query gives the same plan."""

    def __init__(self, policy_dir: str | Path, max_new_tokens: int = 64, max_prompt_tokens: int | None = None):
        """``max_prompt_tokens``: the input cap (the server's ``conductor_max_tokens``), lowered to what
        the policy's positions leave after ``max_new_tokens``; None: that alone."""
        from fugu.models.backbone import load_backbone

        self.model, self.tokenizer = load_backbone(policy_dir)
        self.max_new_tokens = max_new_tokens
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if positions is not None:  # beyond its positions a policy's output is garbage (or an error)
            fits = positions - max_new_tokens
            max_prompt_tokens = fits if max_prompt_tokens is None else min(max_prompt_tokens, fits)
        frame = len(self._encode(conductor_prompt("", 1_000_000)))  # the prompt around the question, any pool
        if max_prompt_tokens is not None and max_prompt_tokens <= frame:
            raise ValueError(f"the Conductor's prompt cap ({max_prompt_tokens} tokens, within the policy's "
                             f"{positions} positions less {max_new_tokens} new) leaves no room for a question "
                             f"after the {frame}-token prompt frame")
        self.max_prompt_tokens = max_prompt_tokens

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]  # a long one is cut next

    def prompt_ids(self, question: str, n_workers: int) -> list[int]:
        """The Conductor's prompt, tokenised, at most ``max_prompt_tokens`` long: a question that
        does not fit keeps its end; the pool line and the cue are kept whole."""
        from fugu.models.backbone import text_tail

        cap = self.max_prompt_tokens
        if cap is None:
            return self._encode(conductor_prompt(question, n_workers))
        cut = text_tail(question, cap)  # so tokenising a 1 MB question costs what a short one does
        ids = self._encode(conductor_prompt(cut, n_workers))
        if len(ids) <= cap and len(cut) == len(question):
            return ids  # the common case: the prompt exactly as in training
        room = cap - len(self._encode(conductor_prompt("", n_workers)))
        question_ids = self._encode(cut)
        while room > 0:  # re-tokenised in place, the kept tail may merge differently at its edges
            ids = self._encode(conductor_prompt(self.tokenizer.decode(question_ids[-room:]), n_workers))
            if len(ids) <= cap:
                return ids
            room -= len(ids) - cap
        return self._encode(conductor_prompt("", n_workers))

    def plan(self, question: str, n_workers: int, max_steps: int,
             stop: Callable[[], bool] | None = None) -> UltraPlan:
        """The workflow the Conductor writes; ``stop`` (asked after every token) ends it early, and
        a plan stopped so is reported unparsed, not parsed from its first half."""
        from fugu.models.generation import complete_greedy

        text = complete_greedy(self.model, self.tokenizer, self.prompt_ids(question, n_workers),
                               self.max_new_tokens, stop=stop)
        if stop is not None and stop():
            return UltraPlan(text, None, "stopped before the plan was complete (deadline passed or client left)")
        try:
            return UltraPlan(text, parse_workflow(text, n_workers, max_steps), None)
        except ParseError as exc:
            return UltraPlan(text, None, str(exc))


def describe_workflow(workflow: Workflow, worker_names: list[str]) -> str:
    """One line per step, for people: ``step 2  sim-worker-1  reads [0, 1]  Compare ...``."""
    lines = []
    for i, step in enumerate(workflow.steps):
        reads = f"reads {step.access}" if step.access else "reads nothing"
        last = "  → answer" if i == len(workflow.steps) - 1 else ""
        lines.append(f"step {i}  {worker_names[step.worker]}  {reads}  {step.instruction}{last}")
    return "\n".join(lines)
