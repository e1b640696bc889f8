"""A synthetic sample in nvidia/ToolScale's record format, and a stand-in pool that answers its tasks.

Written for the tests and the GPU check (scripts/gpu_check.py), which is why it lives in the
package; no ToolScale record is copied (its licence on the hub is not Apache). The records have
ToolScale's fields (``id``, ``user_scenario.instructions``, ``initial_state``,
``evaluation_criteria.actions``) and label themselves ``stand_in``, which the metrics repeat.

:class:`StandInToolPool` is a STAND-IN for live workers, served over HTTP by the local worker server
in the tests and the GPU check: worker ``exact`` replies with the task's gold calls, ``first_only``
with the first gold call, ``unrelated`` with a call no task uses — so a workflow's reward depends on whom it asks.
"""

from __future__ import annotations

import json
from pathlib import Path

from fugu.pools.base import PoolError, Reply, Worker

STAND_IN_LABEL = "synthetic sample written for the tests (fugu/conductor/toolscale_stand_in.py)"
PARCELS = ["PX-1001", "PX-2002", "PX-3003", "PX-4004", "PX-5005", "PX-6006", "PX-7007", "PX-8008"]


def synthetic_records(n: int = 8) -> list[dict]:
    """``n`` parcel-desk tasks in ToolScale's shape: look a parcel up, then reroute or cancel it."""
    records = []
    for i in range(n):
        parcel = PARCELS[i % len(PARCELS)]
        second = ({"name": "reroute_parcel", "arguments": {"parcel_id": parcel, "city": "Lyon"}} if i % 2 == 0
                  else {"name": "cancel_parcel", "arguments": {"parcel_id": parcel, "reason": "duplicate"}})
        want = "send it to Lyon instead" if i % 2 == 0 else "cancel it, it was ordered twice"
        records.append({
            "id": f"parcel_desk_{i}",
            "stand_in": STAND_IN_LABEL,
            "description": {"purpose": "synthetic parcel desk task"},
            "user_scenario": {"persona": "a customer", "instructions": {
                "domain": "parcel_desk", "reason_for_call": f"My parcel {parcel} is wrong.",
                "task_instructions": f"Find parcel {parcel} and {want}."}},
            "initial_state": {"parcels": {parcel: {"city": "Paris", "status": "in_transit"}}},
            "evaluation_criteria": {"actions": [
                {"action_id": f"{i}_0", "name": "find_parcel", "arguments": {"parcel_id": parcel}}, second],
                "communicate_info": [], "nl_assertions": []},
        })
    return records


def write_sample(directory: Path, n: int = 8, broken: bool = True) -> Path:
    """The sample as JSON lines; with ``broken``, one record without gold actions and one line not JSON."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in synthetic_records(n)]
    if broken:
        lines.insert(1, json.dumps({"id": "no_actions_here", "user_scenario": {"instructions": "hi"},
                                    "evaluation_criteria": {"actions": []}}))
        lines.insert(3, "{this is not json")
    path = directory / "records.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


class StandInToolPool:
    """STAND-IN workers for the synthetic tasks (see the module docstring); finds the task by its request."""

    def __init__(self, records: list[dict]):
        self.gold = {r["user_scenario"]["instructions"]["task_instructions"]: r["evaluation_criteria"]["actions"]
                     for r in records}

    @property
    def workers(self) -> list[Worker]:
        return [Worker("exact"), Worker("first_only"), Worker("unrelated")]

    async def answer(self, worker: str, messages, **options) -> Reply:
        text = messages[-1]["content"]
        gold = next((calls for request, calls in self.gold.items() if request in text), None)
        if gold is None:  # the start-up probe, or a question of no task
            return Reply(worker=worker, text="OK")
        calls = {"exact": gold, "first_only": gold[:1],
                 "unrelated": [{"name": "send_coupon", "arguments": {"amount": 5}}]}.get(worker)
        if calls is None:
            raise PoolError(f"no worker {worker!r}")
        plain = [{"name": c["name"], "arguments": c["arguments"]} for c in calls]
        return Reply(worker=worker, text=f"Here are the calls: {json.dumps(plain)}")
