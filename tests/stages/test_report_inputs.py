"""The report stage shows the committed medium run beside this one when it exists, and only then."""

from __future__ import annotations

import json

from stages.report import medium_results, routing_section
from tests.report_fixtures import routing_section as crafted_routing
from tests.report_fixtures import verdict
from verify.verdicts import write_verdicts


def write_medium(tmp_path):
    paths = (tmp_path / "verdicts.json", tmp_path / "metrics/eval.json", tmp_path / "run.json")
    write_verdicts([verdict("orchestration-gain", "inconclusive", interval=[-0.05, 0.04], scale="medium")], paths[0])
    paths[1].parent.mkdir(parents=True)
    paths[1].write_text(json.dumps({"stage": "eval", "metrics": {"routing": crafted_routing(n_test=1200)}}))
    paths[2].write_text(json.dumps({"commit": "abc1234", "cpu": "x86", "wall_s": 60.0, "profile": "medium"}))
    return paths


def test_committed_medium_results_are_read_with_their_routing_and_run_record(tmp_path):
    medium = medium_results("tiny", *write_medium(tmp_path))
    assert medium is not None and medium.name == "medium"
    assert [v.claim_id for v in medium.verdicts] == ["orchestration-gain"] and medium.verdicts[0].scale == "medium"
    assert medium.routing["n_test"] == 1200 and medium.run["commit"] == "abc1234"


def test_no_medium_verdicts_means_the_medium_profile_has_not_run(tmp_path):
    assert medium_results("tiny", tmp_path / "verdicts.json", tmp_path / "eval.json", tmp_path / "run.json") is None


def test_a_medium_run_does_not_show_the_committed_medium_results_twice(tmp_path):
    assert medium_results("medium", *write_medium(tmp_path)) is None


def test_a_missing_eval_file_or_routing_section_gives_no_routing_numbers(tmp_path):
    assert routing_section(tmp_path / "absent.json") is None
    (tmp_path / "eval.json").write_text(json.dumps({"metrics": {"trinity": {}}}))
    assert routing_section(tmp_path / "eval.json") is None
