"""The maintainer tools: params overrides, the jitter table, the committed verdict table and its comparison."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tools.measure_jitter import reusable
from tools.run_profile import commit_of, parse_value, set_params
from tools.verdict_table import row, table_differences
from verify.jitter import bound_shifts, jitter_table
from verify.verdicts import Verdict


def verdict(claim: str, outcome: str, interval: list[float] | None, measured: float | None = 0.0,
            jitter: float = 0.0, borderline: bool = False) -> Verdict:
    return Verdict(claim, outcome, "why", "metrics/eval.json:x", "1 points", measured=measured, interval=interval,
                   jitter=jitter, borderline=borderline)


def test_params_overrides_are_dotted_and_typed(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({"profile": "tiny", "numerics": {"pin": True, "threads": 2}}))
    set_params(path, {"profile": parse_value("medium"), "numerics.threads": parse_value("1"),
                      "numerics.pin": parse_value("false")})
    assert yaml.safe_load(path.read_text()) == {"profile": "medium", "numerics": {"pin": False, "threads": 1}}
    with pytest.raises(SystemExit, match="no section 'nothing'"):
        set_params(path, {"nothing.here": 1})


def test_the_jitter_of_a_claim_is_its_largest_bound_shift_times_the_safety_factor():
    runs = [[verdict("a", "inconclusive", [0.0, 0.2]), verdict("b", "reproduced", None, measured=3.0)],
            [verdict("a", "inconclusive", [0.01, 0.17]), verdict("b", "reproduced", None, measured=3.0)],
            [verdict("a", "inconclusive", [-0.02, 0.2])]]
    assert bound_shifts(runs) == pytest.approx({"a": 0.03})  # b is missing from one run: not tabulated
    assert jitter_table(runs[:2], safety_factor=2.0)["a"] == {"metric": "metrics/eval.json:x", "max_shift": 0.03,
                                                              "jitter": 0.06}


def test_the_committed_table_tolerates_moves_within_the_band_and_nothing_else():
    committed = {"a": row(verdict("a", "inconclusive", [-0.1, 0.3], measured=0.1, jitter=0.02))}
    assert committed["a"]["tolerance"] == 0.02
    assert not table_differences(committed, {"a": verdict("a", "inconclusive", [-0.11, 0.31], measured=0.1)})
    moved = table_differences(committed, {"a": verdict("a", "inconclusive", [-0.2, 0.3], measured=0.1)})
    assert moved and "low" in moved[0]
    flipped = table_differences(committed, {"a": verdict("a", "contradicted", [-0.1, 0.3], measured=0.1)})
    assert flipped and "inconclusive -> contradicted" in flipped[0]
    assert table_differences(committed, {}) == ["a: in the table but not produced"]
    near = verdict("a", "inconclusive", [-0.1, 0.3], measured=0.1, borderline=True)
    assert not table_differences(committed, {"a": near})  # the same verdict, only nearer a boundary


def test_a_kept_jitter_run_is_reused_only_at_the_commit_it_ran(tmp_path):
    (tmp_path / "verdicts.json").write_text("{}")
    assert not reusable(tmp_path, "abc")  # no run record: who knows what it ran
    (tmp_path / "run.json").write_text(json.dumps({"commit": "abc"}))
    assert reusable(tmp_path, "abc")
    assert not reusable(tmp_path, "def")  # other code: rerun, never stamp the new commit on old numbers
    (tmp_path / "run.json").write_text(json.dumps({"commit": "abc+uncommitted changes"}))
    assert not reusable(tmp_path, "abc+uncommitted changes")  # a dirty tree is not a reproducible commit


def test_the_commit_a_run_names_is_marked_only_by_changed_code_not_by_results(tmp_path):
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "run.json").write_text("{}")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "c")
    clean = commit_of(tmp_path)
    assert "uncommitted" not in clean
    (tmp_path / "results" / "run.json").write_text('{"a": 1}')  # what the tools write
    assert commit_of(tmp_path) == clean
    (tmp_path / "code.py").write_text("x = 2\n")  # code that could change a number
    assert commit_of(tmp_path) == clean + "+uncommitted changes"
