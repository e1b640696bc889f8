"""The Conductor's reward on recorded real outcomes: format + the answering worker's recorded correctness.

``format`` is 1 when the completion parses into a workflow valid on the pool (else 0, and the
failure kind is counted); ``answer`` is the recorded score of the last step's worker on that
question (0 for a failed plan), minus ``cost_weight`` × its estimated USD per 1,000 answers
(0 by default: stated in params). Both follow trl's reward signature and read the
``question_id`` column.
"""

from __future__ import annotations

from fugu.conductor.recorded_task import Plan, RecordedAnswers
from fugu.training.workflow_reward import WorkflowReward


class RecordedReward(WorkflowReward):
    """Scores completions against one split's recorded outcomes; counts parse failures by kind."""

    def __init__(self, answers: RecordedAnswers, max_steps: int, cost_weight: float = 0.0):
        super().__init__(answers.n_workers, max_steps)
        self.answers, self.cost_weight = answers, cost_weight

    def answer_reward(self, prompts, completions, question_id, **_) -> list[float]:
        return [self.answer(self.plan(c), q) for c, q in zip(completions, question_id)]

    def answer(self, plan: Plan, question_id: str) -> float:
        worker = plan.worker
        if worker is None:
            return 0.0
        return self.answers.score(question_id, worker) - self.cost_weight * self.answers.cost(question_id, worker)
