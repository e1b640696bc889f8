"""self_test: a TRINITY coordinator loaded with a parameter vector routes a fixture.

Full profile: the released vector on the reference fixture (claims selftest-agent 95%,
selftest-role 100%), and our agent/role logits against the port's logits snapshot under each
reading of the tied embedding (claim selftest-logits; fugu/trinity/logits_snapshot.py): which
reading reproduces them within the stated tolerance, and the margins on both sides. Tiny profile: a vector planted by least squares on the tiny fixture's
*training* cases (with small random SVF offsets, so both parts of the layout matter), saved
in the reference layout, reloaded through the public loader, scored on *held-out* cases: a
reduced-scale check that load + route works, not of the released vector's accuracy.
Writes the per-case table to artifacts/self_test/cases.csv and into the metrics.
The code is :mod:`fugu.trinity.self_test`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fugu.models.backbone import load_backbone
from fugu.trinity.fixture import load_fixture
from fugu.trinity.self_test import case_accuracies, compare_tied_readings, plant_vector, route_cases, write_table
from fugu.trinity.vector import load_vector
from stages.builders import coordinator_spec, vector_file
from stages.common import checksums, is_reduced, open_stage, stage_device, stage_params, stand_in_reasons, write_metrics
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
    device = stage_device("self_test", profile, coordinator.get("device", "cpu"))
    backbone = load_backbone(BACKBONE_DIR, device=device)
    trinity = spec.build(backbone)
    fixture = load_fixture(FIXTURE_FILE)
    shutil.rmtree(SELF_TEST_DIR, ignore_errors=True)
    SELF_TEST_DIR.mkdir(parents=True)

    if is_reduced(profile):
        vector_path = plant_vector(trinity, fixture.split("train"), PLANTED_VECTOR, int(cfg["seed"]),
                                   float(cfg["svf_sigma"]), float(cfg["ridge"]))
        cases, label = fixture.split("held_out"), "held_out"
    else:
        vector_path, cases, label = vector_file(VECTOR_DIR), fixture.cases, "all"
    vector = load_vector(vector_path, trinity.layout)  # the public loader, in both profiles
    spec.save(SELF_TEST_SPEC)

    rows = route_cases(trinity, cases, vector)
    write_table(SELF_TEST_CASES, rows)
    bootstrap = params["bootstrap"]
    metrics = {
        **case_accuracies(rows, int(bootstrap["resamples"]), int(params["seed"]), float(bootstrap["confidence"])),
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
        metrics["logits_snapshot"] = compare_tied_readings(spec, backbone, cases, vector, LOGITS_SNAPSHOT_FILE,
                                                           cfg["logits_tolerance"], cfg["margin_floors"])
        used.append(LOGITS_SNAPSHOT_FILE)
    else:
        not_run["logits_snapshot"] = ("the port's logits snapshot is of the released vector on Qwen3-0.6B; "
                                      "the tiny backbone has none (profile: full fetches it)")
    write_metrics("self_test", profile, metrics, checksums(*used), not_run=not_run,
                  stand_in=stand_in_reasons(profile, device))


if __name__ == "__main__":
    main()
