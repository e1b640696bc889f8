"""The decision rule: an estimate and its interval against the effect a claim states.

Replication studies do not ask "does the number pass a threshold?" but "is our interval
consistent with the claimed effect, with no effect, with both, or with neither?". That is
the whole rule, as pure functions (no I/O, no pytest), property-tested in
``tests/audit/test_decision.py``.

Every claim is read in its own direction: a bound ``x`` becomes ``direction × (x − null)``,
so "more than the null" is always positive and the claimed effect ``E`` is positive.

Shapes (what a claim asserts, stated per record):

effect     a size E:  interval wholly above 0 and not wholly below E − tolerance → reproduced;
           wholly below 0 → contradicted (other sign); wholly below E − tolerance → contradicted
           (smaller than claimed); holding both 0 and E − tolerance → inconclusive (with the
           n that 80% power would need for E). A claimed E beyond this pool's headroom (the
           largest effect the data allow, e.g. the oracle's gain) is contradicted, that reason named.
level      the same with ``null`` at what no mechanism gives (e.g. chance) and E the claimed level.
direction  only a sign: wholly above 0 → reproduced, wholly below → contradicted, else
           inconclusive with the minimum detectable effect at this n (no n needed: no size claimed).
tie        "no difference": interval inside ±margin → reproduced, wholly outside → contradicted,
           else inconclusive with the n that would fit the interval inside the margin.

A bound within ``jitter`` (the measured cross-CPU / seed jitter) of a boundary it is judged
against makes the verdict *inconclusive (borderline)*: the rule is evaluated with each bound
moved by ±jitter, and a verdict that is not the same for all of them is never given as decided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from statistics import NormalDist
from typing import Literal

Shape = Literal["effect", "level", "direction", "tie"]
Outcome = Literal["reproduced", "contradicted", "inconclusive"]
POWER = 0.80  # the power "the n that would decide it" is computed for
TIE_POWER = 0.90  # an equivalence test's power (both one-sided tests at once), the usual TOST choice


@dataclass(frozen=True)
class Claimed:
    """What a claim says, oriented: ``direction`` +1 (more than ``null``) or −1 (less)."""

    shape: Shape
    direction: int = 1
    null: float = 0.0
    value: float | None = None      # effect: E; level: the level; tie: the margin; direction: None
    tolerance: float = 0.0
    headroom: float | None = None   # the largest effect this data allows, in the claim's units (not oriented)

    def __post_init__(self) -> None:
        if self.direction not in (1, -1):
            raise ValueError(f"direction must be +1 or -1, got {self.direction}")
        if self.shape in ("effect", "level", "tie") and self.value is None:
            raise ValueError(f"a {self.shape} claim needs its value")
        if self.shape == "direction" and self.value is not None:
            raise ValueError("a direction-only claim states no value")
        if self.shape in ("effect", "level") and self.size <= 0:
            raise ValueError(f"the claimed {self.shape} {self.value} is not on the asserted side of {self.null}")
        if self.shape == "tie" and (self.value or 0.0) <= 0:
            raise ValueError(f"a tie's equivalence margin must be positive, got {self.value}")

    @property
    def size(self) -> float:
        """E in the claim's own direction (effect, level); the margin for a tie."""
        if self.shape == "tie":
            return float(self.value)  # type: ignore[arg-type]
        return self.direction * (float(self.value) - self.null)  # type: ignore[arg-type]

    def orient(self, low: float, high: float) -> tuple[float, float]:
        """(low, high) of an interval in the claim's direction, relative to the null."""
        a, b = self.direction * (low - self.null), self.direction * (high - self.null)
        return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    n: int                 # the units resampled (questions, cases, seeds): what "the n needed" counts
    level: float = 0.95

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low <= self.high):
            raise ValueError(f"not an interval: [{self.low}, {self.high}]")
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")

    @property
    def standard_error(self) -> float:
        """The interval's half-width in standard errors (a normal approximation, for power only)."""
        return (self.high - self.low) / (2.0 * _z(self.level))


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    why: str                    # one of WHY
    borderline: bool
    mde: float | None           # minimum detectable effect at this n, 80% power, in the claim's units
    n_needed: int | None        # n for 80% power at the claimed effect (inconclusive, sized claims only)
    reason: str


WHY = ("holds", "other sign", "smaller than claimed", "beyond headroom", "outside margin", "inside margin",
       "holds 0 and the claim", "borderline")


