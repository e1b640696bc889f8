"""Ultra mode: the Conductor writes a workflow over the pool, and its last step's output answers.

Kept out of the routing path on purpose: any failure here raises ``NoWorkflow`` with its reason,
and the service answers by routing instead (counting the reason in ``/metrics``) — the client
asked a question, not for a particular strategy.

The plan is bounded like a router pass (``fugu.serving.admission.PassLane``): it is generated
in a thread of its own, at most ``conductor_concurrency`` at once — a request that finds none
free is routed at once rather than queued (a plan is dozens of forward passes: a wait would
cost more than routing does) — and with a deadline of its own (``conductor_timeout_s``). The
generation is asked to stop between tokens when that deadline passes or the client leaves, so
no plan outlives its request by more than a token; the Conductor reads a bounded window of a
long question (``fugu.conductor.ultra``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Protocol

from fugu.conductor.executor import execute
from fugu.pools.base import Pool, Reply
from fugu.serving.admission import PassLane, PassRefused
from fugu.serving.config import ServeConfig
from fugu.serving.fallback import usable
from fugu.types import Message

log = logging.getLogger(__name__)


class Planner(Protocol):
    """What ultra mode needs of a Conductor (``fugu.conductor.ultra.UltraConductor``): a plan,
    whose writing ends early once ``stop()`` returns True."""

    def plan(self, question: str, n_workers: int, max_steps: int, stop: Callable[[], bool] | None = None) -> Any: ...


class NoWorkflow(Exception):
    """Ultra mode gave no answer (``reason``, counted in /metrics): conductor_busy, conductor_timeout,
    conductor_error, plan_unparsed, workflow_failed or no_question."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


async def conductor_reply(conductor: Planner, lane: PassLane, pool: Pool, conversation: list[Message],
                          config: ServeConfig) -> Reply:
    """The workflow's answer; NoWorkflow saying why when the plan or its run fails."""
    question = next((m["content"] for m in reversed(conversation) if m["role"] == "user"), None)
    if question is None:
        raise NoWorkflow("no_question")
    abandoned = threading.Event()  # set by the lane when its deadline passes or the client leaves
    try:
        plan = await lane.run(lambda: conductor.plan(question, len(pool.workers), config.ultra_max_steps,
                                                     stop=abandoned.is_set),
                              config.conductor_timeout_s, queue=False, abandon=abandoned.set)
    except PassRefused as why:
        raise NoWorkflow(f"conductor_{why.reason}") from None
    except Exception as exc:
        raise NoWorkflow("conductor_error", f"{type(exc).__name__}: {exc}") from exc
    if plan.workflow is None:
        raise NoWorkflow("plan_unparsed", str(plan.error))
    run = await execute(plan.workflow, pool, question, max_steps=config.ultra_max_steps,
                        time_budget_s=config.ultra_time_budget_s, max_attempts=config.max_attempts)
    if not run.ok or run.final_reply is None or not usable(run.answer):
        raise NoWorkflow("workflow_failed", run.error or "unusable answer")
    return run.final_reply
