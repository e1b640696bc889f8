"""The adaptive k-of-n pool on recorded outcomes (fugu/evaluation/adaptive_pool.py): no pool is empty,
every size is reported, the best single available worker follows THE rule, masks off = the unaware head."""

import numpy as np
import pytest

from fugu.data.matrix import best_single_among, best_single_index
from fugu.evaluation.adaptive_pool import (
    adaptive_pool_on_outcomes,
    best_available_choices,
    fixed_test_pools,
    training_masks,
)
from fugu.evaluation.worker_masks import worker_subsets
from fugu.training.cmaes import CMAESConfig
from tests.audit.test_claim_controls import separable_world
from tests.conductor.test_recorded_task import outcomes


def test_test_pools_cover_every_size_and_are_never_empty():
    pools = fixed_test_pools(5, subsets_per_size=4, seed=0)
    assert sorted(pools) == [1, 2, 3, 4]
    assert [len(pools[k]) for k in (1, 2, 3, 4)] == [4, 4, 4, 4]   # C(5,1)=5 and C(5,4)=5 are sampled down too
    assert all(len(s) == k and len(set(s)) == k for k, subsets in pools.items() for s in subsets)
    assert fixed_test_pools(5, 4, seed=0) == pools                  # fixed by the seed
    assert len(fixed_test_pools(5, 100, 0)[2]) == 10                # all of them when there are few


def test_k_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"k must be in \[1, 2\]"):
        worker_subsets(3, 0)
    with pytest.raises(ValueError, match=r"k must be in \[1, 2\]"):
        worker_subsets(3, 3)


def test_training_masks_keep_at_least_one_and_fewer_than_all_workers():
    masks = training_masks(2000, 4, np.random.default_rng(0))
    sizes = masks.sum(axis=1)
    assert sizes.min() == 1 and sizes.max() == 3
    assert set(np.unique(sizes)) == {1, 2, 3}


def test_the_best_single_available_worker_follows_the_rule_within_the_pool():
    train = outcomes([[1, 1, 0], [1, 0, 0], [1, 1, 1]])   # accuracy 1, 2/3, 1/3
    assert best_single_among(train, None) == best_single_index(train) == 0
    masks = np.array([[False, True, True], [False, False, True], [True, True, False]])
    assert best_available_choices(train, masks).tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="at least one available worker"):
        best_single_among(train, np.zeros(3, dtype=bool))


def run(train_under_masks: bool = True) -> dict:
    _, data, hidden = separable_world()
    return adaptive_pool_on_outcomes(hidden[:120], data.take(range(120)), hidden[120:], data.take(range(120, 160)),
                                     subsets_per_size=3, replicas=2, config=CMAESConfig(8, 8, 1.0, 0), seed=0,
                                     seeds=(0, 1), bootstrap_resamples=200, train_under_masks=train_under_masks,
                                     pool="separable-4")


def test_every_size_is_reported_and_the_headline_pools_the_sizes_with_a_choice():
    result = run()
    assert result["pool"] == "separable-4" and result["mock"] is True and result["n_workers"] == 4
    assert sorted(result["per_size"]) == ["1", "2", "3"] and result["headline_sizes"] == [2, 3]
    one = result["per_size"]["1"]["accuracy"]     # one available worker: every policy answers with it
    assert len({round(one[arm]["estimate"], 12) for arm in one}) == 1
    for size in result["per_size"].values():
        acc = {arm: size["accuracy"][arm]["estimate"] for arm in size["accuracy"]}
        assert all(acc[arm] <= acc["oracle"] + 1e-12 for arm in acc)
    assert result["n_cases"] == result["n_test_questions"] * result["n_test_pools"] == 40 * 9
    assert result["vs_unaware"]["n"] == 40 and result["vs_unaware"]["seeds"] == [0, 1]  # questions resampled


def test_without_masks_the_adaptive_head_is_the_unaware_one():
    off = run(train_under_masks=False)
    assert off["trained_under_masks"] is False
    assert off["vs_unaware"]["estimate"] == 0.0 and off["vs_unaware"]["ci"] == [0.0, 0.0]
