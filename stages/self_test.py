"""self_test: a TRINITY coordinator loaded with a parameter vector routes a fixture.

Full profile: the released vector on the reference fixture (claims selftest-agent 95%,
selftest-role 100%), and our agent/role logits against the port's logits snapshot under each
reading of the tied embedding (claim selftest-logits; fugu/trinity/logits_snapshot.py): which
reading reproduces them within the stated tolerance, and the margins on both sides. Tiny profile: a vector planted by least squares on the tiny fixture's
*training* cases (with small random SVF offsets, so both parts of the layout matter), saved
in the reference layout, reloaded through the public loader, scored on *held-out* cases: a
reduced-scale check that load + route works, not of the released vector's accuracy.
Writes the per-case table to artifacts/self_test/cases.csv and into the metrics.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fugu.models.backbone import Backbone, load_backbone
from fugu.stats.estimate import Resamples, mean, pooled_estimate
from fugu.trinity.coordinator import Trinity
from fugu.trinity.fixture import FixtureCase, load_fixture
from fugu.trinity.logits_snapshot import compare_to_snapshot, load_snapshot
from fugu.trinity.planting import plant_head
from fugu.trinity.spec import TrinitySpec
from fugu.trinity.svf import TIED_VARIANTS
from fugu.trinity.vector import load_vector, save_vector
from stages.builders import coordinator_spec, vector_file
from stages.common import checksums, is_reduced, open_stage, stage_params, write_metrics
from stages.paths import (
    BACKBONE_DIR,
    FIXTURE_FILE,
    LOGITS_SNAPSHOT_FILE,
    PLANTED_VECTOR,
    SELF_TEST_CASES,
    SELF_TEST_DIR,
    SELF_TEST_SPEC,
    VECTOR_DIR,
)


def main() -> None:
    params, profile, cfg = open_stage("self_test")
    coordinator = stage_params(params, "trinity")
    spec = coordinator_spec(coordinator, coordinator["workers"], PLANTED_VECTOR if is_reduced(profile) else vector_file(VECTOR_DIR),
                            trained_on="planted by least squares" if is_reduced(profile) else "released")
    backbone = load_backbone(BACKBONE_DIR)
    trinity = spec.build(backbone)
    fixture = load_fixture(FIXTURE_FILE)
    shutil.rmtree(SELF_TEST_DIR, ignore_errors=True)
    SELF_TEST_DIR.mkdir(parents=True)

    if is_reduced(profile):
        vector_path = plant_vector(trinity, fixture.split("train"), cfg)
        cases, label = fixture.split("held_out"), "held_out"
    else:
        vector_path, cases, label = vector_file(VECTOR_DIR), fixture.cases, "all"
    vector = load_vector(vector_path, trinity.layout)  # the public loader, in both profiles
    spec.save(SELF_TEST_SPEC)

    rows = route_cases(trinity, cases, vector)
    write_table(SELF_TEST_CASES, rows)
    # no training run here (least squares is closed-form): the interval resamples the cases only
    bootstrap, seed = params["bootstrap"], int(params["seed"])
    draw = Resamples.draw(len(rows), 1, int(bootstrap["resamples"]), seed, float(bootstrap["confidence"]))
    accuracy = lambda key: pooled_estimate(mean, [np.array([float(r[key]) for r in rows])], draw, [seed])  # noqa: E731
    metrics = {
        "agent_accuracy": accuracy("agent_ok"),
        "role_accuracy": accuracy("role_ok"),
        "chance": {"agent": 1.0 / trinity.layout.n_agents, "role": 1.0 / trinity.layout.n_roles},
        "n_cases": len(rows),
        "cases_scored": label,
        "n_train_cases": len(fixture.split("train")) if is_reduced(profile) else 0,
        "vector": {"source": "planted" if is_reduced(profile) else "released", "size": trinity.layout.size},
        "cases": rows,
    }
    used = [BACKBONE_DIR, FIXTURE_FILE, Path(vector_path), SELF_TEST_CASES, SELF_TEST_SPEC]
    not_run = {}
    if profile == "full":
        trinity.svf.restore()  # each reading below adapts the base weights afresh
        metrics["logits_snapshot"] = compare_tied_readings(spec, backbone, cases, vector, LOGITS_SNAPSHOT_FILE, cfg)
        used.append(LOGITS_SNAPSHOT_FILE)
    else:
        not_run["logits_snapshot"] = ("the port's logits snapshot is of the released vector on Qwen3-0.6B; "
                                      "the tiny backbone has none (profile: full fetches it)")
    write_metrics("self_test", profile, metrics, checksums(*used), not_run=not_run)


def compare_tied_readings(spec: TrinitySpec, backbone: Backbone, cases: list[FixtureCase], vector: np.ndarray,
                          snapshot_path: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    """Our logits vs the snapshot's under each reading of a tied embed/lm_head pair (fugu/trinity/svf.py).

    ``matching_readings`` lists those whose every case lies within the tolerance; ``closest_reading``
    is the one with the smallest largest difference. Margins are checked against the port's floors."""
    snapshot = load_snapshot(snapshot_path)
    tolerance, floors = float(cfg["logits_tolerance"]), dict(cfg["margin_floors"])
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


def plant_vector(trinity: Trinity, train: list[FixtureCase], cfg: dict[str, Any]) -> Path:
    """Seeded SVF offsets, then the least-squares head on the training cases' hidden states."""
    layout = trinity.layout
    svf = np.random.default_rng(int(cfg["seed"])).normal(0.0, float(cfg["svf_sigma"]), layout.n_svf).astype(np.float32)
    hidden = trinity.hidden_states([c.messages for c in train], svf)
    head = plant_head(hidden, [c.agent_id for c in train], [c.role_id for c in train],
                      layout.n_agents, layout.n_roles, ridge=float(cfg["ridge"]))
    return save_vector(PLANTED_VECTOR, layout.pack(svf, head), layout)


def route_cases(trinity: Trinity, cases: list[FixtureCase], vector: np.ndarray) -> list[dict[str, Any]]:
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
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
