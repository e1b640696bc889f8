"""The Conductor's verifiable reward: is the output a runnable workflow, and is its answer right?

Two parts, as in the reference (format + correctness), each in [0, 1], so the total is in
[0, 2]: ``format`` is 1 when the text parses into a workflow that is valid on the pool;
``answer`` is 1 when executing that workflow on the pool yields a final answer the numeric
grader accepts. Reward functions follow trl's signature (``prompts, completions, **columns``)
and read the ``question``, ``question_id`` and ``answer`` columns of the training rows.
"""

from __future__ import annotations

import asyncio

from fugu.conductor.executor import execute
from fugu.conductor.parser import ParseError, parse_workflow
from fugu.data.graders import grade_numeric
from fugu.pools.base import Pool


class WorkflowReward:
    """Scores completions on ``pool``; one instance per training run (it holds the pool)."""

    def __init__(self, pool: Pool, max_steps: int, time_budget_s: float, max_attempts: int = 1):
        self.pool, self.max_steps = pool, max_steps
        self.time_budget_s, self.max_attempts = time_budget_s, max_attempts
        self.n_workers = len(pool.workers)

    def format_reward(self, prompts, completions, **_) -> list[float]:
        return [float(self.parse(c) is not None) for c in completions]

    def answer_reward(self, prompts, completions, question, question_id, answer, **_) -> list[float]:
        return asyncio.run(self._answers(completions, question, question_id, answer))

    def score(self, completion: str, question: str, question_id: str, answer: str) -> dict[str, float]:
        """Both parts for one completion (eval and recursion use this outside trl)."""
        fmt = self.format_reward([None], [completion])[0]
        right = self.answer_reward([None], [completion], [question], [question_id], [answer])[0]
        return {"format": fmt, "answer": right, "total": fmt + right}

    def parse(self, completion: str):
        """The workflow in ``completion`` if it is valid on this pool, else None."""
        try:
            return parse_workflow(_text(completion), self.n_workers, self.max_steps)
        except ParseError:
            return None

    async def _answers(self, completions, questions, question_ids, answers) -> list[float]:
        async def one(completion, question, question_id, answer) -> float:
            workflow = self.parse(completion)
            if workflow is None:
                return 0.0
            run = await execute(workflow, self.pool, question, max_steps=self.max_steps,
                                time_budget_s=self.time_budget_s, max_attempts=self.max_attempts,
                                question_id=question_id)
            return grade_numeric(run.answer, answer) if run.ok else 0.0

        return list(await asyncio.gather(*map(one, completions, questions, question_ids, answers)))


def _text(completion) -> str:
    """trl passes plain strings, or chat messages for conversational data sets."""
    if isinstance(completion, list):
        return "".join(m.get("content", "") for m in completion if isinstance(m, dict))
    return str(completion)


def evaluate_policy(model, tokenizer, rows: list[dict], reward: WorkflowReward, max_new_tokens: int) -> dict[str, float]:
    """Mean format / answer / total reward of the policy's greedy workflows on ``rows``, and how
    many distinct workers it puts last (1 means it ignores the question: a single-worker policy)."""
    from fugu.models.generation import generate

    texts = generate(model, tokenizer, [r["prompt"] for r in rows], max_new_tokens, sample=False)
    scores = [reward.score(t, r["question"], r["question_id"], r["answer"]) for t, r in zip(texts, rows)]
    finals = {w.final_worker() for w in map(reward.parse, texts) if w is not None}
    means = {key: sum(s[key] for s in scores) / len(scores) for key in ("format", "answer", "total")}
    return {**means, "distinct_final_workers": len(finals)}
