"""The decision rule, as properties: what an interval says about a claimed effect, on any numbers."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from verify.decision import Claimed, Interval, decide

unit = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)
positive = st.floats(min_value=1e-3, max_value=2.0, allow_nan=False)
small = st.floats(min_value=0.0, max_value=0.2, allow_nan=False)
ns = st.integers(min_value=1, max_value=10_000)


def interval(low: float, high: float, n: int = 100) -> Interval:
    low, high = min(low, high), max(low, high)
    return Interval((low + high) / 2, low, high, n)


@given(size=positive, tolerance=small, low=unit, high=unit, n=ns)
def test_an_effect_claim_is_judged_by_where_its_interval_lies(size, tolerance, low, high, n):
    low, high = min(low, high), max(low, high)
    decision = decide(Claimed("effect", value=size, tolerance=tolerance), interval(low, high, n))
    if high < 0:
        assert (decision.outcome, decision.why) == ("contradicted", "other sign")
    elif high < size - tolerance:
        assert (decision.outcome, decision.why) == ("contradicted", "smaller than claimed")
    elif low > 0:
        assert decision.outcome == "reproduced"
    else:
        assert decision.outcome == "inconclusive"
        assert decision.n_needed is None or decision.n_needed >= n
        assert decision.mde is not None and decision.mde >= 0


@given(low=unit, high=unit)
def test_a_direction_only_claim_never_needs_an_n_but_reports_its_detectable_effect(low, high):
    low, high = min(low, high), max(low, high)
    decision = decide(Claimed("direction"), interval(low, high))
    expected = "reproduced" if low > 0 else "contradicted" if high < 0 else "inconclusive"
    assert decision.outcome == expected
    assert decision.n_needed is None and decision.mde is not None


@given(margin=positive, low=unit, high=unit)
def test_a_tie_is_reproduced_only_inside_its_margin(margin, low, high):
    low, high = min(low, high), max(low, high)
    decision = decide(Claimed("tie", value=margin), interval(low, high))
    if -margin <= low and high <= margin:
        assert decision.outcome == "reproduced"
    elif low > margin or high < -margin:
        assert decision.outcome == "contradicted"
    else:
        assert decision.outcome == "inconclusive"


@given(null=unit, size=positive, low=unit, high=unit)
def test_a_decreasing_claim_is_the_mirror_of_an_increasing_one(null, size, low, high):
    low, high = min(low, high), max(low, high)
    up = decide(Claimed("level", direction=1, null=null, value=null + size), interval(null + low, null + high))
    down = decide(Claimed("level", direction=-1, null=null, value=null - size), interval(null - high, null - low))
    assert (up.outcome, up.why) == (down.outcome, down.why)


@given(size=positive, tolerance=small, low=unit, high=unit, jitter=st.floats(min_value=1e-4, max_value=0.3),
       shift_low=st.floats(min_value=-1.0, max_value=1.0), shift_high=st.floats(min_value=-1.0, max_value=1.0),
       shape=st.sampled_from(["effect", "direction", "tie"]))
def test_a_decided_verdict_survives_any_move_of_its_bounds_within_the_jitter(size, tolerance, low, high, jitter,
                                                                             shift_low, shift_high, shape):
    """Never a coin flip: a verdict that is not borderline is the verdict every bound within the
    jitter would have given (what another CPU's bits, or other seeds, may do to the interval)."""
    low, high = min(low, high), max(low, high)
    claimed = Claimed(shape, value=None if shape == "direction" else size, tolerance=0.0 if shape == "tie" else tolerance)
    decision = decide(claimed, interval(low, high), jitter)
    moved_low, moved_high = low + shift_low * jitter, high + shift_high * jitter
    assume(moved_low <= moved_high)
    moved = decide(claimed, interval(moved_low, moved_high))
    if not decision.borderline:
        assert moved.outcome == decision.outcome
    else:
        assert decision.outcome == "inconclusive" and decision.why == "borderline"


@given(size=positive, room=st.floats(min_value=0.0, max_value=1.0), low=unit, high=unit)
def test_a_size_beyond_the_datas_headroom_is_contradicted_with_that_reason(size, room, low, high):
    assume(size > room + 1e-9)
    decision = decide(Claimed("effect", value=size, headroom=room), interval(min(low, high), max(low, high)))
    assert (decision.outcome, decision.why) == ("contradicted", "beyond headroom")


def test_the_issues_two_examples_read_as_a_replication_study_would():
    """REINFORCE: claimed +36 points, measured [−9, +4] → contradicted; held-out average: claimed
    +1.87, measured [−13, +2.5] → inconclusive, with the n that would decide it."""
    reinforce = decide(Claimed("effect", value=0.362), Interval(-0.025, -0.09, 0.04, 120))
    assert (reinforce.outcome, reinforce.why) == ("contradicted", "smaller than claimed")
    heldout = decide(Claimed("effect", value=0.0187), Interval(-0.05, -0.13, 0.025, 120))
    assert heldout.outcome == "inconclusive" and heldout.n_needed > 120 * 10


@given(n=st.integers(min_value=10, max_value=5000), half_width=positive)
def test_the_n_needed_grows_as_the_claimed_size_shrinks(n, half_width):
    wide = Interval(0.0, -half_width, half_width, n)
    big, tiny = decide(Claimed("effect", value=1.5 * half_width), wide), decide(Claimed("effect", value=0.5 * half_width), wide)
    if big.n_needed and tiny.n_needed:
        assert tiny.n_needed >= big.n_needed


@pytest.mark.parametrize("bad", [
    lambda: Claimed("effect"),                                   # a size claim without its size
    lambda: Claimed("direction", value=0.1),                     # a direction claim with a size
    lambda: Claimed("effect", direction=1, null=0.5, value=0.4), # the size on the wrong side of the null
    lambda: Claimed("tie", value=-0.1),                          # a negative margin
    lambda: Interval(0.0, 0.2, 0.1, 10),                          # bounds the wrong way round
    lambda: Interval(0.0, -0.1, 0.1, 0),                          # no units
])
def test_malformed_claims_and_intervals_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


def test_jitter_must_be_a_non_negative_number():
    with pytest.raises(ValueError):
        decide(Claimed("direction"), Interval(0.1, 0.0, 0.2, 10), jitter=-0.01)
