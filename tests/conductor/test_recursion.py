"""Recursion: round r+1 reads round r; eval compares rounds on held-out questions."""

import asyncio

import numpy as np
import pytest

from fugu.conductor.recursion import VotingConductor, compare_rounds, estimate_skill, mock_recursion, run_rounds
from fugu.pools.simulated import SimulatedPool, split_question_ids


@pytest.fixture(scope="module")
def pool() -> SimulatedPool:
    return SimulatedPool.generate(n_questions=80, n_categories=4, n_workers=4, seed=0)


class Scripted:
    """Emits fixed texts per round and records what it was shown."""

    def __init__(self, texts):
        self.texts, self.seen = list(texts), []

    def propose(self, prompt, question, previous):
        self.seen.append((prompt, previous))
        return self.texts[len(self.seen) - 1]


def test_round_one_reads_round_zero_workflow_and_outputs(pool):
    q = pool.questions[0]
    first = '{"steps": [{"worker": 1, "instruction": "solve"}]}'
    conductor = Scripted([first, '{"steps": [{"worker": 2, "instruction": "solve"}]}'])
    history = asyncio.run(run_rounds(conductor, pool, q.text, rounds=2, max_steps=3, time_budget_s=5))
    prompt, previous = conductor.seen[1]
    assert previous is history[0]
    assert "Previous workflow:" in prompt and '"worker":1' in prompt
    assert history[0].execution.outputs[0] in prompt
    assert [h.workflow.final_worker() for h in history] == [1, 2]


def test_unparseable_round_is_recorded_and_shown_to_the_next(pool):
    q = pool.questions[0]
    conductor = Scripted(["no idea", '{"steps": [{"worker": 0, "instruction": "solve"}]}'])
    history = asyncio.run(run_rounds(conductor, pool, q.text, rounds=2, max_steps=3, time_budget_s=5))
    assert history[0].workflow is None and "no workflow JSON" in history[0].error
    assert "Error: " in conductor.seen[1][0]
    assert history[1].answer is not None


def test_compare_rounds_counts_fixes_against_round_zero(pool):
    rows = [{"question": q.text, "question_id": q.question_id, "answer": str(q.answer)} for q in pool.questions[:20]]
    right = [int(np.argmax(pool.realised[i])) if pool.realised[i].any() else 0 for i in range(20)]

    class FixesInRoundOne:
        def propose(self, prompt, question, previous):
            i = next(k for k, r in enumerate(rows) if r["question"] == question)
            worker = right[i] if previous is not None else int(np.argmin(pool.realised[i]))
            return f'{{"steps": [{{"worker": {worker}, "instruction": "solve"}}]}}'

    result = compare_rounds(FixesInRoundOne(), pool, rows, rounds=2, max_steps=2, time_budget_s=5)
    solvable = float(pool.realised[:20].any(axis=1).mean())
    unsolved_first = float((pool.realised[:20].min(axis=1) == 0).mean())
    assert result["final_accuracy"] == pytest.approx(solvable)
    assert result["round0_accuracy"] == pytest.approx(1 - unsolved_first)
    assert result["accuracy_delta"]["estimate"] == pytest.approx(result["final_accuracy"] - result["round0_accuracy"])


def test_voting_conductor_starts_with_the_best_estimated_worker(pool):
    skills = np.full((4, 4), 0.1)
    skills[:, 3] = 0.9
    conductor = VotingConductor(pool.categories, skills, votes=2)
    q = pool.questions[0]
    history = asyncio.run(run_rounds(conductor, pool, q.text, rounds=1, max_steps=4, time_budget_s=5))
    assert history[0].workflow.final_worker() == 3 and len(history[0].workflow.steps) == 3


def test_skill_is_estimated_from_training_questions_only(pool):
    train, held = split_question_ids(pool, 0.25, seed=0)
    assert not set(train) & set(held)
    estimate = estimate_skill(pool, train)
    rows = [i for i, q in enumerate(pool.questions) if q.question_id in set(train) and q.category == pool.categories[0]]
    assert np.allclose(estimate[0], pool.realised[rows].mean(axis=0))


def test_mock_recursion_is_labelled_mock(pool):
    train, held = split_question_ids(pool, 0.25, seed=0)
    result = mock_recursion(pool, train, held, rounds=2, votes=3, max_steps=4, time_budget_s=5, max_attempts=1)
    assert result["mock"] is True and result["n_questions"] == len(held) and len(result["accuracy_by_round"]) == 2
