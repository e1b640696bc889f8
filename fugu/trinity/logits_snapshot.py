"""A logits snapshot: another implementation's per-case agent/role logits, and how close ours are.

The reference snapshot (``qwen_router_prompt_eval_logits.json``, from the public port
nshkrdotcom/trinity_coordinator, ``schema_version`` 1) records, for each of the 37 fixture
cases, ``id``, ``agent_id``, ``role_id``, ``token_count``, ``agent_margin``, ``role_margin``
(top-1 minus top-2 logit) and ``agent_logits_rounded`` / ``role_logits_rounded`` (6 decimals),
from the released vector on Qwen3-0.6B. It is a stronger check than the fixture's labels:
labels only say which argmax won, logits say by how much, so a near-tie that flips under
round-off is visible.

What it is not: ground truth. The port writes that its raw logits drift across CUDA launches
while the argmax stays stable, and it asserts decisions, token counts and margin floors
(0.24 agent, 1.06 role: 80% of the worst margins it observed), never raw logits. So the
comparison reports both: decisions and token counts (exact), logits (within a stated absolute
tolerance), and the margins on either side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

SCHEMA_VERSION = 1


class SnapshotError(ValueError):
    """A logits snapshot that is not in the port's format; the message names the file and case."""


@dataclass(frozen=True)
class SnapshotCase:
    id: str
    agent_id: int
    role_id: int
    token_count: int | None
    agent_logits: np.ndarray  # [n_agents]
    role_logits: np.ndarray   # [n_roles]


def load_snapshot(path: str | Path) -> dict[str, SnapshotCase]:
    """{case id: case} from a schema-version-1 snapshot; SnapshotError naming the file (and case)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        found = doc.get("schema_version") if isinstance(doc, dict) else type(doc).__name__
        raise SnapshotError(f"{path}: expected a logits snapshot with schema_version {SCHEMA_VERSION}, got {found!r}")
    if not isinstance(doc.get("cases"), list) or not doc["cases"]:
        raise SnapshotError(f"{path}: expected a non-empty 'cases' list")
    cases: dict[str, SnapshotCase] = {}
    for i, raw in enumerate(doc["cases"]):
        name = raw.get("id", f"#{i}") if isinstance(raw, dict) else f"#{i}"
        try:
            case = SnapshotCase(
                id=str(raw["id"]), agent_id=int(raw["agent_id"]), role_id=int(raw["role_id"]),
                token_count=None if raw.get("token_count") is None else int(raw["token_count"]),
                agent_logits=np.asarray(raw["agent_logits_rounded"], dtype=np.float64),
                role_logits=np.asarray(raw["role_logits_rounded"], dtype=np.float64),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"{path}: case {name!r} is malformed ({exc!r}); needs id, agent_id, role_id, "
                                "agent_logits_rounded, role_logits_rounded") from exc
        if case.agent_logits.ndim != 1 or case.role_logits.ndim != 1 or not (
                np.isfinite(case.agent_logits).all() and np.isfinite(case.role_logits).all()):
            raise SnapshotError(f"{path}: case {name!r}: logits must be flat lists of finite numbers")
        if case.id in cases:
            raise SnapshotError(f"{path}: case id {case.id!r} repeats")
        cases[case.id] = case
    return cases


def top_margin(logits: np.ndarray) -> np.ndarray:
    """[batch] top-1 minus top-2 of each row (the port's margin)."""
    top2 = np.sort(np.asarray(logits, dtype=np.float64), axis=-1)[..., -2:]
    return top2[..., 1] - top2[..., 0]


def compare_to_snapshot(case_ids: Sequence[str], agent_logits: np.ndarray, role_logits: np.ndarray,
                        token_counts: Sequence[int], snapshot: Mapping[str, SnapshotCase],
                        tolerance: float, snapshot_name: str = "snapshot") -> dict[str, Any]:
    """How our logits ([n, n_agents], [n, n_roles]) on ``case_ids`` compare with the snapshot's.

    Every case must be in the snapshot with logits of our shape (else SnapshotError naming it):
    a missing case would make "all within tolerance" vacuous. ``within_tolerance`` is the
    fraction of cases whose every agent and role logit lies within ``tolerance`` (absolute).
    """
    missing = [c for c in case_ids if c not in snapshot]
    if missing:
        raise SnapshotError(f"{snapshot_name}: no logits for {len(missing)} fixture cases, e.g. {missing[:3]}")
    theirs = [snapshot[c] for c in case_ids]
    for case, ours_a, ours_r in zip(theirs, agent_logits, role_logits):
        if case.agent_logits.shape != ours_a.shape or case.role_logits.shape != ours_r.shape:
            raise SnapshotError(f"{snapshot_name}: case {case.id!r} has {case.agent_logits.size} agent / "
                                f"{case.role_logits.size} role logits; the coordinator has {ours_a.size} / {ours_r.size}")
    their_agent = np.stack([c.agent_logits for c in theirs])
    their_role = np.stack([c.role_logits for c in theirs])
    diff = np.concatenate([np.abs(agent_logits - their_agent), np.abs(role_logits - their_role)], axis=1)  # [n, a + r]
    counted = [(ours, c.token_count) for ours, c in zip(token_counts, theirs) if c.token_count is not None]
    report = {
        "n_cases": len(case_ids),
        "tolerance": float(tolerance),
        "max_abs_diff": float(diff.max()),
        "median_abs_diff": float(np.median(diff)),
        "within_tolerance": float(np.mean(diff.max(axis=1) <= tolerance)),
        "agent_agreement": float(np.mean(agent_logits.argmax(1) == [c.agent_id for c in theirs])),
        "role_agreement": float(np.mean(role_logits.argmax(1) == [c.role_id for c in theirs])),
        "min_agent_margin": {"ours": float(top_margin(agent_logits).min()), "theirs": float(top_margin(their_agent).min())},
        "min_role_margin": {"ours": float(top_margin(role_logits).min()), "theirs": float(top_margin(their_role).min())},
    }
    if counted:  # the snapshot records how many tokens the port's router read
        report["token_count_agreement"] = float(np.mean([ours == theirs for ours, theirs in counted]))
    return report
