"""Recursion on the recorded pool (fugu/conductor/recorded_recursion.py): round 1 is shown round 0's
workflow and the recorded answer it got, a long response keeps its end (counted), a missing one is said
so (counted); judge_recursion scores both rounds like the Conductor's plans."""

import numpy as np
import pytest

from fugu.conductor.recorded_recursion import NO_RESPONSE, NO_WORKFLOW, ShownResponses, response_tail, revision_prompts
from fugu.conductor.recorded_task import read_plan
from fugu.conductor.schema import Step, Workflow
from fugu.evaluation.conductor_judgement import judge_recursion
from tests.conductor.test_recorded_task import outcomes


@pytest.fixture(scope="module")
def tokenizer(smollm2_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_dir)


def plan_for(worker: int, n_workers: int = 3):
    return read_plan(Workflow(steps=[Step(worker=worker, instruction="solve")]).to_json(), n_workers, 4)


def test_a_long_response_keeps_its_end_and_says_it_was_cut(tokenizer):
    text = "reasoning " * 300 + "so the answer is 42"
    tail, cut = response_tail(tokenizer, text, 16)
    assert cut and tail.endswith("the answer is 42") and len(tokenizer(tail)["input_ids"]) <= 16 + 2
    assert response_tail(tokenizer, "short: 42", 16) == ("short: 42", False)
    with pytest.raises(ValueError, match="at least 1"):
        response_tail(tokenizer, text, 0)


def test_round_one_is_shown_round_zeros_workflow_and_its_workers_recorded_answer(tokenizer):
    data = outcomes([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    responses = np.array([["a0", "b0", "c0"], ["a1", "b1 " * 200 + "END", "c1"], ["a2", None, "c2"]], dtype=object)
    round0 = [plan_for(2), plan_for(1), read_plan("not a workflow", 3, 4)]
    prompts, shown = revision_prompts(tokenizer, data, responses, round0, question_chars=50, response_tokens=32)
    assert shown == ShownResponses(cut=1, missing=0)
    assert '"worker":2' in prompts[0].replace(" ", "") and "c0" in prompts[0] and "a0" not in prompts[0]
    assert prompts[1].count("b1") < 200 and "END" in prompts[1]
    assert NO_WORKFLOW in prompts[2]
    _, shown = revision_prompts(tokenizer, data, responses, [plan_for(0), plan_for(0), plan_for(1)], 50, 32)
    assert shown == ShownResponses(cut=0, missing=1)
    assert NO_RESPONSE in revision_prompts(tokenizer, data, responses, [plan_for(1)] * 3, 50, 32)[0][2]
    with pytest.raises(ValueError, match="2 round-0 plans for 3 questions"):
        revision_prompts(tokenizer, data, responses, round0[:2], 50, 32)


def test_judge_recursion_pairs_the_rounds_question_by_question():
    data = outcomes([[1, 0], [0, 1], [1, 0], [0, 1]])
    round0 = [plan_for(0, 2)] * 4                     # right on questions 0 and 2
    round1 = [plan_for(0, 2), plan_for(1, 2), plan_for(1, 2), read_plan("?", 2, 4)]  # fixes 1, breaks 2
    judged = judge_recursion([round0], [round1], data, [0], 500, 0, 0.95, [ShownResponses(3, 0)])
    assert judged["round0_accuracy"]["estimate"] == 0.5 and judged["round1_accuracy"]["estimate"] == 0.5
    assert judged["accuracy_delta"]["estimate"] == 0.0
    assert judged["fixed"] == [1] and judged["broken"] == [1]
    assert judged["revised_fraction"] == [0.75] and judged["round1_parse_failure_rate"] == [0.25]
    assert judged["responses_cut"] == [3] and judged["responses_missing"] == [0]
