"""The claims registry: every documented claim has a valid record; bad records name their file."""

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from claims import Assertion, ClaimError, load_claim, load_claims

MISSION_CLAIM_IDS = {
    "selftest-agent", "selftest-role", "trinity-cmaes", "conductor-grpo", "orchestration-gain",
    "recursion-mock", "recursion-real", "adaptive-pool", "perstep-subset", "serve-e2e",
    "pool-hidden", "param-count",
}
# The two Sakana papers and the outside reproduction: table rows, each named in `source`.
PAPER_CLAIM_IDS = {
    "trinity-heldout-avg", "trinity-id-avg", "trinity-table4-reinforce", "trinity-param-budget", "trinity-turns",
    "conductor-table1-avg", "conductor-table7-moa", "conductor-recursion", "semantic-router-gpqa",
}
# The rest of the landscape: the fork's held-out runs, the product's figure, the largest router benchmark.
LANDSCAPE_CLAIM_IDS = {"openfugu-fork-gsm8k", "fugu-product-figure", "llmrouterbench-heldout-gain"}

VALID = {
    "id": "example-claim",
    "statement": "An example statement long enough.",
    "source": "a README",
    "grade": "EXEC",
    "their_evidence": {"kind": "held-out", "detail": "what the source measured, in words"},
    "metric": {"file": "metrics/eval.json", "key": "a.b"},
    "assert": {"op": ">", "value": 0.0},
    "effect": {"shape": "effect", "value": 0.5, "unit": "accuracy points", "from": "0.9 − 0.4 (a table)"},
    "scale": ["full"],
}


def write_claim(tmp_path: Path, record: dict, name: str = "example-claim") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(record))
    return path


def test_registry_holds_one_record_per_mission_claim():
    claims = load_claims()
    twins = {c.id for c in claims if c.twin_of}  # mock counterparts: our own records, or a published mock claim
    published = MISSION_CLAIM_IDS | PAPER_CLAIM_IDS | LANDSCAPE_CLAIM_IDS
    assert {c.id for c in claims if c.part_of is None} - twins == published - twins
    assert {c.part_of for c in claims if c.part_of} <= {c.id for c in claims}
    assert {c.twin_of for c in claims if c.twin_of} <= {c.id for c in claims} - twins


def test_a_mock_twin_is_listed_right_after_the_real_record_it_twins():
    order = [c.id for c in load_claims()]
    assert order.index("recursion-real") < order.index("recursion-mock")
    assert order[order.index("adaptive-pool"):][:4] == ["adaptive-pool", "adaptive-pool-blind", "adaptive-pool-mock",
                                                          "adaptive-pool-blind-mock"]


def test_a_twin_of_a_missing_record_names_the_file(tmp_path):
    write_claim(tmp_path, {**VALID, "twin_of": "no-such-claim"})
    with pytest.raises(ClaimError, match="example-claim.yaml: twin_of names 'no-such-claim'"):
        load_claims(tmp_path)


def test_paper_records_name_paper_and_table():
    for claim in load_claims():
        if claim.id.startswith(("trinity-", "conductor-table", "conductor-recursion")) and claim.id != "trinity-cmaes":
            assert "arXiv 2512.0" in claim.source and ("Table" in claim.source or "section" in claim.source), claim.id


def test_every_record_says_what_its_source_measured():
    for claim in load_claims():
        assert claim.their_evidence.kind and len(claim.their_evidence.detail) >= 10, claim.id


MECHANISM = {"name": "the thing", "off": "switched off", "control": "tests/audit/test_claim_controls.py::test_x"}


def test_mock_or_in_sample_source_cannot_be_called_held_out(tmp_path):
    record = {**VALID, "statement": "Beats everything on held-out questions.",
              "their_evidence": {"kind": "in-sample", "detail": "scored on its training questions"}}
    with pytest.raises(ClaimError, match="must not call it held-out"):
        load_claim(write_claim(tmp_path, record))


DIRECTION = {"shape": "direction", "unit": "points", "from": "not comparable: direction only"}


def test_a_reduced_check_must_name_its_mechanism_and_control(tmp_path):
    reduced = {"assert": {"op": ">", "value": 0}, "effect": DIRECTION, "meaning": "x" * 20}
    with pytest.raises(ClaimError, match="mechanism"):
        load_claim(write_claim(tmp_path, {**VALID, "reduced": reduced}))
    claim = load_claim(write_claim(tmp_path, {**VALID, "reduced": {**reduced, "mechanism": MECHANISM}}))
    assert claim.mechanisms[0].control.endswith("::test_x")


def test_a_tiny_executed_check_must_name_its_mechanism(tmp_path):
    with pytest.raises(ClaimError, match="mechanism"):
        load_claim(write_claim(tmp_path, {**VALID, "scale": ["reduced", "full"]}))
    assert load_claim(write_claim(tmp_path, {**VALID, "scale": ["reduced"], "mechanism": MECHANISM})).mechanism


def test_an_unmeasured_claim_has_neither_metric_nor_assert_and_says_what_it_needs(tmp_path):
    bare = {k: v for k, v in VALID.items() if k not in ("metric", "assert", "effect")}
    with pytest.raises(ClaimError, match="requires"):
        load_claim(write_claim(tmp_path, bare))
    claim = load_claim(write_claim(tmp_path, {**bare, "requires": ["the paper's API pool"]}))
    assert claim.check_at("full") is None
    with pytest.raises(ClaimError, match="come together"):
        load_claim(write_claim(tmp_path, {**bare, "requires": ["x"], "metric": VALID["metric"]}))


