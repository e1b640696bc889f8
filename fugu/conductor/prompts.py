"""What the Conductor reads: the question and pool size (round 0), plus its last round (revision).

An instruct policy (SmolLM2-135M-Instruct, the recorded pool) reads round 0 as chat messages
(:func:`conductor_messages`) through its own chat template, and a revision round as that conversation
continued (:func:`revision_messages`); the mock twin's toy policy reads the plain text of
:func:`conductor_prompt` and :func:`revision_prompt`.

Workers appear only as indices 0..n-1: the Conductor never learns their names, so the same
policy runs over any pool of that size (and the pool stays hidden from clients).
"""

from __future__ import annotations

from fugu.conductor.schema import Workflow


def conductor_prompt(question: str, n_workers: int) -> str:
    return f"Pool: {n_workers} workers (0-{n_workers - 1}).\nQuestion: {question}\nWorkflow: "


def conductor_messages(question: str, n_workers: int) -> list[dict[str, str]]:
    """Round 0 for an instruct policy: the pool by index only (names hidden, as the paper does) and
    the workflow's JSON shape in the system turn, the question as the user turn."""
    system = (f"Plan a workflow over {n_workers} workers numbered 0-{n_workers - 1}. Reply with JSON only: "
              '{"steps": [{"worker": <index>, "instruction": "<task>", "access": []}]}')
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def revision_messages(question: str, n_workers: int, previous: str, answer: str) -> list[dict[str, str]]:
    """Round 1 for an instruct policy: round 0's conversation, its workflow as the policy's own turn,
    then what the workflow answered and a request for a revised workflow (same JSON shape)."""
    return conductor_messages(question, n_workers) + [
        {"role": "assistant", "content": previous},
        {"role": "user", "content": f"The workflow answered:\n{answer}\nIf that answer may be wrong, revise the "
                                    "workflow; otherwise repeat it. Reply with JSON only."}]


def revision_prompt(question: str, n_workers: int, workflow: Workflow | None, outputs: dict[int, str],
                    error: str | None) -> str:
    """Round r+1's prompt: round r's workflow, each step's output (or the error), then a cue."""
    shown = workflow.to_json() if workflow is not None else "(none: the output did not parse)"
    lines = [f"Pool: {n_workers} workers (0-{n_workers - 1}).", f"Question: {question}",
             f"Previous workflow: {shown}"]
    lines += [f"[step {i}] {text}" for i, text in sorted(outputs.items())]
    if error:
        lines.append(f"Error: {error}")
    return "\n".join(lines) + "\nRevised workflow: "
