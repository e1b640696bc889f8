"""Run a workflow over a pool: every step whose inputs are ready runs at once (asyncio).

Each step's worker sees the original question, its own sub-instruction and the outputs of
the steps on its access list, nothing else (that is what the access list is for: the
Conductor decides what context each worker gets). A step whose worker fails is retried on
the next worker of the pool (round robin), up to ``max_attempts`` tries; if it still fails,
the workflow fails with every error reported. The whole workflow has one time budget. The
trace records each attempt (step, worker, start, latency, tokens) for reports and benchmarks.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Sequence

from fugu.conductor.schema import Workflow, validate_workflow
from fugu.pools.base import Pool, Reply
from fugu.types import Message


@dataclass(frozen=True)
class StepTrace:
    step: int
    worker: str
    attempt: int      # 0 = first try
    start_s: float    # seconds since the workflow started
    latency_s: float
    tokens: int
    ok: bool
    error: str | None = None


@dataclass
class Execution:
    """What running a workflow produced. ``answer`` is the last step's output, or None on failure."""

    answer: str | None
    outputs: dict[int, str]
    trace: list[StepTrace]
    wall_s: float
    cost: float
    error: str | None = None
    final_reply: Reply | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None


def step_messages(question: str, instruction: str, readable: dict[int, str],
                  question_id: str | None = None) -> list[Message]:
    """The conversation one step's worker gets: the question, its sub-task, its readable outputs.

    The question is quoted verbatim so offline pools (replay, simulated) can find their record;
    ``question_id`` says it outright where the caller knows it.
    """
    content = f"Task: {question}\n\nYour part: {instruction}"
    if readable:
        shown = "\n".join(f"[step {j}] {text}" for j, text in sorted(readable.items()))
        content += f"\n\nOutputs of earlier steps you may use:\n{shown}"
    message: Message = {"role": "user", "content": content}
    if question_id is not None:
        message["question_id"] = question_id
    return [message]


async def execute(workflow: Workflow, pool: Pool, question: str, *, max_steps: int,
                  time_budget_s: float, max_attempts: int = 2, workers: Sequence[str] | None = None,
                  question_id: str | None = None) -> Execution:
    """Run ``workflow`` for ``question``; worker indices refer to ``workers`` (default: the pool's).

    The workflow is validated first, so a cycle or an unknown worker raises
    :class:`~fugu.conductor.schema.WorkflowError` before any worker is called.
    """
    names = list(workers) if workers is not None else [w.name for w in pool.workers]
    validate_workflow(workflow, len(names), max_steps)
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    run = _Run(workflow, pool, question, question_id, names, max_attempts, time.perf_counter())
    error = None
    try:
        async with asyncio.timeout(time_budget_s):
            error = await run.all_steps()
    except TimeoutError:
        error = f"time budget of {time_budget_s:g} s exceeded with steps {sorted(run.running)} still running"
    finally:
        await run.cancel_pending()
    last = len(workflow.steps) - 1
    answer = run.outputs.get(last) if error is None else None
    return Execution(answer=answer, outputs=dict(run.outputs), trace=sorted(run.trace, key=lambda t: t.start_s),
                     wall_s=time.perf_counter() - run.t0, cost=run.cost, error=error,
                     final_reply=run.replies.get(last) if error is None else None)


def execute_sync(workflow: Workflow, pool: Pool, question: str, **kwargs) -> Execution:
    """:func:`execute` from synchronous code (not from inside a running event loop)."""
    return asyncio.run(execute(workflow, pool, question, **kwargs))


class _Run:
    """The mutable state of one execution; kept out of the public API."""

    def __init__(self, workflow: Workflow, pool: Pool, question: str, question_id: str | None,
                 names: list[str], max_attempts: int, t0: float):
        self.workflow, self.pool, self.question, self.question_id = workflow, pool, question, question_id
        self.names, self.max_attempts, self.t0 = names, max_attempts, t0
        self.outputs: dict[int, str] = {}
        self.replies: dict[int, Reply] = {}
        self.trace: list[StepTrace] = []
        self.cost = 0.0
        self.tasks: dict[asyncio.Task, int] = {}

    @property
    def running(self) -> set[int]:
        return set(self.tasks.values())

    async def all_steps(self) -> str | None:
        """Start every ready step, wait for any to finish, repeat; the first failure ends it."""
        started: set[int] = set()
        while True:
            for i, step in enumerate(self.workflow.steps):
                if i not in started and all(j in self.outputs for j in step.access):
                    started.add(i)
                    self.tasks[asyncio.create_task(self.one_step(i))] = i
            if not self.tasks:
                return None
            done, _ = await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                i = self.tasks.pop(task)
                failure = task.result()
                if failure is not None:
                    return failure

    async def one_step(self, i: int) -> str | None:
        """Run step ``i`` with retries; store its output, or return why it failed."""
        step = self.workflow.steps[i]
        readable = {j: self.outputs[j] for j in step.access}
        messages = step_messages(self.question, step.instruction, readable, self.question_id)
        errors = []
        for attempt in range(self.max_attempts):
            worker = self.names[(step.worker + attempt) % len(self.names)]
            start = time.perf_counter()
            try:
                reply = await self.pool.answer(worker, [dict(m) for m in messages])
            except Exception as exc:  # any worker failure is retried, never fatal to the caller
                errors.append(f"{worker}: {exc}")
                self._record(i, worker, attempt, start, tokens=0, error=str(exc))
                continue
            self._record(i, worker, attempt, start, tokens=_tokens(reply), error=None)
            self.cost += reply.cost
            self.outputs[i] = reply.text
            self.replies[i] = reply
            return None
        return f"step {i} failed after {self.max_attempts} attempt(s): " + "; ".join(errors)

    def _record(self, i: int, worker: str, attempt: int, start: float, tokens: int, error: str | None) -> None:
        self.trace.append(StepTrace(step=i, worker=worker, attempt=attempt, start_s=start - self.t0,
                                    latency_s=time.perf_counter() - start, tokens=tokens,
                                    ok=error is None, error=error))

    async def cancel_pending(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()


def _tokens(reply: Reply) -> int:
    usage = reply.usage or {}
    if "total_tokens" in usage:
        return int(usage["total_tokens"])
    return int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
