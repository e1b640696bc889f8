"""What one worker call costs through litellm, against the bare HTTP round trip and OpenAI's own
client, measured in-process against the serving benchmark's instant worker.

Why: at 1 client a worker call through litellm is most of what ``fugu serve`` adds besides the
router pass (litellm is kept: it is how fugu reaches any provider). Five ways to make the same
call, one after another in one run, each ``repeats`` times after a warm-up, by wall time (p50,
mean) and by this process's CPU time per call:

    httpx             one POST with a shared ``httpx.AsyncClient``: the floor of any HTTP call
    openai_client     a shared ``openai.AsyncOpenAI``: what an SDK adds to the floor
    litellm_default   ``litellm.acompletion`` to a model litellm has no price for, then
                      ``litellm.completion_cost`` on the reply: how ``LiteLLMPool`` called before
    litellm_client    the same call handing litellm the shared OpenAI client (``client=``)
    pool              ``LiteLLMPool.answer`` as it is built now (litellm's own price of the call,
                      the unpriced model registered at zero: ``fugu.pools.litellm_pool``)

``litellm_default`` and ``litellm_client`` call a worker the pool never registers, so they see
litellm as it comes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

import httpx
import litellm
import numpy as np
import openai

from fugu.pools.litellm_pool import LiteLLMPool, LiteLLMWorker
from fugu.types import Conversation

WARM_UP = 20


async def timed_calls(call: Callable[[], Awaitable[object]], repeats: int) -> dict[str, float]:
    """p50 and mean wall ms, and this process's CPU ms, per call of ``call`` (after a warm-up)."""
    for _ in range(WARM_UP):
        await call()
    walls = []
    cpu_started = time.process_time()
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        walls.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_started) / repeats * 1000
    return {"p50_ms": round(float(np.percentile(walls, 50)), 3), "mean_ms": round(float(np.mean(walls)), 3),
            "cpu_ms": round(cpu_ms, 3), "calls": repeats}


async def call_costs(api_base: str, pool_worker: str, plain_worker: str, conversation: Conversation,
                     repeats: int) -> dict[str, dict[str, float]]:
    """The module docstring's five ways, in its order; ``plain_worker`` must differ from ``pool_worker``."""
    if pool_worker == plain_worker:
        raise ValueError("the plain litellm calls need a worker the pool does not register")
    litellm.suppress_debug_info = True  # as the pool sets it: no banner per unpriced reply
    plain = dict(model=f"openai/{plain_worker}", messages=conversation, api_base=api_base, api_key="local",
                 num_retries=0, timeout=30)
    shared = openai.AsyncOpenAI(base_url=api_base, api_key="local", max_retries=0)

    async def litellm_default() -> None:
        response = await litellm.acompletion(**plain)
        try:
            litellm.completion_cost(completion_response=response)
        except Exception:  # no price: what the pool then did too
            pass

    results = {}
    async with httpx.AsyncClient() as client:
        results["httpx"] = await timed_calls(lambda: client.post(
            f"{api_base}/chat/completions", json={"model": plain_worker, "messages": conversation}), repeats)
    results["openai_client"] = await timed_calls(
        lambda: shared.chat.completions.create(model=plain_worker, messages=conversation), repeats)
    results["litellm_default"] = await timed_calls(litellm_default, repeats)
    results["litellm_client"] = await timed_calls(lambda: litellm.acompletion(
        **{k: v for k, v in plain.items() if k not in ("api_base", "api_key")}, client=shared), repeats)
    pool = LiteLLMPool([LiteLLMWorker(pool_worker, f"openai/{pool_worker}", api_base=api_base, api_key="local")])
    results["pool"] = await timed_calls(lambda: pool.answer(pool_worker, conversation), repeats)
    await shared.close()
    return results


def litellm_findings(costs: dict[str, dict[str, float]]) -> dict[str, float]:
    """The pool's call against litellm as it comes, and litellm's own share over the OpenAI client."""
    pool, default, sdk = costs["pool"], costs["litellm_default"], costs["openai_client"]
    return {"pool_vs_litellm_default_cpu": round(pool["cpu_ms"] / default["cpu_ms"], 3),
            "pool_vs_litellm_default_p50": round(pool["p50_ms"] / default["p50_ms"], 3),
            "cpu_ms_saved_per_call": round(default["cpu_ms"] - pool["cpu_ms"], 3),
            "shared_client_vs_default_cpu": round(costs["litellm_client"]["cpu_ms"] / default["cpu_ms"], 3),
            "litellm_over_openai_client_cpu_ms": round(pool["cpu_ms"] - sdk["cpu_ms"], 3)}


def measure_calls(api_base: str, pool_worker: str, plain_worker: str, conversation: Conversation,
                  repeats: int) -> dict:
    costs = asyncio.run(call_costs(api_base, pool_worker, plain_worker, conversation, repeats))
    return {"variants": costs, "findings": litellm_findings(costs)}
