"""The self-test (fugu/trinity/self_test.py): every case routed and scored, and the full-profile logits
comparison names the tied-embedding reading that produced the logits."""

import json

import numpy as np
import pytest

from fugu.models.backbone import load_backbone
from fugu.trinity import self_test
from fugu.trinity.coordinator import Trinity
from fugu.trinity.fixture import tiny_fixture
from fugu.trinity.logits_snapshot import top_margin
from fugu.trinity.spec import TrinitySpec
from fugu.trinity.svf import TIED_VARIANTS

WORKERS = ["w0", "w1", "w2", "w3"]
ROLES = ["solver", "thinker", "verifier"]
CFG = {"logits_tolerance": 0.05, "margin_floors": {"agent": 0.24, "role": 1.06}}


def test_self_test_routes_every_case_and_scores_each(tiny_backbone_dir):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ROLES, [0])
    cases = tiny_fixture(WORKERS, ROLES, n_per_cell=1, held_out_fraction=1.0, seed=0).cases
    vector = np.random.default_rng(0).normal(0, 0.1, trinity.layout.size).astype(np.float32)
    rows = self_test.route_cases(trinity, cases, vector)
    assert [r["id"] for r in rows] == [c.id for c in cases]
    for row, case in zip(rows, cases):
        assert row["agent_ok"] == (row["worker"] == WORKERS[case.agent_id])
        assert row["role_ok"] == (row["role"] == ROLES[case.role_id])


def test_self_test_refuses_a_case_outside_the_pool(tiny_backbone_dir):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ROLES, [0])
    case = tiny_fixture(WORKERS, ROLES, n_per_cell=1, held_out_fraction=1.0, seed=0).cases[0]
    bad = type(case)(case.id, case.messages, agent_id=9, role_id=0)
    with pytest.raises(ValueError, match="expects agent 9"):
        self_test.route_cases(trinity, [bad], np.zeros(trinity.layout.size, np.float32))


def _snapshot_from(spec, backbone, cases, vector, path):
    """What the port would have written had it computed the logits under ``spec``'s reading."""
    trinity = spec.build(backbone)
    agent, role = trinity.scores([c.messages for c in cases], vector)
    tokens, _ = trinity.prompt_ids([c.messages for c in cases])
    trinity.svf.restore()
    path.write_text(json.dumps({"schema_version": 1, "cases": [
        {"id": c.id, "agent_id": int(a.argmax()), "role_id": int(r.argmax()), "token_count": len(t),
         "agent_margin": float(top_margin(a)), "role_margin": float(top_margin(r)),
         "agent_logits_rounded": np.round(a, 6).tolist(), "role_logits_rounded": np.round(r, 6).tolist()}
        for c, a, r, t in zip(cases, agent, role, tokens)]}))
    return path


@pytest.mark.parametrize("source_reading", TIED_VARIANTS)
def test_the_reading_that_produced_the_snapshot_is_the_one_that_matches(tiny_backbone_dir, tmp_path, source_reading):
    backbone = load_backbone(tiny_backbone_dir)
    spec = TrinitySpec(backbone_dir=str(tiny_backbone_dir), vector="v.npy", workers=WORKERS, roles=ROLES, svf_layers=[0])
    cases = tiny_fixture(WORKERS, ROLES, n_per_cell=1, held_out_fraction=1.0, seed=0).cases
    layout = spec.build(backbone).layout
    # both tied slices (embed first, lm_head last) non-zero, so the three readings differ
    vector = np.random.default_rng(0).normal(0, 0.5, layout.size).astype(np.float32)
    path = _snapshot_from(TrinitySpec(**{**spec.__dict__, "tied_embeddings": source_reading}), backbone, cases, vector,
                          tmp_path / "snapshot.json")
    report = self_test.compare_tied_readings(spec, backbone, cases, vector, path, CFG["logits_tolerance"],
                                             CFG["margin_floors"])
    assert report["matching_readings"] == [source_reading] and report["closest_reading"] == source_reading
    assert report["best_within_tolerance"] == 1.0
    for reading in TIED_VARIANTS:  # mechanism off (another reading): the logits are off by more than the tolerance
        if reading != source_reading:
            assert report["readings"][reading]["max_abs_diff"] > CFG["logits_tolerance"]
    assert report["readings"][source_reading]["token_count_agreement"] == 1.0
    # the base weights are back after the comparison: z = 0 routes as the unadapted model
    fresh = spec.build(backbone)
    assert np.array_equal(fresh.svf._base[0], backbone.model.model.embed_tokens.weight.detach())


def test_a_planted_vector_is_saved_in_the_layout_and_routes_its_training_cases(tiny_backbone_dir, tmp_path):
    from fugu.trinity.vector import load_vector

    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ROLES, [0])
    train = tiny_fixture(WORKERS, ROLES, n_per_cell=4, held_out_fraction=0.25, seed=0).split("train")
    path = self_test.plant_vector(trinity, train, tmp_path / "planted.npy", seed=0, svf_sigma=0.05, ridge=0.1)
    vector = load_vector(path, trinity.layout)
    assert path == tmp_path / "planted.npy" and vector.shape == (trinity.layout.size,)
    assert np.any(trinity.layout.unpack(vector)[0] != 0)  # the SVF part is planted too, not left at zero
    rows = self_test.route_cases(trinity, train, vector)
    assert np.mean([r["role_ok"] for r in rows]) > 1 / len(ROLES)


def test_case_accuracies_are_the_fractions_of_matching_cases_with_an_interval():
    rows = [{"agent_ok": a, "role_ok": r} for a, r in [(True, True), (True, False), (False, True), (True, True)]]
    accuracies = self_test.case_accuracies(rows, n_resamples=200, seed=0, level=0.95)
    assert accuracies["agent_accuracy"]["estimate"] == 0.75 and accuracies["role_accuracy"]["estimate"] == 0.75
    for record in accuracies.values():
        assert record["ci"][0] <= record["estimate"] <= record["ci"][1] and record["n"] == 4
