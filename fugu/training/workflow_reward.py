"""What every Conductor reward shares: each completion read as a workflow on the pool, and the format
reward (1 when it parses into a workflow valid there), with failures counted by kind.

The answer part differs by where the workflow's answer comes from — the recorded outcomes
(:mod:`fugu.training.recorded_reward`) or a live execution (:mod:`fugu.training.toolscale_reward`) —
so each reward subclasses :class:`WorkflowReward` and adds it. The signatures are trl's.
"""

from __future__ import annotations

from collections import Counter

from fugu.conductor.recorded_task import Plan, read_plan


class WorkflowReward:
    """Reads completions as workflows on a pool of ``n_workers``; counts failures by kind."""

    def __init__(self, n_workers: int, max_steps: int):
        self.n_workers, self.max_steps = n_workers, max_steps
        self.failures: Counter[str] = Counter()
        self.completions = 0

    def plan(self, completion) -> Plan:
        return read_plan(completion_text(completion), self.n_workers, self.max_steps)

    def format_reward(self, prompts, completions, **_) -> list[float]:
        plans = [self.plan(c) for c in completions]
        self.completions += len(plans)
        self.failures.update(p.failure for p in plans if p.failure is not None)
        return [float(p.workflow is not None) for p in plans]

    def failure_rate(self) -> float:
        """Failures (of every kind a subclass counts) per completion read by the format reward."""
        return sum(self.failures.values()) / self.completions if self.completions else 0.0


def completion_text(completion) -> str:
    """trl passes plain strings, or chat messages for conversational data sets."""
    if isinstance(completion, list):
        return "".join(m.get("content", "") for m in completion if isinstance(m, dict))
    return str(completion)
