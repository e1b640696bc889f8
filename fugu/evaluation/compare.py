"""Routing evaluation: every router judged alike on one split, with intervals pooled over seeds.

The question eval answers is the one the orchestration claim makes: does per-query routing
beat always calling the best single worker? Three numbers say it — the relative gain over
best single, the gain in accuracy points, and the fraction of the best-single → oracle gap
closed — each an estimate record (:mod:`fugu.stats.estimate`): questions and seeds
resampled together for every router (paired), so the interval reflects the comparison and
the training run's luck, not two independent noises.

A router that is trained (TRINITY, logistic, MF, random) is routed once per seed: its
``Routed`` holds [S, n] arrays. One that is not (best single, oracle, kNN) holds [n].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.routing.base import Router, choose
from fugu.stats.estimate import Resamples, difference, gap_closed, mean, pooled_estimate, relative


@dataclass(frozen=True)
class Routed:
    """What a router did on one split: the chosen worker and its graded outcome per question
    ([n], or [S, n] for a router trained once per seed)."""

    router: str
    choices: np.ndarray  # worker index
    scores: np.ndarray   # graded outcome of the chosen worker
    costs: np.ndarray    # cost of the chosen worker (NaN where not recorded)

    @classmethod
    def over_seeds(cls, runs: Sequence["Routed"]) -> "Routed":
        """One router routed once per seed, stacked: [S, n] arrays."""
        return cls(runs[0].router, np.stack([r.choices for r in runs]), np.stack([r.scores for r in runs]),
                   np.stack([r.costs for r in runs]))


def route_split(router: Router, outcomes: Outcomes, available: np.ndarray | None = None) -> Routed:
    choices = choose(router.scores(outcomes.conversations()), available)
    scores, costs = outcomes.routed(choices)
    return Routed(router.name, choices, scores, costs)


def compare_to_baselines(routed: dict[str, Routed], outcomes: Outcomes, best_single: str, oracle: str,
                         n_resamples: int, seed: int, level: float = 0.95,
                         seeds: Sequence[int] = (0,)) -> dict[str, dict[str, Any]]:
    """Per router: accuracy, estimated cost, gain over best single (relative and in points) and
    the gap to the oracle closed, each an estimate record; per category the same.

    Costs are the *estimated* ones fetch computed (``estimated_usd_per_1k``: USD per 1,000
    questions), never a recorded bill. Where any chosen answer's cost is unknown (a model nobody
    priced), the cost is ``"unknown"`` rather than a sum that would read as cheap, and
    ``cost_recorded_fraction`` says how much was priced. A ratio whose denominator is zero (best single at 0, no gap to
    the oracle) is left out rather than written as a number it is not.
    """
    draw = Resamples.draw(len(outcomes), len(seeds), n_resamples, seed, level)
    base, ceiling = routed[best_single].scores, routed[oracle].scores
    labels = np.asarray(outcomes.categories)
    by_category = {str(c): (labels == c, Resamples.draw(int((labels == c).sum()), len(seeds), n_resamples, seed, level))
                   for c in sorted(set(outcomes.categories))}
    summary: dict[str, dict[str, Any]] = {}
    for name, result in routed.items():
        costs = result.costs * 1000.0
        entry: dict[str, Any] = {
            "accuracy": pooled_estimate(mean, [result.scores], draw, seeds),
            "estimated_usd_per_1k": _known(costs, lambda c: pooled_estimate(mean, [c], draw, seeds)),
            "cost_recorded_fraction": float(np.mean(~np.isnan(result.costs))),
            "workers_chosen": _workers_chosen(result.choices, outcomes.workers),
            "per_category": {},
        }
        for key, statistic, arms in (("relative_gain", relative, [result.scores, base]),
                                     ("gain", difference, [result.scores, base]),
                                     ("gap_closed", gap_closed, [result.scores, base, ceiling])):
            record = pooled_estimate(statistic, arms, draw, seeds)
            if record is not None:
                entry[key] = record
        for category, (rows, category_draw) in by_category.items():
            pick = lambda a: a[..., rows]  # noqa: E731  (a seed-free arm is [n], a trained one [S, n])
            entry["per_category"][category] = {
                "n": int(rows.sum()),
                "accuracy": pooled_estimate(mean, [pick(result.scores)], category_draw, seeds),
                "gain": pooled_estimate(difference, [pick(result.scores), pick(base)], category_draw, seeds),
                "estimated_usd_per_1k": _known(costs[..., rows], lambda c: float(c.mean())),
            }
        summary[name] = entry
    return summary


UNKNOWN_COST = "unknown"  # a cost figure over answers some of which no price covers


def _known(costs: np.ndarray, figure: Callable[[np.ndarray], Any]) -> Any:
    """``figure(costs)`` when every cost is known, else :data:`UNKNOWN_COST` (never a partial sum read as 0)."""
    return figure(costs) if not np.isnan(costs).any() else UNKNOWN_COST


def _workers_chosen(choices: np.ndarray, workers: Sequence[str]) -> dict[str, list[int]]:
    """How often each worker answered, per seed (one list entry for a seed-free router)."""
    rows = np.atleast_2d(choices)
    return {w: [int((row == j).sum()) for row in rows] for j, w in enumerate(workers)}


def paired_difference(a: np.ndarray, b: np.ndarray, n_resamples: int, seed: int, level: float,
                      seeds: Sequence[int]) -> dict[str, Any]:
    """The estimate record of mean(a − b) per question ([n] or [S, n] arms), paired."""
    n = np.asarray(a).shape[-1]
    record = pooled_estimate(difference, [a, b], Resamples.draw(n, len(seeds), n_resamples, seed, level), seeds)
    assert record is not None  # a difference always exists
    return record


def accuracy_estimate(scores: np.ndarray, n_resamples: int, seed: int, level: float,
                      seeds: Sequence[int]) -> dict[str, Any]:
    """The estimate record of a mean outcome ([n] or [S, n])."""
    n = np.asarray(scores).shape[-1]
    record = pooled_estimate(mean, [scores], Resamples.draw(n, len(seeds), n_resamples, seed, level), seeds)
    assert record is not None
    return record
