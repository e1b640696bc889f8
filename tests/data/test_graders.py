"""Graders: numeric (GSM8K-style), multiple-choice letter, and recorded correctness flags."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fugu.data.graders import (
    GraderError,
    extract_number,
    grade_numeric,
    grade_recorded,
)


@pytest.mark.parametrize("text, expected", [
    ("The answer is 72.", 72),
    ("She has $1,234 left.", 1234),
    ("Total: 1,234,567 apples", 1234567),
    ("It is -5 degrees outside.", -5),
    ("It is \u22125 degrees outside.", -5),
    ("x = 10-3 = 7", 7),
    ("The answer is 72. I am 100% sure.", 72),
    ("The answer is: 18 dollars", 18),
    ("It takes 3 hours and costs 18 dollars.", 18),
    ("Price went up 25%", 25),
    ("$18.00", 18),
    ("0.5 of them", Fraction(1, 2)),
    ("Natalia sold 48/2 = 24 clips in May.\n#### 72", 72),
    (r"so the result is \boxed{42}. Check: 40 + 2 = 42, and 7 more", 42),
    (r"\boxed{\frac{3}{4}}", Fraction(3, 4)),
    (r"\boxed{-\dfrac{1}{2}}", Fraction(-1, 2)),
    (r"\boxed{1{,}000}", 1000),
    (r"\boxed{\$18}", 18),
    ("1,2,3", 3),
])
def test_extract_number_finds_the_final_answer(text, expected):
    assert extract_number(text) == expected


@pytest.mark.parametrize("text", ["", "no number here", "ten apples", "3/0"])
def test_extract_number_is_none_without_a_number(text):
    assert extract_number(text) is None


def test_numeric_grade_compares_values_not_spelling():
    assert grade_numeric("The answer is 1,000.00", "1000") == 1.0
    assert grade_numeric("The answer is 72", "#### 72") == 1.0
    assert grade_numeric("The answer is -72", "72") == 0.0
    assert grade_numeric("no idea", "72") == 0.0
    assert grade_numeric("0.5", 0.5) == 1.0


def test_numeric_reference_without_a_number_is_an_error_naming_it():
    with pytest.raises(GraderError, match="seventy"):
        grade_numeric("72", "seventy-two")


@given(st.integers(min_value=-10**9, max_value=10**9), st.integers(min_value=0, max_value=999))
def test_any_integer_is_recovered_with_commas_and_distractors(n, distractor):
    text = f"Step 1 uses {distractor} items. The answer is {n:,}. Then {distractor + 1} more."
    assert extract_number(text) == n
    assert grade_numeric(text, str(n)) == 1.0


@given(st.integers(min_value=-10**6, max_value=10**6), st.integers(min_value=1, max_value=10**4))
def test_boxed_fractions_are_exact(numerator, denominator):
    text = rf"We get \boxed{{\frac{{{numerator}}}{{{denominator}}}}}, then 99."
    assert extract_number(text) == Fraction(numerator, denominator)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_last_number_wins_without_an_answer_marker(a, b):
    assert extract_number(f"first {a} then {b}") == b


@pytest.mark.parametrize("value, expected", [
    (True, 1.0), (False, 0.0), (1, 1.0), (0, 0.0), (0.25, 0.25), ("true", 1.0), ("False", 0.0),
    ("yes", 1.0), ("incorrect", 0.0), ("1", 1.0), ("0.5", 0.5),
])
def test_recorded_flags_become_scores(value, expected):
    assert grade_recorded(value) == expected


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan"), "maybe", None, 2])
def test_recorded_flags_outside_their_range_are_errors_naming_the_value(value):
    with pytest.raises(GraderError, match=repr(value).replace("(", r"\(").replace(")", r"\)")):
        grade_recorded(value)
