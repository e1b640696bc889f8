"""Is every worker of a live pool answering? Asked once, before training, of all workers at once.

GRPO over a live pool calls every worker thousands of times; a worker that is down at the start
(a vLLM server not yet up, a wrong port, a missing API key) would otherwise show up as a reward of 0
for every workflow that asks it — an hour later, as a curve that does not learn. So the stage asks
each worker for one token first, concurrently, and stops naming every worker that did not answer.
"""

from __future__ import annotations

import asyncio

from fugu.pools.base import Pool

PING = [{"role": "user", "content": "Reply with OK."}]


class PoolDown(RuntimeError):
    """One or more workers did not answer the start-up probe; the message names each and why."""


async def _probe(pool: Pool, worker: str, timeout_s: float) -> str | None:
    try:
        async with asyncio.timeout(timeout_s):
            await pool.answer(worker, PING, max_tokens=1)
    except Exception as exc:  # every failure is a reason to report, not to raise from here
        return f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return None


async def _probe_all(pool: Pool, timeout_s: float) -> dict[str, str]:
    names = [w.name for w in pool.workers]
    errors = await asyncio.gather(*(_probe(pool, name, timeout_s) for name in names))
    return {name: error for name, error in zip(names, errors) if error is not None}


def require_live(pool: Pool, timeout_s: float = 30.0, where: str = "the worker pool") -> list[str]:
    """The workers' names if all answered; else PoolDown naming every one that did not, and why."""
    down = asyncio.run(_probe_all(pool, timeout_s))
    if down:
        lines = "\n".join(f"- {name}: {error}" for name, error in down.items())
        raise PoolDown(f"{len(down)} of {len(pool.workers)} workers of {where} did not answer before training "
                       f"started (start them, or fix their api_base / key):\n{lines}")
    return [w.name for w in pool.workers]
