"""The Conductor's reward on ToolScale over a live pool: format + the executed workflow's tool calls.

Each completion is read as a workflow (:func:`fugu.conductor.recorded_task.read_plan`: format
reward 1 if valid on the pool), then *executed* on the live pool (:mod:`fugu.conductor.executor`,
every step a real call through the pool, e.g. litellm to vLLM servers or APIs); the tool calls in
the final step's answer are scored against the task's gold actions
(:func:`fugu.conductor.toolscale.action_score`). A failed plan or a failed execution scores 0 on
actions. Max 2, the scale of the reconstruction's logged 1.21 → 1.64. The rewards of one GRPO batch
are executed concurrently (one event loop per batch: trl calls reward functions synchronously).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fugu.conductor.executor import execute
from fugu.conductor.toolscale import ToolTask, action_score, calls_in
from fugu.pools.base import Pool
from fugu.training.workflow_reward import WorkflowReward, completion_text

DESCRIPTION = ("format (1 if the completion parses into a valid workflow on the pool) + the tool-call match of the "
               "executed workflow's final answer with the task's gold evaluation_criteria.actions (0.7 × names: "
               "0.6 recall + 0.4 ordered prefix; 0.3 × arguments; 0 if the plan or its execution fails); max 2. "
               "Not simulated: tool execution and its database state, a user simulator")


@dataclass(frozen=True)
class ExecutionSettings:
    max_steps: int
    time_budget_s: float
    max_attempts: int


class LiveToolScaleReward(WorkflowReward):
    """Scores completions by executing them on ``pool``; counts plan and execution failures by kind."""

    def __init__(self, tasks: list[ToolTask], pool: Pool, settings: ExecutionSettings):
        self.workers = [w.name for w in pool.workers]
        super().__init__(len(self.workers), settings.max_steps)
        self.tasks = {t.task_id: t for t in tasks}
        self.pool, self.settings = pool, settings
        self.worker_calls = 0

    def action_reward(self, prompts, completions, task_id, **_) -> list[float]:
        return self.scores([completion_text(c) for c in completions], list(task_id))

    def scores(self, texts: list[str], task_ids: list[str]) -> list[float]:
        """The action score of each completion's executed workflow on its task (0 for a failure)."""
        return asyncio.run(self._scores(texts, task_ids))

    async def _scores(self, texts: list[str], task_ids: list[str]) -> list[float]:
        return list(await asyncio.gather(*(self._score(t, i) for t, i in zip(texts, task_ids))))

    async def _score(self, text: str, task_id: str) -> float:
        plan = self.plan(text)
        if plan.workflow is None:
            return 0.0
        task = self.tasks[task_id]
        run = await execute(plan.workflow, self.pool, task.question(), max_steps=self.settings.max_steps,
                            time_budget_s=self.settings.time_budget_s, max_attempts=self.settings.max_attempts,
                            workers=self.workers)
        self.worker_calls += len(run.trace)
        if not run.ok or run.answer is None:
            self.failures["execution"] += 1
            return 0.0
        calls = calls_in(run.answer)
        if calls is None:
            self.failures["no_tool_calls"] += 1
            return 0.0
        return action_score(calls, task.gold)
