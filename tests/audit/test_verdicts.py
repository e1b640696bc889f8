"""verify's verdict logic on crafted metrics: pass, fail, each kind of not-run, malformed files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claims.registry import load_claims
from tests.spine_fixtures import make_claim, produced, write_metrics
from verify.schemas import MetricsFileError, load_metrics
from verify.verdicts import judge, read_verdicts

ROOT = Path(__file__).resolve().parents[2]


def test_assertion_holding_at_reduced_scale_is_reproduced_reduced(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": 0.7}}))
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "reproduced_reduced"
    assert verdict.measured == 0.7 and "reduced scale" in verdict.labels


def test_assertion_holding_at_full_scale_is_reproduced(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": 0.7}}, scale="full"))
    assert judge(make_claim(), tmp_path).outcome == "reproduced"


def test_assertion_failing_is_not_reproduced_with_the_number(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": 0.1}}))
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "not_reproduced"
    assert "0.1" in verdict.reason


def test_missing_metrics_file_is_not_run(tmp_path):
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "not_run" and "missing" in verdict.reason


def test_a_placeholder_metrics_file_is_an_error_not_a_skip(tmp_path):
    write_metrics(tmp_path, "eval", {"stage": "eval", "status": "not_implemented"})
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "error" and "malformed" in verdict.reason


def test_wrong_scale_is_not_run_with_what_it_requires(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": 0.9}}))
    verdict = judge(make_claim(scale=["full"], requires=["GPU"]), tmp_path)
    assert verdict.outcome == "not_run"
    assert "tiny scale" in verdict.reason and "GPU" in verdict.reason


def test_reduced_check_applies_its_own_assertion_and_meaning(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": 0.2}}))
    claim = make_claim(
        scale=["full"],
        reduced={"scale": "tiny", "assert": {"op": ">", "value": 0.0}, "meaning": "direction only at tiny scale",
                 "mechanism": {"name": "routing", "off": "best single",
                               "control": "tests/audit/test_claim_controls.py::test_every_named_control_exists"}},
    )
    verdict = judge(claim, tmp_path)
    assert verdict.outcome == "reproduced_reduced" and verdict.meaning.startswith("direction")


def test_metric_recorded_as_not_run_carries_its_reason(tmp_path):
    payload = produced("eval", {"router": {}}, not_run={"router.gain": "no GPU"})
    write_metrics(tmp_path, "eval", payload)
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "not_run" and "no GPU" in verdict.reason


def test_missing_key_is_not_run(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"other": 1}))
    assert judge(make_claim(), tmp_path).outcome == "not_run"


def test_per_metric_scale_overrides_the_file_scale(tmp_path):
    payload = produced("eval", {"router": {"gain": 0.9}}, metric_scale={"router": "full"})
    write_metrics(tmp_path, "eval", payload)
    assert judge(make_claim(scale=["full"]), tmp_path).outcome == "reproduced"


def test_mock_sections_are_labelled(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"mock": True, "gain": 0.9}}))
    assert "mock" in judge(make_claim(), tmp_path).labels


@pytest.mark.parametrize(
    "payload, message",
    [
        ("{not json", "not valid JSON"),
        ({"stage": "eval", "status": "ok"}, "profile"),
        ({"stage": "eval", "status": "not_implemented", "accuracy": 0.9}, "accuracy"),
        ({"stage": "eval", "status": "done"}, "status"),
        ({**produced("eval", {}), "scale": "medium"}, "scale"),
        ({**produced("eval", {}), "artifacts": {"a": "not-a-sha"}}, "artifacts"),
        (produced("fetch", {}), "file is named for 'eval'"),
    ],
)
def test_malformed_metrics_file_fails_loudly_with_its_name(tmp_path, payload, message):
    path = write_metrics(tmp_path, "eval", payload)
    with pytest.raises(MetricsFileError, match=message) as err:
        load_metrics(path)
    assert str(path) in str(err.value)
    assert judge(make_claim(), tmp_path).outcome == "error"


def test_non_numeric_metric_is_an_error(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": "high"}}))
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "error" and "must be a number" in verdict.reason


def run_verify(metrics_root: Path, verdicts: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "verify/test_claims.py", "-q", "-p", "no:cacheprovider",
         f"--metrics-root={metrics_root}", f"--verdicts-out={verdicts}"],
        cwd=ROOT, capture_output=True, text=True,
    )


def test_pytest_verify_fails_on_a_malformed_file_and_names_it(tmp_path):
    write_metrics(tmp_path, "eval", {"stage": "eval", "status": "ok", "metrics": {}})
    result = run_verify(tmp_path, tmp_path / "verdicts.json")
    assert result.returncode == 1
    assert "eval.json" in result.stdout and "malformed" in result.stdout


def test_pytest_verify_writes_one_verdict_per_claim(tmp_path):
    write_metrics(tmp_path, "self_test", produced("self_test", {"agent_accuracy": 1.0, "role_accuracy": 0.5}))
    result = run_verify(tmp_path, tmp_path / "verdicts.json")
    verdicts = {v.claim_id: v for v in read_verdicts(tmp_path / "verdicts.json")}
    assert set(verdicts) == {c.id for c in load_claims()}
    assert verdicts["selftest-agent"].outcome == "reproduced_reduced"
    assert verdicts["selftest-role"].outcome == "not_reproduced"
    assert verdicts["trinity-cmaes"].outcome == "not_run"
    assert result.returncode == 1  # a claim that does not hold fails its test
    summary = json.loads((tmp_path / "verdicts.json").read_text())["counts"]
    assert sum(summary.values()) == len(verdicts)


def test_an_unmeasured_paper_claim_is_not_run_with_what_it_requires(tmp_path):
    claim = make_claim(metric=None, **{"assert": None}, scale=["full"], mechanism=None,
                       requires=["the paper's API pool"])
    verdict = judge(claim, tmp_path)
    assert verdict.outcome == "not_run" and "the paper's API pool" in verdict.reason


def test_an_unmeasured_claim_runs_its_reduced_check(tmp_path):
    reduced = {"scale": "tiny", "metric": {"file": "metrics/eval.json", "key": "router.ci.0"},
               "assert": {"op": ">", "value": 0.0}, "meaning": "the mechanism at reduced scale",
               "mechanism": {"name": "routing", "off": "best single",
                             "control": "tests/audit/test_claim_controls.py::test_every_named_control_exists"}}
    claim = make_claim(metric=None, **{"assert": None}, scale=["full"], mechanism=None, requires=["API pool"],
                       reduced=reduced)
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"ci": [0.02, 0.1]}}))
    verdict = judge(claim, tmp_path)
    assert verdict.outcome == "reproduced_reduced" and verdict.measured == 0.02
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"ci": [0.02, 0.1]}}, scale="full"))
    assert judge(claim, tmp_path).outcome == "not_run"


def test_a_mock_source_is_labelled_on_the_verdict_even_when_it_passes(tmp_path):
    claim = make_claim(their_evidence={"kind": "mock", "detail": "a synthetic world, no model"})
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": 0.7}}))
    assert "their number: mock, not held-out" in judge(claim, tmp_path).labels
