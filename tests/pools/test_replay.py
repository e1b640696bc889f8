"""The replay pool plays back recorded outcomes exactly, and never invents one."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from fugu.data.matrix import IncompleteOutcomesError, best_single_index, outcomes_from_table
from fugu.data.table import validate_outcome_table
from fugu.pools.base import Pool, PoolError, answer_sync
from fugu.pools.replay import ReplayPool
from tests.outcome_fixtures import MODELS, tidy_table


@pytest.fixture(scope="module")
def table():
    return validate_outcome_table(tidy_table(12))


@pytest.fixture(scope="module")
def pool(table):
    return ReplayPool(table)


def test_it_is_a_pool_listing_the_recorded_models_with_their_mean_cost(pool, table):
    assert isinstance(pool, Pool)
    assert [w.name for w in pool.workers] == sorted(MODELS)
    for worker in pool.workers:
        assert worker.cost_per_call == pytest.approx(table.loc[table["model"] == worker.name, "cost"].mean())


def test_every_question_model_pair_is_answered_exactly_as_recorded(pool, table):
    async def ask_all():
        return await asyncio.gather(*(
            pool.answer(row.model, [{"role": "system", "content": "be brief"}, {"role": "user", "content": row.question}])
            for row in table.itertuples()
        ))

    for row, reply in zip(table.itertuples(), asyncio.run(ask_all())):
        assert (reply.worker, reply.text, reply.score, reply.cost) == (row.model, row.response, row.score, row.cost)


def test_a_question_id_on_a_message_selects_the_record(pool, table):
    row = table.iloc[4]
    reply = answer_sync(pool, row.model, [{"role": "user", "content": "anything", "question_id": row.question_id}])
    assert reply.text == row.response


def test_a_later_turn_still_answers_the_recorded_question(pool, table):
    row = table.iloc[7]
    conversation = [{"role": "user", "content": row.question}, {"role": "assistant", "content": "draft"},
                    {"role": "user", "content": "Check the draft."}]
    assert answer_sync(pool, row.model, conversation).score == row.score


def test_an_unrecorded_question_is_an_error_not_an_answer(pool):
    with pytest.raises(PoolError, match="no record of this question"):
        answer_sync(pool, MODELS[0], [{"role": "user", "content": "What is the capital of France?"}])


def test_an_unknown_worker_is_an_error_naming_the_pool(pool, table):
    with pytest.raises(PoolError, match="unknown worker 'gpt-9'"):
        answer_sync(pool, "gpt-9", [{"role": "user", "content": table.iloc[0].question}])


def test_a_missing_question_model_pair_is_an_error(table):
    sparse = ReplayPool(table.drop(index=0))
    row = table.iloc[0]
    with pytest.raises(PoolError, match=f"no recorded outcome of {row.model!r}"):
        answer_sync(sparse, row.model, [{"role": "user", "content": row.question}])


def test_a_missing_response_text_is_empty_but_the_outcome_is_still_recorded(table):
    no_text = table.assign(response=None, cost=None)
    reply = answer_sync(ReplayPool(no_text), table.iloc[0].model, [{"role": "user", "content": table.iloc[0].question}])
    assert reply.text == "" and reply.score == table.iloc[0].score and math.isnan(reply.cost)


def test_the_matrix_view_agrees_with_the_pool_answers(pool, table):
    outcomes = pool.outcomes()
    assert outcomes.scores.shape == (12, 3) and not outcomes.mock
    for i, question_id in enumerate(outcomes.question_ids):
        for j, worker in enumerate(outcomes.workers):
            reply = pool.recorded_reply(question_id, worker)
            assert (outcomes.scores[i, j], outcomes.costs[i, j]) == (reply.score, reply.cost)
    assert outcomes.conversations()[0] == [{"role": "user", "content": outcomes.questions[0]}]


def test_the_matrix_baselines_are_what_they_say(table):
    outcomes = outcomes_from_table(table)
    scores = outcomes.scores
    assert outcomes.oracle_accuracy() == pytest.approx(scores.max(axis=1).mean())
    assert outcomes.random_accuracy() == pytest.approx(scores.mean())
    best = outcomes.workers[best_single_index(outcomes)]
    assert outcomes.worker_accuracy()[best] == pytest.approx(scores.mean(axis=0).max())
    score, cost = outcomes.routed(np.zeros(len(outcomes), dtype=int))
    assert score.tolist() == scores[:, 0].tolist() and cost.tolist() == outcomes.costs[:, 0].tolist()


def test_a_matrix_with_a_gap_is_an_error_not_a_silent_nan(table):
    with pytest.raises(IncompleteOutcomesError, match="1 \\(question, worker\\) pairs"):
        outcomes_from_table(table.drop(index=5))
