"""The Conductor's task on recorded outcomes (fugu/conductor/recorded_task.py): plans are read without
raising, the answer is the last step's worker's recorded outcome, gaps are errors at load."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fugu.conductor.recorded_task import (
    RecordedAnswers,
    format_targets,
    held_out_record,
    plan_choices,
    read_plan,
)
from fugu.data.matrix import IncompleteOutcomesError, Outcomes


def outcomes(scores, costs=None) -> Outcomes:
    scores = np.asarray(scores, dtype=float)
    n, k = scores.shape
    return Outcomes(tuple(f"q{i}" for i in range(n)), tuple(f"question {i}" for i in range(n)), ("a",) * n,
                    tuple(f"w{j}" for j in range(k)), scores,
                    np.full((n, k), 1e-3) if costs is None else np.asarray(costs, dtype=float))


def test_a_valid_workflow_is_read_with_its_answering_worker():
    plan = read_plan('{"steps": [{"worker": 0, "instruction": "solve"}, {"worker": 2, "instruction": "check", '
                     '"access": [0]}]}', 3, 4)
    assert plan.failure is None and plan.worker == 2


def test_a_worker_index_outside_the_pool_is_invalid_with_its_kind():
    plan = read_plan('{"steps": [{"worker": 7, "instruction": "solve", "access": []}]}', 5, 4)
    assert plan.workflow is None and plan.failure == "unknown_worker"


@given(st.text(max_size=200))
def test_any_text_gives_a_plan_or_a_failure_kind_never_an_exception(text):
    plan = read_plan(text, 5, 4)
    assert (plan.workflow is None) != (plan.failure is None)


def test_format_targets_are_valid_one_step_workflows_with_uniform_workers():
    targets = format_targets(np.random.default_rng(0), 2000, 5)
    workers = [read_plan(t, 5, 1).worker for t in targets]
    assert None not in workers
    assert np.allclose(np.bincount(workers, minlength=5) / len(workers), 0.2, atol=0.03)


def test_a_question_without_a_recorded_outcome_for_a_worker_is_an_error_naming_both():
    with pytest.raises(IncompleteOutcomesError, match="question 'q1', worker 'w0'"):
        RecordedAnswers(outcomes([[1, 0], [np.nan, 1]]))


def test_the_answer_is_the_recorded_outcome_of_the_chosen_worker():
    answers = RecordedAnswers(outcomes([[1, 0], [0, 1]], [[0.002, 0.004], [0.001, 0.003]]))
    assert answers.score("q0", 0) == 1.0 and answers.score("q0", 1) == 0.0
    assert answers.cost("q1", 1) == pytest.approx(3.0)  # USD per 1,000 answers


def test_held_out_record_scores_failed_plans_zero_and_counts_them():
    data = outcomes([[1, 0], [0, 1], [1, 1]])
    plans = [read_plan('[{"worker": 0, "instruction": "x"}]', 2, 4), read_plan("no json", 2, 4),
             read_plan('[{"worker": 5, "instruction": "x"}]', 2, 4)]
    assert plan_choices(plans).tolist() == [0, -1, -1]
    record = held_out_record(plans, data)
    assert record["accuracy"] == pytest.approx(1 / 3)
    assert record["parse_failure_rate"] == pytest.approx(2 / 3)
    assert record["parse_failures"] == {"no_json": 1, "unknown_worker": 1}
    assert record["distinct_workers"] == 1
