"""The whole tiny pipeline, end to end, in a fresh copy of the project with network blocked.

This is the integration test of the spine: every stage runs through ``dvc repro``, every
metrics file validates, the report is written, a second ``dvc repro`` runs no stage, and
``dvc.lock`` comes out as committed (a fresh clone reproduces the same outputs).

Claims are judged here too, as findings, not as pass/fail of the build: the verdict of every
claim must equal the committed table ``verify/expected_verdicts.tiny.yaml``. A claim that does
not hold is recorded there as ``not_reproduced``; a verdict that flips fails this test, so the
change is a reviewed diff of that table. (``pytest verify`` is the user's command to see them.)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from claims import load_claims
from tests.test_no_network import guarded_env
from verify.schemas import declared_metrics_files, load_metrics
from verify.verdicts import read_verdicts

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_VERDICTS = ROOT / "verify/expected_verdicts.tiny.yaml"


def project_files() -> list[str]:
    """Tracked and untracked-but-not-ignored files: what a fresh clone of this work would hold."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    return [f for f in listed if (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("clone")
    for file in project_files():
        target = copy / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / file, target)
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        subprocess.run(command, cwd=copy, check=True)
    return copy


def dvc_repro(copy: Path) -> subprocess.CompletedProcess:
    bin_dir = str(Path(sys.executable).parent)
    env = guarded_env(PATH=f"{bin_dir}:{guarded_env()['PATH']}")
    env["PYTHONPATH"] = env["PYTHONPATH"].replace(str(ROOT), str(copy))
    return subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def first_run(fresh_copy) -> subprocess.CompletedProcess:
    return dvc_repro(fresh_copy)


def test_pipeline_runs_offline_end_to_end(first_run):
    assert first_run.returncode == 0, (first_run.stdout + first_run.stderr)[-5000:]


def test_every_metrics_file_is_produced_and_valid(first_run, fresh_copy):
    for file in declared_metrics_files(fresh_copy / "dvc.yaml"):
        load_metrics(fresh_copy / file)


def test_report_and_verdicts_are_written(first_run, fresh_copy):
    html = (fresh_copy / "reports/audit.html").read_text()
    verdicts = read_verdicts(fresh_copy / "reports/verdicts.json")
    assert {v.claim_id for v in verdicts} == {c.id for c in load_claims()}
    assert "OpenFugu audit report" in html


def test_a_fresh_copy_reproduces_the_committed_lock(first_run, fresh_copy):
    """Every DVC out is a function of its inputs (timings go to metrics/timings/, never an out), so
    `dvc repro` on a fresh clone leaves dvc.lock, and so `git status`, as committed."""
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=fresh_copy,
                             capture_output=True, text=True, check=True).stdout
    assert not changed.strip(), "dvc repro on a fresh copy changed tracked files:\n" + changed + subprocess.run(
        ["git", "diff", "--stat"], cwd=fresh_copy, capture_output=True, text=True).stdout


def test_second_repro_runs_no_stage(first_run, fresh_copy):
    second = dvc_repro(fresh_copy)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Running stage" not in second.stdout
    assert "up to date" in second.stdout


def test_verdicts_equal_the_committed_table(first_run, fresh_copy):
    produced = {v.claim_id: v.outcome for v in read_verdicts(fresh_copy / "reports/verdicts.json")}
    expected = yaml.safe_load(EXPECTED_VERDICTS.read_text())
    changed = {c: f"{expected.get(c)} -> {produced.get(c)}" for c in sorted(set(produced) | set(expected))
               if produced.get(c) != expected.get(c)}
    assert not changed, (f"verdicts differ from {EXPECTED_VERDICTS.name} (review, then commit the new table):\n"
                         + yaml.safe_dump(dict(sorted(produced.items())), sort_keys=False))
