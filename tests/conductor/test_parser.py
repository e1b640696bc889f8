"""Parser: tolerant of wrapping, strict about meaning, never raises anything but ParseError."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fugu.conductor.parser import ParseError, parse_workflow
from fugu.conductor.schema import Step, Workflow

MAX_WORKERS, MAX_STEPS = 6, 8


@st.composite
def workflows(draw) -> Workflow:
    n = draw(st.integers(1, MAX_STEPS))
    steps = []
    for i in range(n):
        access = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=i)) if i else []
        steps.append(Step(worker=draw(st.integers(0, MAX_WORKERS - 1)),
                          instruction=draw(st.text(min_size=1, max_size=30)), access=access))
    return Workflow(steps=steps)


PROSE = st.text(alphabet=st.characters(blacklist_characters="{}[]", blacklist_categories=("Cs",)), max_size=40)


@settings(deadline=None)
@given(workflows())
def test_round_trip(workflow):
    assert parse_workflow(workflow.to_json(), MAX_WORKERS, MAX_STEPS) == workflow


@settings(deadline=None)
@given(workflows(), PROSE, PROSE, st.booleans())
def test_round_trip_through_prose_and_code_fences(workflow, before, after, fenced):
    body = f"```json\n{workflow.to_json()}\n```" if fenced else workflow.to_json()
    assert parse_workflow(f"{before}\n{body}\n{after}", MAX_WORKERS, MAX_STEPS) == workflow


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_garbage_never_crashes(text):
    try:
        parse_workflow(text, MAX_WORKERS, MAX_STEPS)
    except ParseError as exc:
        assert 0 <= exc.position <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]",:0123456789 stepworkinruca\\', max_size=200))
def test_json_like_garbage_never_crashes(text):
    try:
        parse_workflow(text, MAX_WORKERS, MAX_STEPS)
    except ParseError:
        pass


def test_trailing_commas_are_tolerated():
    text = '{"steps": [{"worker": 1, "instruction": "a, b", "access": [],},],}'
    assert parse_workflow(text).steps == [Step(worker=1, instruction="a, b")]


def test_commas_inside_strings_are_kept():
    text = '{"steps": [{"worker": 0, "instruction": "x,]"}]}'
    assert parse_workflow(text).steps[0].instruction == "x,]"


def test_bare_list_of_steps_after_unrelated_brackets():
    text = 'Plan [v2]: [{"worker": 0, "instruction": "go"}]'
    assert parse_workflow(text).steps == [Step(worker=0, instruction="go")]


def test_syntax_error_points_at_the_offending_character():
    text = 'ok: {"steps": [{"worker": 0 "instruction": "x"}]}'
    with pytest.raises(ParseError) as err:
        parse_workflow(text)
    assert err.value.kind == "syntax"
    assert text[err.value.position] == '"'


def test_meaning_errors_are_parse_errors_with_their_kind():
    text = 'Here: {"steps": [{"worker": 0, "instruction": "a"}, {"worker": 9, "instruction": "b"}]}'
    with pytest.raises(ParseError) as err:
        parse_workflow(text, n_workers=3, max_steps=4)
    assert err.value.kind == "unknown_worker"
    assert text[err.value.position:].startswith('"worker": 9')


def test_wrong_types_are_refused_not_coerced():
    with pytest.raises(ParseError) as err:
        parse_workflow('{"steps": [{"worker": "0", "instruction": "a"}]}')
    assert err.value.kind == "schema"


def test_text_without_json_is_a_parse_error():
    with pytest.raises(ParseError) as err:
        parse_workflow("I would ask worker 2.")
    assert err.value.kind == "no_json"


def test_steps_nested_inside_another_object_are_not_the_workflow():
    with pytest.raises(ParseError):
        parse_workflow('{"plan": [{"worker": 0, "instruction": "go"}]}')
