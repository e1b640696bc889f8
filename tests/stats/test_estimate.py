"""The one bootstrap: paired over arms, pooled over questions and seeds, exact on 0/1 outcomes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fugu.stats.estimate import Resamples, difference, mean, pooled_estimate, relative, seed_estimate

outcomes = st.lists(st.integers(0, 1), min_size=5, max_size=60)


@given(values=outcomes, seed=st.integers(0, 100))
@settings(max_examples=30, deadline=None)
def test_the_interval_holds_the_estimate(values, seed):
    draw = Resamples.draw(len(values), 1, 200, seed)
    record = pooled_estimate(mean, [np.array(values, dtype=float)], draw, [0])
    low, high = record["ci"]
    assert low <= record["estimate"] <= high and record["n"] == len(values)


def test_an_arm_against_itself_is_exactly_zero_with_a_point_interval():
    a = (np.random.default_rng(0).random((3, 50)) < 0.5).astype(float)
    record = pooled_estimate(difference, [a, a], Resamples.draw(50, 3, 300, 0), [0, 1, 2])
    assert record["estimate"] == 0.0 and record["ci"] == [0.0, 0.0] and record["per_seed"] == [0.0] * 3


def test_pairing_makes_a_constant_shift_a_point_interval():
    """Questions are resampled together for both arms: a router right exactly where best single is,
    plus on 10 more questions, gains exactly 10/n in every resample's seed-free comparison."""
    base = np.zeros(100)
    base[:40] = 1
    better = base.copy()
    better[40:50] = 1
    record = pooled_estimate(difference, [better, base], Resamples.draw(100, 1, 500, 0), [0])
    assert record["estimate"] == pytest.approx(0.1)
    assert record["ci"][0] > 0


def test_a_ratio_over_zero_is_left_out():
    zero = np.zeros(20)
    assert pooled_estimate(relative, [np.ones(20), zero], Resamples.draw(20, 1, 100, 0), [0]) is None


def test_seeds_are_resampled_too():
    """Three seeds that disagree widen the interval beyond what one seed's questions give."""
    rng = np.random.default_rng(0)
    rows = np.stack([(rng.random(200) < p).astype(float) for p in (0.2, 0.5, 0.8)])
    pooled = pooled_estimate(mean, [rows], Resamples.draw(200, 3, 1000, 0), [0, 1, 2])
    one = pooled_estimate(mean, [rows[1]], Resamples.draw(200, 1, 1000, 0), [1])
    assert pooled["ci"][1] - pooled["ci"][0] > 2 * (one["ci"][1] - one["ci"][0])
    assert pooled["per_seed"] == pytest.approx([rows[0].mean(), rows[1].mean(), rows[2].mean()])


def test_a_number_measured_once_per_seed_resamples_seeds():
    record = seed_estimate([3.0, 1.0, 2.0], [0, 1, 2], 500, 0)
    assert record["estimate"] == 2.0 and record["n"] == 3 and record["unit_resampled"] == "seeds"
    assert 1.0 <= record["ci"][0] <= record["ci"][1] <= 3.0


def test_arms_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match="questions"):
        pooled_estimate(mean, [np.ones((2, 10))], Resamples.draw(10, 3, 50, 0), [0, 1, 2])
