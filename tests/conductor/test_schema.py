"""Workflow validation: each impossible workflow gets its own specific error."""

import pytest
from pydantic import ValidationError

from fugu.conductor.schema import Step, Workflow, WorkflowError, validate_workflow


def wf(*steps: tuple[int, list[int]]) -> Workflow:
    return Workflow(steps=[Step(worker=w, instruction=f"do {i}", access=a) for i, (w, a) in enumerate(steps)])


def kind_of(workflow: Workflow, n_workers: int = 3, max_steps: int = 4) -> str:
    with pytest.raises(WorkflowError) as err:
        validate_workflow(workflow, n_workers, max_steps)
    return err.value.kind


def test_a_valid_dag_is_returned_unchanged():
    workflow = wf((0, []), (2, []), (1, [0, 1]))
    assert validate_workflow(workflow, 3, 4) is workflow


def test_empty_workflow_is_rejected():
    assert kind_of(Workflow(steps=[])) == "empty"


def test_too_many_steps_is_rejected_against_the_param():
    workflow = wf((0, []), (0, []), (0, []))
    assert validate_workflow(workflow, 3, 3) is workflow
    assert kind_of(workflow, max_steps=2) == "too_many_steps"


def test_unknown_worker_names_the_step_and_the_pool_size():
    with pytest.raises(WorkflowError, match="step 1 names worker 3, but the pool has 3 workers") as err:
        validate_workflow(wf((0, []), (3, [0])), 3, 4)
    assert err.value.step == 1


def test_self_reference_is_rejected():
    assert kind_of(wf((0, []), (1, [1]))) == "self_reference"


def test_cycle_is_named_as_a_cycle_with_its_path():
    with pytest.raises(WorkflowError, match=r"cycle: 0 -> 2 -> 1 -> 0") as err:
        validate_workflow(wf((0, [2]), (1, [0]), (2, [1])), 3, 4)
    assert err.value.kind == "cycle"


def test_forward_reference_without_a_cycle_is_rejected():
    assert kind_of(wf((0, [1]), (1, []))) == "forward_reference"


def test_reference_to_a_missing_step_is_a_forward_reference():
    assert kind_of(wf((0, []), (1, [7]))) == "forward_reference"


@pytest.mark.parametrize("bad", [
    {"worker": "1", "instruction": "x"},
    {"worker": 1.0, "instruction": "x"},
    {"worker": -1, "instruction": "x"},
    {"worker": 0, "instruction": ""},
    {"worker": 0, "instruction": "x", "access": [-1]},
    {"worker": 0, "instruction": "x", "extra": 1},
])
def test_shape_is_strict(bad):
    with pytest.raises(ValidationError):
        Workflow.model_validate({"steps": [bad]})
