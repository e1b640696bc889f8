"""Executor: real overlap of independent steps, enforced access lists, retries, budget."""

import asyncio

import pytest

from fugu.conductor.executor import execute_sync, step_messages
from fugu.conductor.schema import Step, Workflow, WorkflowError
from fugu.pools.base import PoolError, Reply, Worker


class SlowEchoPool:
    """Each worker sleeps, then answers with its name and the step outputs it was shown."""

    def __init__(self, n: int = 3, delay_s: float = 0.2, failing: frozenset[str] = frozenset()):
        self._workers = [Worker(f"w{i}", cost_per_call=1.0) for i in range(n)]
        self.delay_s, self.failing = delay_s, failing
        self.calls: list[tuple[str, str]] = []

    @property
    def workers(self) -> list[Worker]:
        return list(self._workers)

    async def answer(self, worker, messages):
        self.calls.append((worker, messages[-1]["content"]))
        await asyncio.sleep(self.delay_s)
        if worker in self.failing:
            raise PoolError(f"{worker} is down")
        seen = [line for line in messages[-1]["content"].splitlines() if line.startswith("[step")]
        return Reply(worker=worker, text=f"<{worker}>" + "|".join(seen), cost=1.0,
                     usage={"prompt_tokens": 3, "completion_tokens": 2})


def wf(*steps: tuple[int, list[int]]) -> Workflow:
    return Workflow(steps=[Step(worker=w, instruction=f"part {i}", access=a) for i, (w, a) in enumerate(steps)])


def run(workflow, pool, **kw):
    kw = {"max_steps": 8, "time_budget_s": 10.0, **kw}
    return execute_sync(workflow, pool, "What is 2 + 2?", **kw)


def test_independent_steps_overlap_in_time():
    pool = SlowEchoPool(delay_s=0.3)
    result = run(wf((0, []), (1, []), (2, []), (0, [0, 1, 2])), pool)
    first = [t for t in result.trace if t.step < 3]
    assert max(t.start_s for t in first) < min(t.start_s + t.latency_s for t in first)
    final = next(t for t in result.trace if t.step == 3)
    assert final.start_s >= max(t.start_s + t.latency_s for t in first)


def test_dependent_steps_wait_for_their_inputs():
    result = run(wf((0, []), (1, [0]), (2, [1])), SlowEchoPool(delay_s=0.05))
    starts = [t.start_s for t in result.trace]
    ends = [t.start_s + t.latency_s for t in result.trace]
    assert starts[1] >= ends[0] and starts[2] >= ends[1]


def test_each_step_sees_only_its_access_list():
    pool = SlowEchoPool(delay_s=0.0)
    result = run(wf((0, []), (1, []), (2, [1])), pool)
    assert result.answer == "<w2>[step 1] <w1>"
    shown_to_last = pool.calls[-1][1]
    assert "<w1>" in shown_to_last and "<w0>" not in shown_to_last and "[step 0]" not in shown_to_last


def test_cycle_is_rejected_before_any_worker_is_called():
    pool = SlowEchoPool()
    with pytest.raises(WorkflowError, match="cycle"):
        run(wf((0, [1]), (1, [0])), pool)
    assert pool.calls == []


def test_failing_step_is_retried_on_the_next_worker():
    pool = SlowEchoPool(delay_s=0.0, failing=frozenset({"w1"}))
    result = run(wf((1, [])), pool, max_attempts=2)
    assert result.ok and result.answer.startswith("<w2>")
    assert [(t.worker, t.ok) for t in result.trace] == [("w1", False), ("w2", True)]


def test_step_failing_every_attempt_is_reported_not_raised():
    pool = SlowEchoPool(delay_s=0.0, failing=frozenset({"w0", "w1", "w2"}))
    result = run(wf((0, []), (1, [0])), pool, max_attempts=3)
    assert not result.ok and result.answer is None
    assert "step 0 failed after 3 attempt(s)" in result.error and "w2 is down" in result.error


def test_time_budget_stops_the_workflow():
    result = run(wf((0, []), (1, [0])), SlowEchoPool(delay_s=0.5), time_budget_s=0.2)
    assert not result.ok and "time budget" in result.error
    assert result.wall_s < 0.5


def test_trace_records_tokens_and_cost():
    result = run(wf((0, []), (1, [0])), SlowEchoPool(delay_s=0.0))
    assert [t.tokens for t in result.trace] == [5, 5]
    assert result.cost == 2.0


def test_worker_indices_refer_to_the_pool_shown():
    result = run(wf((0, [])), SlowEchoPool(delay_s=0.0), workers=["w2", "w1"])
    assert result.answer.startswith("<w2>")


def test_step_messages_quote_the_question_and_id():
    [message] = step_messages("Q?", "solve", {}, question_id="q-1")
    assert message["content"].startswith("Task: Q?") and message["question_id"] == "q-1"
