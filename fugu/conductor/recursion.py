"""Recursive Conductor: round r+1 reads round r's workflow and result and may revise it.

The reference calls this test-time scaling: one more Conductor call and one more workflow
execution, in exchange for the chance to fix a bad first plan. :func:`run_rounds` is the
loop (any :class:`Conductor`, any pool); :func:`compare_rounds` is what eval reports:
accuracy per round on held-out questions, and round-last vs round-0.

:class:`VotingConductor` is the *toy policy* the reference measured its mock recursion claim
with, rebuilt here: round 0 asks its ``votes`` best-estimated workers independently and lets
the best one answer last; a revision moves the last step to the best worker behind the
answer that carries the most estimated skill among round 0's outputs. It reads question categories from the
mock pool's question tags, so its numbers are MOCK numbers.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from fugu.conductor.executor import Execution, execute
from fugu.conductor.parser import ParseError, parse_workflow
from fugu.conductor.prompts import conductor_prompt, revision_prompt
from fugu.conductor.schema import Step, Workflow, WorkflowError
from fugu.conductor.task import task_rows
from fugu.data.graders import extract_number, grade_numeric
from fugu.pools.base import Pool
from fugu.pools.simulated import SimulatedPool
from fugu.stats.estimate import Resamples, difference, pooled_estimate, relative


@dataclass(frozen=True)
class Round:
    index: int
    prompt: str
    text: str                   # what the Conductor emitted
    workflow: Workflow | None   # None when the text did not parse
    execution: Execution | None
    error: str | None

    @property
    def answer(self) -> str | None:
        return self.execution.answer if self.execution is not None else None


class Conductor(Protocol):
    def propose(self, prompt: str, question: str, previous: Round | None) -> str:
        """Workflow text for ``prompt`` (round 0: ``previous`` is None). A language-model
        Conductor reads only ``prompt``; a toy policy may read the structured ``previous``."""
        ...


async def run_rounds(conductor: Conductor, pool: Pool, question: str, *, rounds: int, max_steps: int,
                     time_budget_s: float, max_attempts: int = 2, question_id: str | None = None) -> list[Round]:
    """Round 0 plus ``rounds - 1`` revisions; each round's workflow is executed on ``pool``."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    n_workers = len(pool.workers)
    history: list[Round] = []
    for index in range(rounds):
        previous = history[-1] if history else None
        prompt = (conductor_prompt(question, n_workers) if previous is None else
                  revision_prompt(question, n_workers, previous.workflow,
                                  previous.execution.outputs if previous.execution else {}, previous.error))
        text = conductor.propose(prompt, question, previous)
        workflow = execution = error = None
        try:
            workflow = parse_workflow(text, n_workers, max_steps)
            execution = await execute(workflow, pool, question, max_steps=max_steps, time_budget_s=time_budget_s,
                                      max_attempts=max_attempts, question_id=question_id)
            error = execution.error
        except (ParseError, WorkflowError) as exc:
            error = str(exc)
        history.append(Round(index, prompt, text, workflow, execution, error))
    return history


def compare_rounds(conductor: Conductor, pool: Pool, rows: list[dict], *, rounds: int, max_steps: int,
                   time_budget_s: float, max_attempts: int = 2, bootstrap_resamples: int = 2000,
                   bootstrap_seed: int = 0, confidence: float = 0.95) -> dict:
    """Accuracy of every round over ``rows`` (``question``, ``question_id``, ``answer``).

    ``relative_gain`` is (last - round 0) / round 0, the form of the reference's "+9%";
    ``accuracy_delta`` is last - round 0, the form of its "tie" on real data; both are estimate
    records, questions resampled (paired). ``relative_gain`` is absent when round 0 scored 0
    (the ratio does not exist).
    """
    async def all_rows():
        return await asyncio.gather(*(run_rounds(conductor, pool, r["question"], rounds=rounds, max_steps=max_steps,
                                                 time_budget_s=time_budget_s, max_attempts=max_attempts,
                                                 question_id=r.get("question_id")) for r in rows))

    histories = asyncio.run(all_rows())
    correct = np.array([[grade_numeric(h.answer or "", r["answer"]) for h in history]
                        for history, r in zip(histories, rows)])  # [n_questions, rounds]
    by_round = correct.mean(axis=0)
    first, last = float(by_round[0]), float(by_round[-1])
    revised = sum(h[-1].workflow != h[0].workflow for h in histories)
    metrics = {
        "n_questions": len(rows),
        "rounds": rounds,
        "accuracy_by_round": [round(float(a), 6) for a in by_round],
        "round0_accuracy": first,
        "final_accuracy": last,
        "revised_fraction": revised / len(rows),
        "fixed": int(((correct[:, -1] == 1) & (correct[:, 0] == 0)).sum()),
        "broken": int(((correct[:, -1] == 0) & (correct[:, 0] == 1)).sum()),
    }
    draw = Resamples.draw(len(rows), 1, bootstrap_resamples, bootstrap_seed, confidence)
    final, initial = correct[:, -1].astype(float), correct[:, 0].astype(float)
    metrics["accuracy_delta"] = pooled_estimate(difference, [final, initial], draw, [bootstrap_seed])
    gain = pooled_estimate(relative, [final, initial], draw, [bootstrap_seed])
    if gain is not None:  # a ratio over a round-0 accuracy of 0 is no number: left out, never written as 0.0
        metrics["relative_gain"] = gain
    return metrics


