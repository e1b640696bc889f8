"""`fugu route` prints the chosen worker, its role and every worker's score."""

import json

import numpy as np

from fugu.cli import main
from fugu.models.backbone import load_backbone
from fugu.trinity.coordinator import Trinity
from fugu.trinity.spec import TrinitySpec
from fugu.trinity.vector import save_vector

WORKERS = ["w0", "w1", "w2"]
ROLES = ["solver", "thinker", "verifier"]


def _spec(tmp_path, tiny_backbone_dir):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), WORKERS, ROLES, [0])
    vector = np.random.default_rng(0).normal(0, 0.1, trinity.layout.size).astype(np.float32)
    save_vector(tmp_path / "v.npy", vector, trinity.layout)
    TrinitySpec(str(tiny_backbone_dir), str(tmp_path / "v.npy"), WORKERS, ROLES, [0]).save(tmp_path / "spec.json")
    return tmp_path / "spec.json"


def test_route_prints_worker_role_and_every_score(tmp_path, tiny_backbone_dir, capsys):
    assert main(["route", "Add 2 and 3?", "--spec", str(_spec(tmp_path, tiny_backbone_dir))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("worker: w") and "role:" in out
    assert all(name in out for name in WORKERS + ROLES) and out.count("<- chosen") == 1


def test_route_json_masks_unavailable_workers(tmp_path, tiny_backbone_dir, capsys):
    spec = _spec(tmp_path, tiny_backbone_dir)
    assert main(["route", "Add 2 and 3?", "--spec", str(spec), "--available", "w1", "--json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["worker"] == "w1" and decision["agent_scores"]["w0"] is None


def test_route_refuses_an_unknown_worker(tmp_path, tiny_backbone_dir, capsys):
    assert main(["route", "hi there", "--spec", str(_spec(tmp_path, tiny_backbone_dir)), "--available", "nobody"]) == 2
    assert "unknown workers ['nobody']" in capsys.readouterr().err


def test_route_without_a_spec_says_what_to_run(tmp_path, capsys):
    assert main(["route", "hi there", "--spec", str(tmp_path / "missing.json")]) == 1
    assert "run `dvc repro`" in capsys.readouterr().err


def test_route_refuses_a_vector_of_another_layout(tmp_path, tiny_backbone_dir, capsys):
    spec = _spec(tmp_path, tiny_backbone_dir)
    np.save(tmp_path / "short.npy", np.zeros(5, np.float32))
    assert main(["route", "hi there", "--spec", str(spec), "--vector", str(tmp_path / "short.npy")]) == 1
    assert "expected length" in capsys.readouterr().err


def test_serve_shares_the_cores_among_concurrent_router_passes(monkeypatch):
    from fugu.cli import router_threads

    monkeypatch.setattr("os.sched_getaffinity", lambda _: {0, 1, 2, 3}, raising=False)
    assert router_threads(None, 2) == 2 and router_threads(None, 8) == 1  # never 0 threads
    assert router_threads(3, 2) == 3  # an explicit --router-threads wins
