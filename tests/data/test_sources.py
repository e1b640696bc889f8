"""Full-profile artifacts: a local path wins; whatever is missing is named, with how to supply it."""

import pytest

from fugu.data.sources import MissingArtifacts, Source, obtain_all


def test_a_local_path_is_copied(tmp_path):
    (tmp_path / "v.npy").write_bytes(b"abc")
    got = obtain_all([(Source("vector", "fetch.full.vector.path", path=str(tmp_path / "v.npy")), tmp_path / "out/v.npy")])
    assert got["vector"].read_bytes() == b"abc"


def test_every_missing_artifact_is_named_with_how_to_supply_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    wanted = [
        (Source("vector", "fetch.full.vector.path", repo_id="someone/vec", repo_type="dataset",
                filenames=("model_iter_60.npy",), note="source unconfirmed"), tmp_path / "v.npy"),
        (Source("fixture", "fetch.full.fixture.path", path=str(tmp_path / "nowhere.json")), tmp_path / "f.json"),
    ]
    with pytest.raises(MissingArtifacts) as err:
        obtain_all(wanted)
    message = str(err.value)
    assert "- vector: could not get it from someone/vec" in message and "source unconfirmed" in message
    assert "- fixture: could not get it from" in message and "nowhere.json does not exist" in message
    assert "set fetch.full.vector.path" in message and "set fetch.full.fixture.path" in message


def test_a_pinned_artifact_with_another_checksum_is_refused_naming_the_file(tmp_path):
    local = tmp_path / "vector.npy"
    local.write_bytes(b"not the released vector")
    source = Source(name="vector", supply_key="fetch.full.vector.path", path=str(local), sha256="0" * 64)
    with pytest.raises(MissingArtifacts) as err:
        obtain_all([(source, tmp_path / "out" / "vector.npy")])
    message = str(err.value)
    assert "ChecksumError" in message and "out/vector.npy" in message and "expected " + "0" * 64 in message
    assert not (tmp_path / "out" / "vector.npy").exists()


def test_a_pinned_artifact_with_its_checksum_is_kept(tmp_path):
    import hashlib

    local = tmp_path / "fixture.json"
    local.write_bytes(b"{}")
    source = Source(name="fixture", supply_key="fetch.full.fixture.path", path=str(local),
                    sha256=hashlib.sha256(b"{}").hexdigest())
    got = obtain_all([(source, tmp_path / "out" / "fixture.json")])
    assert got["fixture"].read_bytes() == b"{}"
