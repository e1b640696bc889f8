"""The tiny profile's offline Conductor task: write a workflow for a question of the mock pool.

The reference trains on nvidia/ToolScale with real workers; offline, the verifiable stand-in
is the simulated pool (a MOCK: seeded per-category skill matrix, one specialist per
category). A question's category is visible in its text, the executed workflow's final
answer is graded against the known number, so a Conductor earns reward exactly by learning
which worker to put last for which category — a decomposition whose value is checkable.
"""

from __future__ import annotations

import numpy as np

from fugu.conductor.prompts import conductor_prompt
from fugu.conductor.schema import Step, Workflow
from fugu.pools.simulated import SimulatedPool

INSTRUCTIONS = ("solve", "check", "answer")


def task_rows(pool: SimulatedPool, question_ids: list[str]) -> list[dict]:
    """One row per question: the prompt plus the columns the reward needs (trl passes them on)."""
    by_id = {q.question_id: q for q in pool.questions}
    n = len(pool.workers)
    return [{"prompt": conductor_prompt(by_id[q].text, n), "question_id": q, "question": by_id[q].text,
             "answer": str(by_id[q].answer)} for q in question_ids]


def random_workflow(rng: np.random.Generator, n_workers: int, max_steps: int) -> Workflow:
    """A valid workflow with uniformly random workers: the format-only warm-start target.

    Worker choice is uniform on purpose, so the warm start teaches the syntax and nothing
    about who is good at what; that is left to GRPO.
    """
    n_steps = int(rng.integers(1, max_steps + 1))
    steps = []
    for i in range(n_steps):
        access = sorted(int(j) for j in np.flatnonzero(rng.random(i) < 0.5)) if i else []
        steps.append(Step(worker=int(rng.integers(n_workers)),
                          instruction=INSTRUCTIONS[int(rng.integers(len(INSTRUCTIONS)))], access=access))
    return Workflow(steps=steps)
