"""The Conductor's workflow: a small DAG of steps over the worker pool, declared once.

A workflow is an ordered list of steps. Each step names a worker (an index into the pool
the Conductor was shown, so one policy works over whatever pool is on offer), the
sub-instruction that worker gets, and its *access list*: the earlier steps whose outputs it
may read. Steps with disjoint inputs are independent and run concurrently; the last step's
output is the answer. Example (two workers solve independently, a third reconciles)::

    {"steps": [
      {"worker": 0, "instruction": "Solve the problem.", "access": []},
      {"worker": 2, "instruction": "Solve the problem.", "access": []},
      {"worker": 1, "instruction": "Compare both solutions and give the final answer.",
       "access": [0, 1]}
    ]}

The pydantic models check shape and types only; :func:`validate_workflow` checks meaning
against a pool (unknown worker, self / forward reference, cycle, size) because those depend
on the pool and on the ``max_steps`` knob, and each gets its own :class:`WorkflowError` kind.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

ErrorKind = Literal["empty", "too_many_steps", "unknown_worker", "self_reference",
                    "cycle", "forward_reference"]


class WorkflowError(ValueError):
    """A workflow that is well-formed but means something impossible; ``kind`` says what."""

    def __init__(self, kind: ErrorKind, message: str, step: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.step = step


class Step(BaseModel):
    # Strict: "1" is not a worker and an unknown key is a mistake, not something to ignore.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    worker: StrictInt = Field(ge=0, description="index into the pool shown to the Conductor")
    instruction: StrictStr = Field(min_length=1, description="the sub-task this worker gets")
    access: list[Annotated[StrictInt, Field(ge=0)]] = Field(default_factory=list, description="earlier steps whose outputs it reads")


class Workflow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    steps: list[Step]

    def to_json(self) -> str:
        """The text form a Conductor emits (and :func:`fugu.conductor.parser.parse_workflow` reads)."""
        return self.model_dump_json()

    def final_worker(self) -> int:
        return self.steps[-1].worker


def validate_workflow(workflow: Workflow, n_workers: int, max_steps: int) -> Workflow:
    """``workflow`` unchanged if it can run on a pool of ``n_workers``; else a WorkflowError.

    Checked in an order that names the most specific fault: a step reading itself is a
    self reference, a loop through several steps is a cycle, and a step reading a later
    step without any loop is a forward reference (still refused: the order of the list is
    the order the Conductor meant, and the last step must be the answer).
    """
    steps = workflow.steps
    if not steps:
        raise WorkflowError("empty", "the workflow has no steps; it needs at least one (the last step is the answer)")
    if len(steps) > max_steps:
        raise WorkflowError("too_many_steps", f"the workflow has {len(steps)} steps; at most {max_steps} are allowed")
    for i, step in enumerate(steps):
        if step.worker >= n_workers:
            raise WorkflowError("unknown_worker", f"step {i} names worker {step.worker}, but the pool has "
                                f"{n_workers} workers (0..{n_workers - 1})", step=i)
        if i in step.access:
            raise WorkflowError("self_reference", f"step {i} lists itself in its access list", step=i)
        missing = [j for j in step.access if j >= len(steps)]
        if missing:
            raise WorkflowError("forward_reference", f"step {i} reads step {missing[0]}, which does not exist "
                                f"(the workflow has {len(steps)} steps)", step=i)
    cycle = _find_cycle([step.access for step in steps])
    if cycle:
        path = " -> ".join(map(str, cycle))
        raise WorkflowError("cycle", f"steps read each other in a cycle: {path}", step=cycle[0])
    for i, step in enumerate(steps):
        later = [j for j in step.access if j > i]
        if later:
            raise WorkflowError("forward_reference", f"step {i} reads step {later[0]}, which comes after it; "
                                "a step may only read earlier steps", step=i)
    return workflow


def _find_cycle(reads: list[list[int]]) -> list[int] | None:
    """A cycle in the 'reads' graph as a closed path [a, b, ..., a], or None (iterative DFS)."""
    state = [0] * len(reads)  # 0 unseen, 1 on the current path, 2 done
    for root in range(len(reads)):
        if state[root]:
            continue
        path, iters = [root], [iter(reads[root])]
        state[root] = 1
        while path:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
            elif state[nxt] == 1:
                return path[path.index(nxt):] + [nxt]
            elif state[nxt] == 0:
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(reads[nxt]))
    return None
