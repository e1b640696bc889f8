"""Routing evaluation: every router judged alike on one split, with bootstrap confidence intervals.

The question eval answers is the one the orchestration claim makes: does per-query routing
beat always calling the best single worker? Two numbers say it — the relative gain over
best-single and the fraction of the best-single → oracle gap closed — each with a paired
bootstrap 95% interval (questions resampled together for every router, so the intervals
reflect the comparison, not two independent noises).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.routing.base import Router, choose


@dataclass(frozen=True)
class Routed:
    """What a router did on one split: the chosen worker and its graded outcome per question."""

    router: str
    choices: np.ndarray  # [n] worker index
    scores: np.ndarray   # [n] graded outcome of the chosen worker
    costs: np.ndarray    # [n] cost of the chosen worker (NaN where not recorded)


def route_split(router: Router, outcomes: Outcomes, available: np.ndarray | None = None) -> Routed:
    choices = choose(router.scores(outcomes.conversations()), available)
    scores, costs = outcomes.routed(choices)
    return Routed(router.name, choices, scores, costs)


def bootstrap_ci(values: np.ndarray, n_resamples: int, seed: int, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError("bootstrap of an empty sample")
    rows = np.random.default_rng(seed).integers(0, values.size, size=(n_resamples, values.size))
    return _percentiles(values[rows].mean(axis=1), level)


def compare_to_baselines(routed: dict[str, Routed], outcomes: Outcomes, best_single: str, oracle: str,
                         n_resamples: int, seed: int, level: float = 0.95) -> dict[str, dict[str, Any]]:
    """Per router: accuracy, cost, gain over best-single and gap closed, each with its interval.

    The one bootstrap of the project. Costs are the *estimated* ones fetch computed
    (``estimated_usd_per_1k``: USD per 1,000 questions), never a recorded bill.

    Resampling indices are drawn once and shared by every router (paired bootstrap). A ratio
    whose denominator is zero (best-single at 0, or no gap to the oracle) is left out rather
    than written as a number it is not.
    """
    n = len(outcomes)
    rows = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    base, ceiling = routed[best_single].scores, routed[oracle].scores
    base_boot, ceiling_boot = base[rows].mean(axis=1), ceiling[rows].mean(axis=1)
    summary: dict[str, dict[str, Any]] = {}
    for name, result in routed.items():
        accuracy_boot = result.scores[rows].mean(axis=1)
        entry: dict[str, Any] = {
            "accuracy": float(result.scores.mean()),
            "accuracy_ci": _percentiles(accuracy_boot, level),
            "mean_cost": _mean_or_none(result.costs),
            "estimated_usd_per_1k": None if _mean_or_none(result.costs) is None else 1000.0 * _mean_or_none(result.costs),
            "workers_chosen": {w: int((result.choices == j).sum()) for j, w in enumerate(outcomes.workers)},
            "per_category": per_category(result.scores, outcomes.categories),
        }
        if entry["estimated_usd_per_1k"] is not None:
            costs = np.nan_to_num(result.costs) * 1000.0
            entry["estimated_usd_per_1k_ci"] = _percentiles(costs[rows].mean(axis=1), level)
            entry["per_category_estimated_usd_per_1k"] = {
                c: float(costs[np.asarray(outcomes.categories) == c].mean()) for c in sorted(set(outcomes.categories))}
        if base.mean() > 0:
            entry["relative_gain_over_best_single"] = float(result.scores.mean() / base.mean() - 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                entry["relative_gain_ci"] = _percentiles(accuracy_boot / base_boot - 1.0, level)
        gap = ceiling.mean() - base.mean()
        if gap > 0:
            entry["gap_closed"] = float((result.scores.mean() - base.mean()) / gap)
            with np.errstate(divide="ignore", invalid="ignore"):
                entry["gap_closed_ci"] = _percentiles((accuracy_boot - base_boot) / (ceiling_boot - base_boot), level)
        summary[name] = entry
    return summary


def per_category(scores: np.ndarray, categories: Sequence[str]) -> dict[str, dict[str, float]]:
    labels = np.asarray(categories)
    return {str(c): {"accuracy": float(scores[labels == c].mean()), "n": int((labels == c).sum())}
            for c in sorted(set(categories))}


def _percentiles(samples: np.ndarray, level: float) -> tuple[float, float]:
    # Resamples where a ratio's denominator vanished are dropped, not counted as infinities.
    finite = samples[np.isfinite(samples)]
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def _mean_or_none(values: np.ndarray) -> float | None:
    recorded = values[~np.isnan(values)]
    return float(recorded.mean()) if recorded.size else None
