"""Ultra mode: the Conductor writes a workflow over the pool, and its last step's output answers.

Kept out of the routing path on purpose: any failure here (a plan that does not parse, a run
that errs or gives an unusable answer) returns None, and the service answers by routing
instead — the client asked a question, not for a particular strategy.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from fugu.conductor.executor import execute
from fugu.pools.base import Pool, Reply
from fugu.serving.config import ServeConfig
from fugu.serving.fallback import usable
from fugu.types import Message

log = logging.getLogger(__name__)


class Planner(Protocol):
    """What ultra mode needs of a Conductor (``fugu.conductor.ultra.UltraConductor``)."""

    def plan(self, question: str, n_workers: int, max_steps: int) -> Any: ...


async def conductor_reply(conductor: Planner, pool: Pool, conversation: list[Message],
                          config: ServeConfig) -> Reply | None:
    """The workflow's answer, or None (with the reason logged) when the plan or its run fails."""
    question = next((m["content"] for m in reversed(conversation) if m["role"] == "user"), None)
    if question is None:
        return None
    plan = await asyncio.to_thread(conductor.plan, question, len(pool.workers), config.ultra_max_steps)
    if plan.workflow is None:
        log.warning("conductor plan did not parse (%s); routing instead", plan.error)
        return None
    run = await execute(plan.workflow, pool, question, max_steps=config.ultra_max_steps,
                        time_budget_s=config.ultra_time_budget_s, max_attempts=config.max_attempts)
    if not run.ok or run.final_reply is None or not usable(run.answer):
        log.warning("conductor workflow failed (%s); routing instead", run.error or "unusable answer")
        return None
    return run.final_reply
