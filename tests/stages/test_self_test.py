"""self_test's full-profile logits comparison: it names the tied-embedding reading that produced the logits."""

import json

import numpy as np
import pytest

from fugu.models.backbone import load_backbone
from fugu.trinity.fixture import tiny_fixture
from fugu.trinity.logits_snapshot import top_margin
from fugu.trinity.spec import TrinitySpec
from fugu.trinity.svf import TIED_VARIANTS
from stages import self_test

WORKERS = ["w0", "w1", "w2", "w3"]
ROLES = ["solver", "thinker", "verifier"]
CFG = {"logits_tolerance": 0.05, "margin_floors": {"agent": 0.24, "role": 1.06}}


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
    report = self_test.compare_tied_readings(spec, backbone, cases, vector, path, CFG)
    assert report["matching_readings"] == [source_reading] and report["closest_reading"] == source_reading
    assert report["best_within_tolerance"] == 1.0
    for reading in TIED_VARIANTS:  # mechanism off (another reading): the logits are off by more than the tolerance
        if reading != source_reading:
            assert report["readings"][reading]["max_abs_diff"] > CFG["logits_tolerance"]
    assert report["readings"][source_reading]["token_count_agreement"] == 1.0
    # the base weights are back after the comparison: z = 0 routes as the unadapted model
    fresh = spec.build(backbone)
    assert np.array_equal(fresh.svf._base[0], backbone.model.model.embed_tokens.weight.detach())
