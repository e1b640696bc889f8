"""Graders: turn a worker's text into a score in [0, 1] against a reference answer.

Two kinds, one per way the pipeline meets correctness:

- ``numeric``  GSM8K-style: the final number of the response equals the reference number.
  "Final" is the content of the last ``\\boxed{}``, else the number after the last
  ``####`` (GSM8K's own gold format), else the first number after the last "answer is" /
  "answer:", else the last number in the text. Commas, currency, percent signs, LaTeX
  ``\\frac`` and unicode minus are normalised; comparison is exact (as fractions).
- ``recorded`` the correctness flag a data set already carries (bool, 0/1, a score in
  [0, 1], or "true"/"false"); used by the replay pool and the converter.

A missing or unusable *reference* is a :class:`GraderError` (the data is wrong); a response
with no answer in it simply scores 0.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction


class GraderError(ValueError):
    """A reference answer or recorded flag that cannot be graded against; the message names it."""


# --- numbers --------------------------------------------------------------------------------

# A number not glued to a word or to a preceding digit/dot: "1,234.5", "-3", ".5", "3/4".
# Thousands separators must come in groups of three, so "1,2,3" is three numbers.
_NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?(?![\d])"
    r"|(?<![\w.])[-+]?\.\d+"
)
_ANSWER_IS = re.compile(r"answer\s*(?:is|:)\s*:?", re.IGNORECASE)
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")


def extract_number(text: str) -> Fraction | None:
    """The final numeric answer in ``text`` (see module docstring for the order), or None."""
    text = _normalise_math(text)
    boxed = _last_boxed(text)
    if boxed is not None:
        return _last_number(boxed)
    if "####" in text:
        return _first_number(text.rsplit("####", 1)[1])
    stated = list(_ANSWER_IS.finditer(text))
    if stated:
        found = _first_number(text[stated[-1].end():])
        if found is not None:
            return found
    return _last_number(text)


def grade_numeric(response: str, reference: str | float | int) -> float:
    """1.0 when the response's final number equals the reference's, else 0.0."""
    expected = reference if isinstance(reference, Fraction) else _reference_number(reference)
    got = extract_number(response or "")
    return float(got is not None and got == expected)


def _reference_number(reference: str | float | int) -> Fraction:
    if isinstance(reference, bool):
        raise GraderError(f"numeric reference must be a number or text, got {reference!r}")
    if isinstance(reference, (int, float)):
        if isinstance(reference, float) and not math.isfinite(reference):
            raise GraderError(f"numeric reference is not finite: {reference!r}")
        return Fraction(reference).limit_denominator(10**9) if isinstance(reference, float) else Fraction(reference)
    found = extract_number(str(reference))
    if found is None:
        raise GraderError(f"numeric reference has no number in it: {reference!r}")
    return found


def _normalise_math(text: str) -> str:
    text = text.replace("\u2212", "-").replace("{,}", "").replace("\\!", "").replace("\\$", "$")
    text = text.replace("\\left", "").replace("\\right", "")
    return _FRAC.sub(lambda m: f"{m.group(1).strip()}/{m.group(2).strip()}", text)


def _last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` / ``\\fbox{...}``, braces balanced."""
    starts = [m.end() for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text)]
    if not starts:
        return None
    depth, start = 1, starts[-1]
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    return text[start:]  # unbalanced: take the rest rather than nothing


def _to_fraction(token: str) -> Fraction | None:
    token = token.replace(",", "")
    try:
        return Fraction(token)
    except (ValueError, ZeroDivisionError):  # "3/0"
        return None


def _numbers(text: str) -> list[Fraction]:
    return [f for f in (_to_fraction(m.group()) for m in _NUMBER.finditer(text)) if f is not None]


def _last_number(text: str) -> Fraction | None:
    found = _numbers(text)
    return found[-1] if found else None


def _first_number(text: str) -> Fraction | None:
    found = _numbers(text)
    return found[0] if found else None


# --- recorded flags -------------------------------------------------------------------------

_TRUE = {"true", "yes", "correct", "1", "1.0", "t", "y"}
_FALSE = {"false", "no", "incorrect", "wrong", "0", "0.0", "f", "n"}


def grade_recorded(value: object) -> float:
    """A data set's own correctness flag as a score in [0, 1]; anything else is a GraderError."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return 1.0
        if word in _FALSE:
            return 0.0
        try:
            value = float(word)
        except ValueError:
            raise GraderError(f"recorded correctness {value!r} is not a flag or a score in [0, 1]") from None
    try:
        score = float(value)  # numpy numbers, ints
    except (TypeError, ValueError):
        raise GraderError(f"recorded correctness {value!r} is not a flag or a score in [0, 1]") from None
    if not (0.0 <= score <= 1.0):  # also rejects NaN
        raise GraderError(f"recorded correctness {value!r} is outside [0, 1]")
    return score
