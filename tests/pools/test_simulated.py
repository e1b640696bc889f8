"""The simulated pool (a MOCK): a seeded skill matrix that answers through the Pool interface."""

from __future__ import annotations

import numpy as np
import pytest

from fugu.data.graders import grade_numeric
from fugu.pools.base import Pool, PoolError, answer_sync
from fugu.pools.simulated import SimulatedPool, skill_matrix


@pytest.fixture(scope="module")
def pool():
    return SimulatedPool.generate(n_questions=80, n_categories=4, n_workers=4, seed=0)


def test_it_is_a_pool_and_is_labelled_mock(pool):
    assert isinstance(pool, Pool) and pool.mock
    assert pool.outcomes().mock and pool.outcomes(expected=False).mock


def test_the_same_seed_builds_the_same_world_and_another_seed_another():
    a, b, c = (SimulatedPool.generate(40, 3, 4, seed) for seed in (7, 7, 8))
    assert np.array_equal(a.skill, b.skill) and np.array_equal(a.realised, b.realised)
    assert [q.text for q in a.questions] == [q.text for q in b.questions]
    assert not np.array_equal(a.skill, c.skill)


def test_every_category_has_a_specialist_so_routing_beats_any_single_worker():
    skill = skill_matrix(4, 4, seed=0)
    assert (skill.max(axis=1) >= 0.8).all()
    assert skill.max(axis=1).mean() > skill.mean(axis=0).max()  # oracle-by-category > best single
    assert len(set(skill.argmax(axis=1))) == 4  # specialists are spread over workers


def test_bad_skill_ranges_are_rejected():
    with pytest.raises(ValueError, match="base_skill"):
        skill_matrix(2, 2, 0, base_skill=(0.5, 1.5))


def test_answers_are_gradable_and_agree_with_the_realised_matrix(pool):
    outcomes = pool.outcomes(expected=False)
    for i, question in enumerate(pool.questions[:20]):
        for j, worker in enumerate(outcomes.workers):
            reply = answer_sync(pool, worker, [{"role": "user", "content": question.text}])
            assert reply.score == outcomes.scores[i, j]
            assert grade_numeric(reply.text, str(question.answer)) == reply.score
            assert reply.cost == outcomes.costs[i, j] == pool.workers[j].cost_per_call


def test_expected_outcomes_are_the_skill_of_each_question_category(pool):
    outcomes = pool.outcomes()
    for i, category in enumerate(outcomes.categories):
        assert np.array_equal(outcomes.scores[i], pool.skill[pool.categories.index(category)])


def test_realised_success_rates_follow_the_skill_matrix():
    big = SimulatedPool.generate(n_questions=4000, n_categories=2, n_workers=3, seed=1)
    gap = np.abs(big.realised.mean(axis=0) - big.expected.mean(axis=0))
    assert (gap < 0.05).all()


def test_questions_carry_their_category_in_the_text(pool):
    assert all(f"[{q.category}]" in q.text for q in pool.questions)


def test_stronger_workers_cost_more(pool):
    mean_skill = pool.skill.mean(axis=0)
    costs = np.array([w.cost_per_call for w in pool.workers])
    assert np.array_equal(np.argsort(mean_skill), np.argsort(costs))


def test_a_sub_instruction_quoting_the_question_is_answered(pool):
    question = pool.questions[3]
    messages = [{"role": "user", "content": f"Solve this step carefully:\n{question.text}\nShow your work."}]
    assert answer_sync(pool, pool.workers[0].name, messages).score == pool.realised[3, 0]


def test_an_unknown_question_or_worker_is_an_error(pool):
    with pytest.raises(PoolError, match="no record of this question"):
        answer_sync(pool, pool.workers[0].name, [{"role": "user", "content": "What is 2 + 2?"}])
    with pytest.raises(PoolError, match="unknown worker"):
        answer_sync(pool, "nobody", [{"role": "user", "content": pool.questions[0].text}])


def test_selected_question_ids_come_back_in_the_order_asked(pool):
    ids = [pool.questions[5].question_id, pool.questions[2].question_id]
    assert pool.outcomes(ids).question_ids == tuple(ids)
