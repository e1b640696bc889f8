"""verify's verdict logic on crafted metrics: pass, fail, each kind of not-run, malformed files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claims.registry import load_claims
from tests.spine_fixtures import estimate, make_claim, produced, write_metrics
from verify.schemas import MetricsFileError, load_metrics
from verify.verdicts import judge, read_verdicts

ROOT = Path(__file__).resolve().parents[2]


def test_an_interval_consistent_with_the_claim_at_reduced_scale_is_reproduced_reduced(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.7, 0.4, 0.9)}}))
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "reproduced_reduced"
    assert verdict.measured == 0.7 and verdict.interval == [0.4, 0.9] and "reduced scale" in verdict.labels
    assert verdict.claimed == 0.5 and verdict.unit == "accuracy points"


def test_the_same_at_full_scale_is_reproduced(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.7, 0.4, 0.9)}}, scale="full"))
    assert judge(make_claim(), tmp_path).outcome == "reproduced"


def test_the_medium_profile_is_reduced_scale_too(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.7, 0.4, 0.9)}}, scale="medium"))
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "reproduced_reduced" and verdict.scale == "medium"


def test_an_interval_wholly_below_the_claimed_size_contradicts_it(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.1, 0.05, 0.2)}}))
    verdict = judge(make_claim(), tmp_path)
    assert (verdict.outcome, verdict.why) == ("contradicted", "smaller than claimed")
    assert "0.1" in verdict.reason


def test_an_interval_holding_zero_and_the_claim_is_inconclusive_with_the_n_needed(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.2, -0.3, 0.7, n=40)}}))
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "inconclusive" and verdict.n_needed > 40 and verdict.mde > 0
    assert "would give 80% power" in verdict.reason


def test_a_bound_within_the_measured_jitter_of_a_boundary_is_borderline(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.6, 0.01, 0.9)}}))
    assert judge(make_claim(), tmp_path).outcome == "reproduced_reduced"
    verdict = judge(make_claim(), tmp_path, jitter={"crafted": 0.02})
    assert (verdict.outcome, verdict.borderline, verdict.jitter) == ("inconclusive", True, 0.02)


def test_seeds_that_disagree_widen_the_band(tmp_path):
    spread = estimate(0.6, 0.01, 0.9, seeds=[0, 1, 2], per_seed=[0.2, 0.6, 1.0])
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": spread}}))
    verdict = judge(make_claim(), tmp_path)
    assert verdict.borderline and verdict.per_seed == [0.2, 0.6, 1.0]


def test_a_missing_seed_is_an_error_naming_file_and_key(tmp_path):
    short = estimate(0.7, 0.4, 0.9, seeds=[0, 1, 2], per_seed=[0.7, 0.6])
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": short}}))
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "error"
    assert "metrics/eval.json:router.gain" in verdict.reason and "seed" in verdict.reason
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": {**short, "per_seed": [0.7, None, 0.6]}}}))
    assert judge(make_claim(), tmp_path).outcome == "error"


def test_a_size_beyond_the_datas_headroom_is_contradicted_naming_it(tmp_path):
    claim = make_claim(effect={"shape": "effect", "value": 1.07, "tolerance": 0.1, "unit": "relative gain",
                               "from": "+107%", "headroom": "oracle.gain"})
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.0, -0.1, 0.1)},
                                                      "oracle": {"gain": estimate(0.22, 0.15, 0.3)}}))
    verdict = judge(claim, tmp_path)
    assert (verdict.outcome, verdict.why, verdict.headroom) == ("contradicted", "beyond headroom", 0.3)
    assert "headroom" in verdict.reason


def test_an_exact_check_is_judged_by_its_assertion(tmp_path):
    claim = make_claim(**{"assert": {"op": "approx", "value": 0}},
                       effect={"shape": "exact", "unit": "names leaked", "from": "none leaked"})
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": 0}}))
    assert judge(claim, tmp_path).outcome == "reproduced_reduced"
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": 2}}))
    assert judge(claim, tmp_path).outcome == "contradicted"


def test_a_bare_number_where_an_interval_is_needed_is_an_error(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": 0.7}}))
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "error" and "estimate record" in verdict.reason


def test_missing_metrics_file_is_not_run(tmp_path):
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "not_run" and "missing" in verdict.reason


def test_a_placeholder_metrics_file_is_an_error_not_a_skip(tmp_path):
    write_metrics(tmp_path, "eval", {"stage": "eval", "status": "not_implemented"})
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "error" and "malformed" in verdict.reason


def test_wrong_scale_is_not_run_with_what_it_requires(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.9, 0.8, 1.0)}}))
    verdict = judge(make_claim(scale=["full"], requires=["GPU"]), tmp_path)
    assert verdict.outcome == "not_run"
    assert "tiny scale" in verdict.reason and "GPU" in verdict.reason


def test_reduced_check_applies_its_own_effect_and_meaning(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.2, 0.1, 0.3)}}))
    claim = make_claim(
        scale=["full"],
        reduced={"assert": {"op": ">", "value": 0.0},
                 "effect": {"shape": "direction", "unit": "points", "from": "not comparable: direction only"},
                 "meaning": "direction only at reduced scale",
                 "mechanism": {"name": "routing", "off": "best single",
                               "control": "tests/audit/test_claim_controls.py::test_every_named_control_exists"}},
    )
    verdict = judge(claim, tmp_path)
    assert verdict.outcome == "reproduced_reduced" and verdict.meaning.startswith("direction")
    assert verdict.shape == "direction"


def test_metric_recorded_as_not_run_carries_its_reason(tmp_path):
    payload = produced("eval", {"router": {}}, not_run={"router.gain": "no GPU"})
    write_metrics(tmp_path, "eval", payload)
    verdict = judge(make_claim(), tmp_path)
    assert verdict.outcome == "not_run" and "no GPU" in verdict.reason


def test_missing_key_is_not_run(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"other": 1}))
    assert judge(make_claim(), tmp_path).outcome == "not_run"


def test_per_metric_scale_overrides_the_file_scale(tmp_path):
    payload = produced("eval", {"router": {"gain": estimate(0.9, 0.8, 1.0)}}, metric_scale={"router": "full"})
    write_metrics(tmp_path, "eval", payload)
    assert judge(make_claim(scale=["full"]), tmp_path).outcome == "reproduced"


def test_mock_sections_are_labelled(tmp_path):
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"mock": True, "gain": estimate(0.9, 0.8, 1.0)}}))
    assert "mock" in judge(make_claim(), tmp_path).labels


@pytest.mark.parametrize(
    "payload, message",
    [
        ("{not json", "not valid JSON"),
        ({"stage": "eval", "status": "ok"}, "profile"),
        ({"stage": "eval", "status": "not_implemented", "accuracy": 0.9}, "accuracy"),
        ({"stage": "eval", "status": "done"}, "status"),
        ({**produced("eval", {}), "scale": "huge"}, "scale"),
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
    assert verdict.outcome == "error" and "estimate record" in verdict.reason


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
    write_metrics(tmp_path, "self_test", produced("self_test", {"agent_accuracy": estimate(1.0, 1.0, 1.0, n=72),
                                                               "role_accuracy": estimate(0.5, 0.4, 0.6, n=72)}))
    result = run_verify(tmp_path, tmp_path / "verdicts.json")
    verdicts = {v.claim_id: v for v in read_verdicts(tmp_path / "verdicts.json")}
    assert set(verdicts) == {c.id for c in load_claims()}
    assert verdicts["selftest-agent"].outcome == "reproduced_reduced"
    assert verdicts["selftest-role"].outcome == "contradicted"
    assert verdicts["trinity-cmaes"].outcome == "not_run"
    assert result.returncode == 1  # a claim that does not hold fails its test
    summary = json.loads((tmp_path / "verdicts.json").read_text())["counts"]
    assert sum(summary.values()) == len(verdicts)


def test_an_unmeasured_paper_claim_is_not_run_with_what_it_requires(tmp_path):
    claim = make_claim(metric=None, **{"assert": None}, effect=None, scale=["full"], mechanism=None,
                       requires=["the paper's API pool"])
    verdict = judge(claim, tmp_path)
    assert verdict.outcome == "not_run" and "the paper's API pool" in verdict.reason


def test_an_unmeasured_claim_runs_its_reduced_check(tmp_path):
    reduced = {"metric": {"file": "metrics/eval.json", "key": "router.gain"},
               "assert": {"op": ">", "value": 0.0}, "meaning": "the mechanism at reduced scale",
               "effect": {"shape": "direction", "unit": "points", "from": "direction only here"},
               "mechanism": {"name": "routing", "off": "best single",
                             "control": "tests/audit/test_claim_controls.py::test_every_named_control_exists"}}
    claim = make_claim(metric=None, **{"assert": None}, effect=None, scale=["full"], mechanism=None,
                       requires=["API pool"], reduced=reduced)
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.05, 0.02, 0.1)}}))
    verdict = judge(claim, tmp_path)
    assert verdict.outcome == "reproduced_reduced" and verdict.measured == 0.05
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.05, 0.02, 0.1)}}, scale="full"))
    assert judge(claim, tmp_path).outcome == "not_run"


def test_a_mock_source_is_labelled_on_the_verdict_even_when_it_passes(tmp_path):
    claim = make_claim(their_evidence={"kind": "mock", "detail": "a synthetic world, no model"})
    write_metrics(tmp_path, "eval", produced("eval", {"router": {"gain": estimate(0.7, 0.6, 0.8)}}))
    assert "their number: mock, not held-out" in judge(claim, tmp_path).labels
