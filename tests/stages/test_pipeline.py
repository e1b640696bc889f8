"""The whole tiny pipeline, end to end, in a fresh copy of the project with network blocked.

This is the integration test of the spine: every stage runs through ``dvc repro``, every
metrics file validates, the report is written, a second ``dvc repro`` runs no stage, and
``dvc.lock`` comes out as docs/verdicts.md promises.

What dvc.lock promises on a fresh clone: its commands, code and data deps and params always
come out as committed. Its outputs' hashes too when the machine computes the committed numeric
path's bits (the fingerprint in ``results/tiny/verdicts.yaml``, recorded by the features stage);
on a machine that computes other bits, only the outputs of the stages that compute with floats
on the backbone's states may differ, so ``git status`` shows ``dvc.lock`` modified and nothing
else.

Claims are judged here too, as findings, not as pass/fail of the build: every verdict and every
checked number must match the committed table ``results/tiny/verdicts.yaml`` within the tolerance
stated next to it (the band the verdict was judged with). A claim that does not hold is recorded
there as contradicted or inconclusive; a verdict that flips fails this test, so the change is a
reviewed diff of that table. (``pytest verify`` is the user's command to see them.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from claims import load_claims
from tests.test_no_network import guarded_env
from tools.run_profile import copy_project
from tools.verdict_table import table_differences
from verify.schemas import declared_metrics_files, load_metrics
from verify.verdicts import read_verdicts

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_VERDICTS = ROOT / "results/tiny/verdicts.yaml"
# Stages whose outputs are byte-identical on any machine (no float computation on model states):
# their output hashes must match dvc.lock everywhere.
FLOAT_FREE_STAGES = {"fetch"}

pytestmark = pytest.mark.slow  # minutes: left out by `make test-fast`


@pytest.fixture(scope="module")
def fresh_copy(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("clone"))


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


def numeric_fingerprint(copy: Path) -> str | None:
    return (load_metrics(copy / "metrics/features.json").metrics.get("numerics") or {}).get("fingerprint")


def lock_stages(text: str) -> dict:
    return yaml.safe_load(text)["stages"]


def test_a_fresh_copy_keeps_the_committed_lock_as_the_readme_promises(first_run, fresh_copy):
    """dvc.lock: commands, deps and params as committed on any machine; outputs too on the committed
    numeric path; elsewhere only the float stages' outputs may differ (and git status shows no other file)."""
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=fresh_copy,
                             capture_output=True, text=True, check=True).stdout.split("\n")
    changed = [line[3:] for line in changed if line.strip()]
    assert set(changed) <= {"dvc.lock"}, f"dvc repro on a fresh copy changed tracked files besides dvc.lock: {changed}"
    committed, produced = lock_stages((ROOT / "dvc.lock").read_text()), lock_stages((fresh_copy / "dvc.lock").read_text())
    assert set(committed) == set(produced)
    for name, stage in committed.items():
        for key in ("cmd", "deps", "params"):
            assert produced[name].get(key) == stage.get(key), f"dvc.lock stage {name}: {key} differs from the commit"
    same_bits = numeric_fingerprint(fresh_copy) == yaml.safe_load(EXPECTED_VERDICTS.read_text())["produced"][
        "numeric_fingerprint"]
    differing = sorted(name for name, stage in committed.items() if produced[name].get("outs") != stage.get("outs"))
    if same_bits:
        assert not changed, "on the committed numeric path dvc.lock must come out as committed; outs differ in " + str(
            differing)
    else:
        assert not set(differing) & FLOAT_FREE_STAGES, f"float-free stages changed their outputs: {differing}"


def test_second_repro_runs_no_stage(first_run, fresh_copy):
    second = dvc_repro(fresh_copy)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Running stage" not in second.stdout
    assert "up to date" in second.stdout


def test_verdicts_and_numbers_match_the_committed_table(first_run, fresh_copy):
    produced = {v.claim_id: v for v in read_verdicts(fresh_copy / "reports/verdicts.json")}
    expected = yaml.safe_load(EXPECTED_VERDICTS.read_text())["claims"]
    problems = table_differences(expected, produced)
    assert not problems, (f"the run differs from {EXPECTED_VERDICTS.relative_to(ROOT)} (review, then rewrite it with "
                          "`python -m tools.verdict_table`):\n" + "\n".join(problems))