_CATEGORY_TAG = re.compile(r"^\s*\[([^\]]+)\]")


class VotingConductor:
    """The toy recursive policy (MOCK); see the module docstring.

    ``skill_estimate`` [n_categories, n_workers] comes from *training* questions' outcomes
    (the caller estimates it), never from the questions it is evaluated on.
    """

    def __init__(self, categories: tuple[str, ...], skill_estimate: np.ndarray, votes: int):
        if not 1 <= votes <= skill_estimate.shape[1]:
            raise ValueError(f"votes must be in 1..{skill_estimate.shape[1]}, got {votes}")
        self.category_index = {c: i for i, c in enumerate(categories)}
        self.skill_estimate = np.asarray(skill_estimate, dtype=float)
        self.votes = votes

    def skills(self, question: str) -> np.ndarray:
        """Estimated skill of every worker on this question's category (the mean if untagged)."""
        tag = _CATEGORY_TAG.match(question)
        row = self.category_index.get(tag.group(1)) if tag else None
        return self.skill_estimate[row] if row is not None else self.skill_estimate.mean(axis=0)

    def propose(self, prompt: str, question: str, previous: Round | None) -> str:
        skills = self.skills(question)
        ranking = [int(i) for i in np.argsort(-skills, kind="stable")]
        voters = ranking[:self.votes]
        final = ranking[0] if previous is None else self._weighted_choice(previous, skills)
        steps = [Step(worker=w, instruction="Solve the task.") for w in voters]
        steps.append(Step(worker=final, instruction="Give the final answer.", access=list(range(len(voters)))))
        return Workflow(steps=steps).to_json()

    def _weighted_choice(self, previous: Round, skills: np.ndarray) -> int:
        """The last worker of the revision: among the answers round 0's steps gave, the one
        with the largest total estimated skill behind it, answered by its best backer.

        Only round 0's outputs are evidence (the mock's workers ignore what they are shown,
        so the last worker's own answer is the workflow's answer); no outcome is peeked at.
        """
        if previous.execution is None or previous.workflow is None:
            return int(np.argmax(skills))
        said: dict[int, object] = {}
        for i, step in enumerate(previous.workflow.steps):
            answer = extract_number(previous.execution.outputs.get(i, ""))
            if answer is not None:
                said[step.worker] = answer
        weight: Counter = Counter()
        for worker, answer in said.items():
            weight[answer] += skills[worker]
        if not weight:
            return previous.workflow.final_worker()
        best = max(weight, key=lambda a: weight[a])
        backers = sorted((w for w, a in said.items() if a == best), key=lambda w: -skills[w])
        return backers[0]


def estimate_skill(pool: SimulatedPool, question_ids: list[str]) -> np.ndarray:
    """[n_categories, n_workers] mean realised success on ``question_ids`` (training questions);
    a category with no such question gets the overall mean."""
    outcomes = pool.outcomes(question_ids, expected=False)
    categories = np.array(outcomes.categories)
    overall = outcomes.scores.mean(axis=0)
    return np.stack([outcomes.scores[categories == c].mean(axis=0) if (categories == c).any() else overall
                     for c in pool.categories])


def mock_recursion(pool: SimulatedPool, train_ids: list[str], held_ids: list[str], *, rounds: int, votes: int,
                   max_steps: int, time_budget_s: float, max_attempts: int, bootstrap_resamples: int = 2000,
                   bootstrap_seed: int = 0, confidence: float = 0.95) -> dict:
    """The recursion-mock measurement: toy voting Conductor, skills estimated on ``train_ids``,
    round 0 vs the last round on ``held_ids``. Labelled mock."""
    conductor = VotingConductor(pool.categories, estimate_skill(pool, train_ids), votes)
    result = compare_rounds(conductor, pool, task_rows(pool, held_ids), rounds=rounds, max_steps=max_steps,
                            time_budget_s=time_budget_s, max_attempts=max_attempts,
                            bootstrap_resamples=bootstrap_resamples, bootstrap_seed=bootstrap_seed, confidence=confidence)
    return {"mock": bool(pool.mock), "policy": f"toy voting Conductor ({votes} voters, skill-weighted revision)", **result}
