"""Fixtures in the reference format; the tiny one's split and planted rule."""

import json

import pytest

from fugu.trinity.fixture import FixtureError, load_fixture, save_fixture, tiny_fixture

WORKERS = ["w0", "w1", "w2", "w3"]
ROLES = ["solver", "thinker", "verifier"]


def test_the_reference_format_loads(tmp_path):
    doc = {"cases": [{"id": "code_debug", "tags": ["code"], "notes": "n",
                      "expected": {"agent_id": 3, "role_id": 0},
                      "messages": [{"role": "user", "content": "Fix this"}]}], "coverage": {}}
    (tmp_path / "f.json").write_text(json.dumps(doc))
    case = load_fixture(tmp_path / "f.json").cases[0]
    assert (case.id, case.agent_id, case.role_id, case.messages) == ("code_debug", 3, 0, [{"role": "user", "content": "Fix this"}])


def test_save_then_load_round_trips(tmp_path):
    fixture = tiny_fixture(WORKERS, ROLES, n_per_cell=4, held_out_fraction=0.25, seed=0)
    loaded = load_fixture(save_fixture(tmp_path / "f.json", fixture, "test"))
    assert loaded.cases == fixture.cases and loaded.workers == WORKERS and loaded.roles == ROLES


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"cases": []}', "non-empty 'cases'"),
    ('{"cases": [{"id": "x", "messages": []}]}', "case 0 is malformed"),
])
def test_a_malformed_fixture_is_refused_naming_the_file(tmp_path, content, message):
    (tmp_path / "bad.json").write_text(content)
    with pytest.raises(FixtureError, match=f"bad.json: .*{message}"):
        load_fixture(tmp_path / "bad.json")


def test_tiny_fixture_covers_every_worker_and_role_in_both_splits():
    fixture = tiny_fixture(WORKERS, ROLES, n_per_cell=8, held_out_fraction=0.25, seed=1)
    for split in ("train", "held_out"):
        cases = fixture.split(split)
        assert {c.agent_id for c in cases} == set(range(4)) and {c.role_id for c in cases} == set(range(3))
    assert len(fixture.split("held_out")) == 4 * 3 * 2
    assert not {c.id for c in fixture.split("train")} & {c.id for c in fixture.split("held_out")}


def test_tiny_fixture_roles_follow_the_exchange_state():
    fixture = tiny_fixture(WORKERS, ROLES, n_per_cell=3, held_out_fraction=0.34, seed=0)
    for case in fixture.cases:
        if case.role_id == 0:
            assert [m["role"] for m in case.messages] == ["user"]
        else:
            assert case.messages[-1]["role"] == "assistant"
            assert case.messages[-1]["content"].endswith("stuck." if case.role_id == 1 else "final.")


def test_tiny_fixture_is_seeded():
    make = lambda seed: tiny_fixture(WORKERS, ROLES, n_per_cell=3, held_out_fraction=0.34, seed=seed)
    assert make(0) == make(0) and make(0) != make(1)
