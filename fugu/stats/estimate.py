"""Estimates with intervals pooled over questions and seeds: the one bootstrap of the project.

A reduced check that trains something is run once per seed; its evidence is every seed's
outcome on every question. The interval resamples both (a two-level bootstrap): each
resample draws the seeds with replacement and the questions with replacement, the same draw
for every arm of a comparison (paired), and takes the statistic of the pooled means. An arm
that does not depend on the seed (best single, the oracle, kNN) is one row, shared by every
seed. With one seed this is the ordinary paired bootstrap over questions.

Every estimate is written as one record — ``estimate``, ``ci``, ``n`` (the units resampled:
what "the n needed" counts), ``level``, ``resamples`` (the bootstrap's draws, params'
``bootstrap.resamples``), ``seeds`` and ``per_seed`` (each seed's own number, so a card can show
the spread) — the shape ``verify/schemas.py`` validates and verify decides on.
Counts and 0/1 outcomes make the resampled means exact sums in float64, so an interval does not
move with the BLAS a machine happens to have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

Statistic = Callable[..., Any]  # pooled means (floats or [R] arrays), one per arm → the statistic


def mean(a):
    return a


def difference(a, b):
    return a - b


def relative(a, b):
    """a / b − 1: a relative gain (the form "+107% over best single" is quoted in)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b - 1.0


def ratio(a, b):
    """a / b: a fraction (e.g. of the oracle's accuracy)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def gap_closed(a, base, ceiling):
    """(a − base) / (ceiling − base): the fraction of the best-single → oracle gap closed."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a - base) / (ceiling - base)


@dataclass(frozen=True)
class Resamples:
    """One shared draw of questions and seeds, as multiplicity weights.

    ``question_counts`` [n, R]: how often question i is in resample r; ``seed_counts`` [S, R]: how
    often seed s is. A resampled pooled mean is then two weighted sums (no copied arrays).
    """

    question_counts: np.ndarray
    seed_counts: np.ndarray
    level: float

    @classmethod
    def draw(cls, n: int, n_seeds: int, n_resamples: int, seed: int, level: float = 0.95) -> "Resamples":
        if n < 1 or n_seeds < 1 or n_resamples < 1:
            raise ValueError(f"a bootstrap needs n, seeds and resamples ≥ 1, got {n}, {n_seeds}, {n_resamples}")
        rng = np.random.default_rng([seed, 7919])
        questions = rng.integers(0, n, size=(n_resamples, n))
        seeds = rng.integers(0, n_seeds, size=(n_resamples, n_seeds))
        return cls(_counts(questions, n), _counts(seeds, n_seeds), level)

    @property
    def n(self) -> int:
        return self.question_counts.shape[0]

    @property
    def n_seeds(self) -> int:
        return self.seed_counts.shape[0]

    @property
    def n_resamples(self) -> int:
        return self.question_counts.shape[1]

    def rows(self, values: np.ndarray) -> np.ndarray:
        """``values`` as [S, n]: one row per seed (a seed-free arm is repeated)."""
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            values = np.broadcast_to(values, (self.n_seeds, values.size))
        if values.shape != (self.n_seeds, self.n):
            raise ValueError(f"expected [{self.n_seeds} seeds, {self.n} questions] or [{self.n}], got {list(values.shape)}")
        return values

    def means(self, values: np.ndarray) -> np.ndarray:
        """[R] pooled mean of every resample."""
        per_seed = self.rows(values) @ self.question_counts / self.n  # [S, R]
        return (self.seed_counts * per_seed).sum(axis=0) / self.n_seeds


def _counts(draws: np.ndarray, size: int) -> np.ndarray:
    """[size, R] multiplicity of each index in each row of ``draws`` [R, k]."""
    counts = np.zeros((size, draws.shape[0]))
    np.add.at(counts, (draws, np.arange(draws.shape[0])[:, None]), 1.0)
    return counts


def pooled_estimate(statistic: Statistic, arms: Sequence[np.ndarray], resamples: Resamples,
                    seeds: Sequence[int]) -> dict[str, Any] | None:
    """The estimate record of ``statistic`` over ``arms`` (each [S, n] or [n]), or None when the
    pooled statistic does not exist (a ratio over 0): left out, never written as a number it is not."""
    if len(seeds) != resamples.n_seeds:
        raise ValueError(f"{len(seeds)} seeds named, the draw has {resamples.n_seeds}")
    rows = [resamples.rows(a) for a in arms]
    point = float(statistic(*(r.mean() for r in rows)))
    if not np.isfinite(point):
        return None
    per_seed = [float(statistic(*(r[s].mean() for r in rows))) for s in range(resamples.n_seeds)]
    boot = np.asarray(statistic(*(resamples.means(r) for r in rows)), dtype=float)
    low, high = percentile_interval(boot, resamples.level)
    return {"estimate": point, "ci": [low, high], "n": resamples.n, "level": resamples.level,
            "resamples": resamples.n_resamples, "seeds": [int(s) for s in seeds],
            "per_seed": [v if np.isfinite(v) else None for v in per_seed]}


def seed_estimate(per_seed: Sequence[float], seeds: Sequence[int], n_resamples: int, seed: int,
                  level: float = 0.95) -> dict[str, Any]:
    """A number measured once per seed (no question axis, e.g. generations to optimal): the
    estimate is their mean, the interval resamples seeds, and ``n`` counts seeds."""
    values = np.asarray(per_seed, dtype=float)[:, None]  # [S, 1]: seeds become the resampled unit
    resamples = Resamples.draw(len(values), 1, n_resamples, seed, level)
    record = pooled_estimate(mean, [values[:, 0]], resamples, [seeds[0]])
    assert record is not None
    return {**record, "seeds": [int(s) for s in seeds], "per_seed": [float(v) for v in values[:, 0]],
            "unit_resampled": "seeds"}


def percentile_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval; resamples where a ratio's denominator vanished are dropped."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        raise ValueError("no finite bootstrap resample: the statistic never exists on this data")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)
