"""The self-test: a TRINITY coordinator loaded with a parameter vector routes a fixture of known choices.

The released vector on the reference fixture (claims selftest-agent, selftest-role), or at
reduced scale a vector planted by least squares on the fixture's *training* cases
(:func:`plant_vector`, :mod:`fugu.trinity.planting`) scored on its held-out ones.
:func:`compare_tied_readings`: our agent/role logits against the port's logits snapshot under
each reading of a tied embed/lm_head pair (claim selftest-logits; fugu/trinity/svf.py).
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fugu.models.backbone import Backbone
from fugu.stats.estimate import Resamples, mean, pooled_estimate
from fugu.trinity.coordinator import Trinity
from fugu.trinity.fixture import FixtureCase
from fugu.trinity.logits_snapshot import compare_to_snapshot, load_snapshot
from fugu.trinity.planting import plant_head
from fugu.trinity.spec import TrinitySpec
from fugu.trinity.svf import TIED_VARIANTS
from fugu.trinity.vector import save_vector


def plant_vector(trinity: Trinity, train: list[FixtureCase], path: Path, seed: int, svf_sigma: float,
                 ridge: float) -> Path:
    """Seeded SVF offsets ~ N(0, ``svf_sigma``), then the least-squares head on the training cases'
    hidden states under them; saved at ``path`` in the reference layout."""
    layout = trinity.layout
    svf = np.random.default_rng(seed).normal(0.0, svf_sigma, layout.n_svf).astype(np.float32)
    hidden = trinity.hidden_states([c.messages for c in train], svf)
    head = plant_head(hidden, [c.agent_id for c in train], [c.role_id for c in train],
                      layout.n_agents, layout.n_roles, ridge=ridge)
    return save_vector(path, layout.pack(svf, head), layout)


def route_cases(trinity: Trinity, cases: list[FixtureCase], vector: np.ndarray) -> list[dict[str, Any]]:
    """One row per case: the expected and the chosen worker and role, whether each matches, the top agent score."""
    for case in cases:
        if not (0 <= case.agent_id < len(trinity.workers) and 0 <= case.role_id < len(trinity.roles)):
            raise ValueError(f"fixture case {case.id!r} expects agent {case.agent_id} / role {case.role_id}, "
                             f"outside {len(trinity.workers)} workers / {len(trinity.roles)} roles")
    decisions = trinity.decide([c.messages for c in cases], vector)
    rows = []
    for case, decision in zip(cases, decisions):
        expected_worker, expected_role = trinity.workers[case.agent_id], trinity.roles[case.role_id]
        rows.append({
            "id": case.id, "expected_worker": expected_worker, "worker": decision.worker,
            "expected_role": expected_role, "role": decision.role,
            "agent_ok": decision.worker == expected_worker, "role_ok": decision.role == expected_role,
            "top_agent_score": max(decision.agent_scores.values()),
        })
    return rows


def write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    """The rows of :func:`route_cases` as CSV, columns in row order."""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def case_accuracies(rows: list[dict[str, Any]], n_resamples: int, seed: int, level: float) -> dict[str, Any]:
    """Agent and role accuracy over the routed cases, each an estimate record. No training run
    happens here (least squares is closed-form), so the interval resamples the cases only."""
    draw = Resamples.draw(len(rows), 1, n_resamples, seed, level)
    accuracy = lambda key: pooled_estimate(mean, [np.array([float(r[key]) for r in rows])], draw, [seed])  # noqa: E731
    return {"agent_accuracy": accuracy("agent_ok"), "role_accuracy": accuracy("role_ok")}


def compare_tied_readings(spec: TrinitySpec, backbone: Backbone, cases: list[FixtureCase], vector: np.ndarray,
                          snapshot_path: Path, tolerance: float, margin_floors: dict[str, float]) -> dict[str, Any]:
    """Our logits vs the snapshot's under each reading of a tied embed/lm_head pair (fugu/trinity/svf.py).

    ``matching_readings`` lists those whose every case lies within ``tolerance``; ``closest_reading``
    is the one with the smallest largest difference. Margins are checked against the port's floors
    (``margin_floors``: agent, role). Each reading adapts the base weights afresh and restores them."""
    snapshot = load_snapshot(snapshot_path)
    tolerance, floors = float(tolerance), dict(margin_floors)
    conversations, ids = [c.messages for c in cases], [c.id for c in cases]
    readings = {}
    for tied in TIED_VARIANTS:
        trinity = replace(spec, tied_embeddings=tied).build(backbone)
        agent, role = trinity.scores(conversations, vector)
        tokens, _ = trinity.prompt_ids(conversations)
        readings[tied] = compare_to_snapshot(ids, agent, role, [len(t) for t in tokens], snapshot, tolerance,
                                             snapshot_name=str(snapshot_path))
        trinity.svf.restore()  # the next reading starts from the base weights
    closest = min(readings, key=lambda t: readings[t]["max_abs_diff"])
    return {
        "tolerance": tolerance,
        "readings": readings,
        "matching_readings": [t for t in TIED_VARIANTS if readings[t]["within_tolerance"] == 1.0],
        "closest_reading": closest,
        "best_within_tolerance": max(r["within_tolerance"] for r in readings.values()),
        "margin_floors": floors,
        "margins_above_floors": bool(readings[spec.tied_embeddings]["min_agent_margin"]["ours"] >= floors["agent"]
                                     and readings[spec.tied_embeddings]["min_role_margin"]["ours"] >= floors["role"]),
    }