def test_valid_record_loads(tmp_path):
    claim = load_claim(write_claim(tmp_path, VALID))
    assert claim.check_at("full").assertion.op == ">" and claim.check_at("full").effect.value == 0.5
    assert claim.check_at("reduced") is None


@pytest.mark.parametrize("field", ["statement", "source", "grade", "their_evidence", "scale"])
def test_missing_field_is_an_error_naming_the_file(tmp_path, field):
    record = {k: v for k, v in VALID.items() if k != field}
    path = write_claim(tmp_path, record)
    with pytest.raises(ClaimError, match=str(path)) as err:
        load_claim(path)
    assert field in str(err.value)


def test_unknown_operator_is_an_error_naming_the_file(tmp_path):
    path = write_claim(tmp_path, {**VALID, "assert": {"op": "roughly", "value": 1}})
    with pytest.raises(ClaimError, match=r"example-claim\.yaml.*assert\.op"):
        load_claim(path)


def test_unknown_field_is_rejected(tmp_path):
    with pytest.raises(ClaimError, match="surprise"):
        load_claim(write_claim(tmp_path, {**VALID, "surprise": 1}))


def test_id_must_match_file_name(tmp_path):
    with pytest.raises(ClaimError, match="must match the file name"):
        load_claim(write_claim(tmp_path, VALID, name="other-name"))


def test_a_reduced_check_is_only_for_a_claim_not_already_checked_at_reduced_scale(tmp_path):
    record = {**VALID, "scale": ["reduced", "full"], "mechanism": MECHANISM,
              "reduced": {"assert": {"op": ">", "value": 0}, "effect": DIRECTION, "meaning": "x" * 20,
                          "mechanism": MECHANISM}}
    with pytest.raises(ClaimError, match="already checked at reduced scale"):
        load_claim(write_claim(tmp_path, record))


def test_a_claimed_effect_without_a_unit_is_refused_naming_the_file(tmp_path):
    effect = {k: v for k, v in VALID["effect"].items() if k != "unit"}
    path = write_claim(tmp_path, {**VALID, "effect": effect})
    with pytest.raises(ClaimError, match=r"example-claim\.yaml.*effect\.unit"):
        load_claim(path)


@pytest.mark.parametrize("op, value", [(">", -0.2), ("<", 0.3), (">=", 0.0)])
def test_a_claimed_effect_whose_direction_contradicts_its_assertion_is_refused(tmp_path, op, value):
    record = {**VALID, "assert": {"op": op, "value": 0.0}, "effect": {**VALID["effect"], "value": value}}
    with pytest.raises(ClaimError, match=r"example-claim\.yaml.*direction is the other way"):
        load_claim(write_claim(tmp_path, record))


@pytest.mark.parametrize("effect, message", [
    ({"shape": "effect", "unit": "points", "from": "a table row"}, "must state its value"),
    ({"shape": "direction", "value": 0.1, "unit": "points", "from": "a table row"}, "states no effect value"),
    ({"shape": "tie", "value": 0.05, "unit": "points", "from": "a table row"}, "asserts no difference"),
])
def test_an_effect_of_the_wrong_shape_for_its_record_is_refused(tmp_path, effect, message):
    with pytest.raises(ClaimError, match=message):
        load_claim(write_claim(tmp_path, {**VALID, "effect": effect}))


def test_every_measured_claim_states_its_effect_with_a_unit_and_where_it_comes_from():
    for claim in load_claims():
        for check in filter(None, (claim.check_at("full"), claim.check_at("reduced"))):
            assert check.effect.unit and check.effect.source_numbers, claim.id


def test_not_yaml_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed")
    with pytest.raises(ClaimError, match="broken.yaml.*not valid YAML"):
        load_claim(path)


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@given(value=finite, tolerance=st.floats(min_value=0, max_value=10), delta=st.floats(min_value=0, max_value=10))
def test_tolerance_only_widens_the_check(value, tolerance, delta):
    strict = Assertion(op=">=", value=value)
    tolerant = Assertion(op=">=", value=value, tolerance=tolerance)
    measured = value - delta
    assert not strict.holds(measured) or tolerant.holds(measured)
    assert Assertion(op="approx", value=value, tolerance=tolerance).holds(value)


def test_operators_mean_what_they_say():
    assert Assertion(op=">", value=1).holds(1.5) and not Assertion(op=">", value=1).holds(1)
    assert Assertion(op="<", value=1).holds(0.5) and not Assertion(op="<", value=1).holds(1)
    assert Assertion(op="<=", value=1).holds(1) and not Assertion(op="<=", value=1).holds(1.01)
    assert Assertion(op="approx", value=0).holds(0) and not Assertion(op="approx", value=0).holds(1)  # exact
    assert not Assertion(op="approx", value=1.64, tolerance=0.1).holds(1.21)


def test_equality_is_approx_with_no_tolerance_and_reads_as_such():
    with pytest.raises(ValidationError):
        Assertion(op="==", value=0)  # one operator for "no difference": approx
    assert Assertion(op="approx", value=0).describe() == "== 0"
    assert Assertion(op="approx", value=19500, tolerance=500).describe() == "≈ 19500 ± 500"
