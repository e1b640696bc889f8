"""Ultra mode: the trained Conductor writes a workflow for a query; show it, or run it.

For ``fugu route --ultra`` (show the emitted workflow) and the server's ultra mode (run it
over the pool, return the last step's answer). The policy is any causal LM directory
``fugu.models.backbone.load_backbone`` reads, e.g. ``artifacts/train_conductor/policy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fugu.conductor.parser import ParseError, parse_workflow
from fugu.conductor.prompts import conductor_prompt
from fugu.conductor.schema import Workflow


@dataclass(frozen=True)
class UltraPlan:
    text: str                   # what the Conductor emitted
    workflow: Workflow | None   # None when it did not parse
    error: str | None


class UltraConductor:
    """A loaded Conductor policy; greedy decoding, so the same query gives the same plan."""

    def __init__(self, policy_dir: str | Path, max_new_tokens: int = 64):
        from fugu.models.backbone import load_backbone

        self.model, self.tokenizer = load_backbone(policy_dir)
        self.max_new_tokens = max_new_tokens

    def plan(self, question: str, n_workers: int, max_steps: int) -> UltraPlan:
        from fugu.models.generation import generate

        text = generate(self.model, self.tokenizer, [conductor_prompt(question, n_workers)],
                        self.max_new_tokens, sample=False)[0]
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
