"""The port's logits snapshot: its format is checked by name, and the comparison reports what differs."""

import json

import numpy as np
import pytest

from fugu.trinity.logits_snapshot import SnapshotError, compare_to_snapshot, load_snapshot, top_margin


def _case(case_id, agent, role, token_count=5):
    return {"id": case_id, "agent_id": int(np.argmax(agent)), "role_id": int(np.argmax(role)),
            "token_count": token_count, "agent_margin": float(top_margin(np.array(agent))),
            "role_margin": float(top_margin(np.array(role))),
            "agent_logits_rounded": [round(x, 6) for x in agent], "role_logits_rounded": [round(x, 6) for x in role]}


def _write(path, cases, schema_version=1):
    path.write_text(json.dumps({"schema_version": schema_version, "cases": cases}))
    return path


AGENT = np.array([[0.9, 0.1, -0.3], [0.0, 0.5, 0.2]])
ROLE = np.array([[2.0, -1.0], [-0.5, 1.5]])


@pytest.fixture()
def snapshot(tmp_path):
    return load_snapshot(_write(tmp_path / "snap.json", [_case(f"c{i}", AGENT[i].tolist(), ROLE[i].tolist())
                                                         for i in range(2)]))


def test_identical_logits_are_all_within_tolerance_with_margins_on_both_sides(snapshot):
    report = compare_to_snapshot(["c0", "c1"], AGENT, ROLE, [5, 5], snapshot, tolerance=0.05)
    assert report["within_tolerance"] == 1.0 and report["max_abs_diff"] < 1e-9
    assert report["agent_agreement"] == report["role_agreement"] == report["token_count_agreement"] == 1.0
    assert report["min_agent_margin"]["ours"] == pytest.approx(0.3)   # case c1: 0.5 - 0.2
    assert report["min_role_margin"]["theirs"] == pytest.approx(2.0)


def test_a_logit_off_by_more_than_the_tolerance_counts_its_case_and_a_flip_counts_a_decision(snapshot):
    agent = AGENT.copy()
    agent[1, 2] = 0.6  # beyond tolerance, and it now beats 0.5: the decision flips
    report = compare_to_snapshot(["c0", "c1"], agent, ROLE, [5, 6], snapshot, tolerance=0.05)
    assert report["within_tolerance"] == 0.5 and report["max_abs_diff"] == pytest.approx(0.4)
    assert report["agent_agreement"] == 0.5 and report["role_agreement"] == 1.0
    assert report["token_count_agreement"] == 0.5
    near = compare_to_snapshot(["c0", "c1"], AGENT + 0.04, ROLE, [5, 5], snapshot, tolerance=0.05)
    assert near["within_tolerance"] == 1.0


def test_a_case_the_snapshot_lacks_or_of_another_shape_is_an_error_naming_it(snapshot):
    with pytest.raises(SnapshotError, match=r"no logits for 1 fixture cases, e.g. \['c9'\]"):
        compare_to_snapshot(["c0", "c9"], AGENT, ROLE, [5, 5], snapshot, tolerance=0.05)
    with pytest.raises(SnapshotError, match="case 'c0' has 3 agent / 2 role logits; the coordinator has 4 / 2"):
        compare_to_snapshot(["c0", "c1"], np.zeros((2, 4)), ROLE, [5, 5], snapshot, tolerance=0.05)


@pytest.mark.parametrize("doc, message", [
    ("not json", "not valid JSON"),
    (json.dumps({"schema_version": 2, "cases": []}), "schema_version 1, got 2"),
    (json.dumps({"schema_version": 1, "cases": []}), "non-empty 'cases'"),
    (json.dumps({"schema_version": 1, "cases": [{"id": "c0", "agent_id": 0}]}), "case 'c0' is malformed"),
    (json.dumps({"schema_version": 1, "cases": [_case("c0", [0.1, float("nan")], [1.0, 0.0])]}), "finite numbers"),
    (json.dumps({"schema_version": 1, "cases": [_case("c0", [1.0, 0.0], [1.0, 0.0]), _case("c0", [1.0, 0.0], [1.0, 0.0])]}), "'c0' repeats"),
])
def test_a_malformed_snapshot_is_refused_naming_the_file(tmp_path, doc, message):
    path = tmp_path / "bad.json"
    path.write_text(doc)
    with pytest.raises(SnapshotError, match=message) as err:
        load_snapshot(path)
    assert str(path) in str(err.value)
