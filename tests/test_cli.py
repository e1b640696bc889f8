"""`fugu route` prints the chosen worker, its role and every worker's score, and names the spec it used;
`fugu audit` ends with one line: the verdict counts and the report's path."""

import json
from pathlib import Path

import numpy as np

from fugu.cli import main, verdict_summary
from fugu.models.backbone import load_backbone
from fugu.pipeline_paths import SELF_TEST_SPEC as PLANTED_SPEC
from fugu.pipeline_paths import TRAINED_SPEC
from fugu.trinity.coordinator import Trinity
from fugu.trinity.spec import TrinitySpec
from fugu.trinity.vector import save_vector

WORKERS = ["w0", "w1", "w2"]
ROLES = ["solver", "thinker", "verifier"]


def _spec(tmp_path, tiny_backbone_dir, workers=WORKERS, name="spec.json"):
    trinity = Trinity.build(load_backbone(tiny_backbone_dir), workers, ROLES, [0])
    vector = np.random.default_rng(0).normal(0, 0.1, trinity.layout.size).astype(np.float32)
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    save_vector(path.with_suffix(".npy"), vector, trinity.layout)
    TrinitySpec(str(tiny_backbone_dir), str(path.with_suffix(".npy")), workers, ROLES, [0]).save(path)
    return path


PLANTED_WORKERS = ["sim-worker-0", "sim-worker-1", "sim-worker-2"]  # the self-test fixture's names


def test_route_uses_the_trained_coordinator_when_train_trinity_has_run(tmp_path, tiny_backbone_dir, capsys):
    _spec(tmp_path, tiny_backbone_dir, PLANTED_WORKERS, PLANTED_SPEC)
    _spec(tmp_path, tiny_backbone_dir, WORKERS, TRAINED_SPEC)
    assert main(["route", "Add 2 and 3?", "--project", str(tmp_path), "--json"]) == 0
    out, err = capsys.readouterr()
    decision = json.loads(out)
    assert decision["spec"] == str(tmp_path / TRAINED_SPEC) and decision["worker"] in WORKERS
    assert f"{tmp_path / TRAINED_SPEC}, the trained coordinator" in err


def test_route_falls_back_to_the_planted_self_test_coordinator_and_says_so(tmp_path, tiny_backbone_dir, capsys):
    _spec(tmp_path, tiny_backbone_dir, PLANTED_WORKERS, PLANTED_SPEC)
    assert main(["route", "Add 2 and 3?", "--project", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("worker: sim-worker-")
    assert f"{tmp_path / PLANTED_SPEC}, the self-test's planted coordinator" in err


def test_audit_ends_with_the_verdict_counts_and_the_report_path():
    counts = {"reproduced": 2, "reproduced_reduced": 5, "contradicted": 5, "inconclusive": 10, "not_run": 13, "error": 0}
    assert verdict_summary(counts, Path("reports/audit.html")) == (
        "verdicts: 2 reproduced, 5 reproduced reduced, 5 contradicted, 10 inconclusive, 13 not run (35 claims); "
        "report: reports/audit.html")


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
