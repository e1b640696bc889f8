"""The Conductor's reward on recorded outcomes (fugu/training/recorded_reward.py): format + the answering
worker's recorded correctness, a stated cost term, failures counted and never raised."""

import numpy as np
import pytest

from fugu.conductor.recorded_task import RecordedAnswers
from fugu.data.matrix import Outcomes
from fugu.training.recorded_reward import RecordedReward


@pytest.fixture
def answers() -> RecordedAnswers:
    scores = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    costs = np.array([[0.001, 0.002, 0.010], [0.001, 0.002, 0.010]])
    return RecordedAnswers(Outcomes(("q0", "q1"), ("first", "second"), ("a", "a"), ("w0", "w1", "w2"), scores, costs))


def one_step(worker: int) -> str:
    return f'{{"steps": [{{"worker": {worker}, "instruction": "solve", "access": []}}]}}'


def test_format_is_one_for_a_valid_workflow_and_zero_otherwise(answers):
    reward = RecordedReward(answers, max_steps=4)
    assert reward.format_reward(None, [one_step(1), "I would ask worker 1.", one_step(9)]) == [1.0, 0.0, 0.0]


def test_answer_is_the_last_workers_recorded_correctness(answers):
    reward = RecordedReward(answers, max_steps=4)
    two_steps = '{"steps": [{"worker": 0, "instruction": "a"}, {"worker": 2, "instruction": "b", "access": [0]}]}'
    assert reward.answer_reward(None, [one_step(0), one_step(0), two_steps], question_id=["q0", "q1", "q1"]) == \
        [1.0, 0.0, 1.0]


def test_a_failed_plan_earns_nothing_and_is_counted_by_kind(answers):
    reward = RecordedReward(answers, max_steps=4)
    completions = [one_step(0), "not a workflow", one_step(7), '{"steps": [']
    reward.format_reward(None, completions)
    assert reward.answer_reward(None, completions, question_id=["q0"] * 4) == [1.0, 0.0, 0.0, 0.0]
    assert reward.failures == {"no_json": 1, "unknown_worker": 1, "syntax": 1}
    assert reward.failure_rate() == pytest.approx(3 / 4)


def test_the_cost_term_subtracts_the_estimated_usd_per_1000_answers(answers):
    reward = RecordedReward(answers, max_steps=4, cost_weight=0.1)
    assert reward.answer_reward(None, [one_step(2)], question_id=["q1"]) == [pytest.approx(1.0 - 0.1 * 10.0)]


def test_chat_message_completions_are_read_too(answers):
    reward = RecordedReward(answers, max_steps=4)
    assert reward.format_reward(None, [[{"role": "assistant", "content": one_step(1)}]]) == [1.0]
