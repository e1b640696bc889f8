"""Executor speed: how much independent steps overlap, and the executor's own overhead.

    python -m benchmarks.conductor_executor [--delay-ms 50] [--width 8] [--repeats 5]

- *fan-out*: ``width`` independent steps plus one step reading them all, over a fake pool
  whose every call sleeps ``delay_ms``. Sequential execution would take (width + 1) × delay;
  a fully concurrent executor takes 2 × delay. Reports the measured wall time and speedup.
- *overhead*: a chain of steps over a pool that answers instantly: microseconds of executor
  bookkeeping (scheduling, messages, trace) per step.
Writes benchmarks/results/conductor_executor.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from benchmarks.results import write_result
from fugu.conductor.executor import execute
from fugu.conductor.schema import Step, Workflow
from fugu.pools.base import Reply, Worker


class SleepingPool:
    def __init__(self, n_workers: int, delay_s: float):
        self._workers = [Worker(f"w{i}") for i in range(n_workers)]
        self.delay_s = delay_s

    @property
    def workers(self) -> list[Worker]:
        return list(self._workers)

    async def answer(self, worker, messages):
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return Reply(worker=worker, text="42", usage={"total_tokens": 1})


def fan_out(width: int) -> Workflow:
    steps = [Step(worker=i % 4, instruction="solve") for i in range(width)]
    return Workflow(steps=steps + [Step(worker=0, instruction="combine", access=list(range(width)))])


def chain(length: int) -> Workflow:
    return Workflow(steps=[Step(worker=0, instruction="go", access=[i - 1] if i else []) for i in range(length)])


def _wall(workflow: Workflow, pool: SleepingPool, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run = asyncio.run(execute(workflow, pool, "q", max_steps=len(workflow.steps), time_budget_s=60))
        times.append(time.perf_counter() - started)
        assert run.ok, run.error
    return statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conductor_executor", description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--chain", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the benchmark runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.width, args.chain, args.repeats = 2, 4, 1
    delay = args.delay_ms / 1000
    fan_wall = _wall(fan_out(args.width), SleepingPool(4, delay), args.repeats)
    chain_wall = _wall(chain(args.chain), SleepingPool(4, 0.0), args.repeats)
    result = {
        "fan_out": {"width": args.width, "delay_ms": args.delay_ms, "wall_ms": 1000 * fan_wall,
                    "sequential_ms": 1000 * (args.width + 1) * delay, "ideal_ms": 2000 * delay,
                    "speedup_vs_sequential": (args.width + 1) * delay / fan_wall},
        "overhead": {"steps": args.chain, "us_per_step": 1e6 * chain_wall / args.chain},
        "repeats": args.repeats,
    }
    out = write_result("conductor_executor", result, args.quick)
    print(json.dumps(result, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
