"""The Conductor's reward on recorded real outcomes: format + the answering worker's recorded correctness.

``format`` is 1 when the completion parses into a workflow valid on the pool (else 0, and the
failure kind is counted); ``answer`` is the recorded score of the last step's worker on that
question (0 for a failed plan), minus ``cost_weight`` × its estimated USD per 1,000 answers
(0 by default: stated in params). Both follow trl's reward signature and read the
``question_id`` column.
"""

from __future__ import annotations

from collections import Counter

from fugu.conductor.recorded_task import Plan, RecordedAnswers, read_plan


class RecordedReward:
    """Scores completions against one split's recorded outcomes; counts parse failures by kind."""

    def __init__(self, answers: RecordedAnswers, max_steps: int, cost_weight: float = 0.0):
        self.answers, self.max_steps, self.cost_weight = answers, max_steps, cost_weight
        self.failures: Counter[str] = Counter()
        self.completions = 0

    def plan(self, completion) -> Plan:
        return read_plan(completion_text(completion), self.answers.n_workers, self.max_steps)

    def format_reward(self, prompts, completions, **_) -> list[float]:
        plans = [self.plan(c) for c in completions]
        self.completions += len(plans)
        self.failures.update(p.failure for p in plans if p.failure is not None)
        return [float(p.workflow is not None) for p in plans]

    def answer_reward(self, prompts, completions, question_id, **_) -> list[float]:
        return [self.answer(self.plan(c), q) for c, q in zip(completions, question_id)]

    def answer(self, plan: Plan, question_id: str) -> float:
        worker = plan.worker
        if worker is None:
            return 0.0
        return self.answers.score(question_id, worker) - self.cost_weight * self.answers.cost(question_id, worker)

    def parse_failure_rate(self) -> float:
        return sum(self.failures.values()) / self.completions if self.completions else 0.0


def completion_text(completion) -> str:
    """trl passes plain strings, or chat messages for conversational data sets."""
    if isinstance(completion, list):
        return "".join(m.get("content", "") for m in completion if isinstance(m, dict))
    return str(completion)