def decide(claimed: Claimed, interval: Interval, jitter: float = 0.0) -> Decision:
    """The verdict of one claim on one interval; ``jitter`` ≥ 0 widens every boundary into a band."""
    if jitter < 0 or not math.isfinite(jitter):
        raise ValueError(f"jitter must be a finite non-negative number, got {jitter}")
    low, high = claimed.orient(interval.low, interval.high)
    mde = _mde(interval)
    if claimed.headroom is not None and claimed.shape in ("effect", "level"):
        room = claimed.direction * (claimed.headroom - claimed.null)
        short = claimed.size - claimed.tolerance - room
        if short > jitter:
            return Decision("contradicted", "beyond headroom", False, mde, None,
                            f"the claimed {claimed.size:g} (− tolerance {claimed.tolerance:g}) is beyond this data's "
                            f"headroom {room:.4g}: no router on this pool can reach it")
    outcome, why = _classify(claimed, low, high)
    corners = {_classify(claimed, lo, hi) for lo, hi in product((low - jitter, low + jitter), (high - jitter, high + jitter))
               if lo <= hi}
    if jitter > 0 and len({o for o, _ in corners | {(outcome, why)}}) > 1:
        return Decision("inconclusive", "borderline", True, mde, _n_needed(claimed, interval),
                        f"a bound of [{interval.low:.4g}, {interval.high:.4g}] lies within the measured jitter "
                        f"{jitter:.3g} of a decision boundary: {outcome} ({why}) there, but not for every bound "
                        "within the jitter")
    n_needed = _n_needed(claimed, interval) if outcome == "inconclusive" else None
    return Decision(outcome, why, False, mde, n_needed, _reason(claimed, interval, outcome, why, mde, n_needed))


def _classify(claimed: Claimed, low: float, high: float) -> tuple[Outcome, str]:
    """The rule on an oriented interval (0 = the null; E = the claimed size)."""
    if claimed.shape == "tie":
        margin = claimed.size
        if -margin <= low and high <= margin:
            return "reproduced", "inside margin"
        if low > margin or high < -margin:
            return "contradicted", "outside margin"
        return "inconclusive", "holds 0 and the claim"
    if high < 0:
        return "contradicted", "other sign"
    if claimed.shape != "direction" and high < claimed.size - claimed.tolerance:
        return "contradicted", "smaller than claimed"
    if low > 0:
        return "reproduced", "holds"
    return "inconclusive", "holds 0 and the claim"


def _z(level: float) -> float:
    return NormalDist().inv_cdf(1.0 - (1.0 - level) / 2.0)


def _mde(interval: Interval) -> float:
    """The smallest true effect this n detects with 80% power (two-sided, the interval's level)."""
    return (_z(interval.level) + NormalDist().inv_cdf(POWER)) * interval.standard_error


def _n_needed(claimed: Claimed, interval: Interval) -> int | None:
    """n for 80% power at the claimed size (90% for a tie's equivalence), scaling the standard
    error as 1/√n; None for a direction-only claim (no size to power for) or a point interval."""
    se = interval.standard_error
    if claimed.shape == "direction" or se == 0:
        return None
    target = claimed.size - (claimed.tolerance if claimed.shape != "tie" else 0.0)
    if target <= 0:
        return None
    power = TIE_POWER if claimed.shape == "tie" else POWER
    z = _z(interval.level) + NormalDist().inv_cdf(power)
    return max(interval.n, math.ceil(interval.n * (z * se / target) ** 2))


def _reason(claimed: Claimed, interval: Interval, outcome: Outcome, why: str, mde: float,
            n_needed: int | None) -> str:
    ci = f"[{interval.low:.4g}, {interval.high:.4g}]"
    if claimed.shape == "tie":
        claim = f"a tie within ±{claimed.size:g}"
    elif claimed.shape == "direction":
        claim = "an effect in the claimed direction"
    else:
        claim = f"the claimed {claimed.value:g} (tolerance {claimed.tolerance:g})"
    if outcome == "reproduced":
        return f"estimate {interval.estimate:.4g}, {interval.level:.0%} interval {ci} is consistent with {claim} ({why})"
    if outcome == "contradicted":
        return f"estimate {interval.estimate:.4g}, interval {ci} excludes {claim}: {why}"
    need = f"; {n_needed:,} would give 80% power for the claimed size" if n_needed else ""
    return (f"estimate {interval.estimate:.4g}, interval {ci} holds both no effect and {claim}: at n = {interval.n:,} "
            f"the minimum detectable effect is {mde:.3g}{need}")
