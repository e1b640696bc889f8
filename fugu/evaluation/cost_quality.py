"""Cost–quality: accuracy against estimated USD per 1,000 test questions, and RouteLLM's headline.

Single models are points; routers are curves, traced by a cost weight λ (kNN and MF through
:class:`fugu.routing.baselines.CostWeighted`, TRINITY by the λ sweep of its training). Every
cost is *estimated* (tokens × list prices), never a recorded bill. The headline is the cheapest
router setting whose test accuracy lies within best single's CI, and its cost as a fraction
of best single's: read off the test split after everything was fitted and chosen (a report,
not a choice that feeds back into any router).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.evaluation.compare import Routed, compare_to_baselines, route_split
from fugu.routing.base import Router
from fugu.routing.baselines import CostWeighted, mean_cost_per_1k

CURVE_COLUMNS = ["router", "kind", "cost_penalty", "cost", "accuracy", "data"]
CURVE_DATA = "recorded outcomes (test split); cost ESTIMATED, USD per 1,000 questions"


def cost_weighted_sweep(routers: dict[str, Router], train: Outcomes, test: Outcomes,
                        cost_penalties: Sequence[float]) -> dict[str, Routed]:
    """Each router at every λ (scores − λ × the worker's mean train cost per 1,000), routed on test: ``name@λ``."""
    worker_cost = mean_cost_per_1k(train)
    swept: dict[str, Routed] = {}
    for name, base in routers.items():
        for penalty in cost_penalties:
            router = CostWeighted(base, worker_cost, penalty, name=f"{name}@{penalty:g}")
            swept[router.name] = route_split(router, test)
    return swept


def cost_quality_points(swept: dict[str, Routed], test: Outcomes, best_single: Routed, oracle: Routed,
                        n_resamples: int, seed: int, level: float, first_seed: int) -> list[dict[str, Any]]:
    """One row per router setting of ``swept`` and per single worker, with test accuracy (CI) and estimated cost."""
    single = {w: Routed(w, np.full(len(test), j), test.scores[:, j], test.costs[:, j]) for j, w in enumerate(test.workers)}
    everything = {**swept, **{f"single:{w}": r for w, r in single.items()}, "best_single": best_single, "oracle": oracle}
    summary = compare_to_baselines(everything, test, "best_single", "oracle", n_resamples, seed, level, [first_seed])
    return [curve_row(name, entry) for name, entry in summary.items() if name not in ("best_single", "oracle")]


def curve_row(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    router, _, setting = name.partition("@")
    single = router.startswith("single:")
    return {"router": router.removeprefix("single:") if single else router, "kind": "single" if single else "router",
            "cost_penalty": None if single else float(setting),
            "accuracy": entry["accuracy"]["estimate"], "accuracy_ci": entry["accuracy"]["ci"],
            "estimated_usd_per_1k": _cost(entry)}


def _cost(entry: dict[str, Any]) -> float | None:
    """The estimated cost of a setting, None where some of its answers have an unknown cost."""
    cost = entry["estimated_usd_per_1k"]
    return cost["estimate"] if isinstance(cost, dict) else None


def cheapest_within_ci(curve: list[dict[str, Any]], best_single: dict[str, Any]) -> dict[str, Any]:
    """RouteLLM's headline: the cheapest router setting whose test accuracy is within best single's CI."""
    low = best_single["accuracy"]["ci"][0]
    inside = [r for r in curve if r["kind"] == "router" and r["accuracy"] >= low and r["estimated_usd_per_1k"] is not None]
    base_cost = _cost(best_single)
    if not inside:
        return {"found": False, "best_single_accuracy_ci": best_single["accuracy"]["ci"], "estimated": True}
    pick = min(inside, key=lambda r: (r["estimated_usd_per_1k"], -r["accuracy"]))
    return {"found": True, "router": pick["router"], "cost_penalty": pick["cost_penalty"], "accuracy": pick["accuracy"],
            "estimated_usd_per_1k": pick["estimated_usd_per_1k"], "best_single_estimated_usd_per_1k": base_cost,
            "cost_fraction_of_best_single": pick["estimated_usd_per_1k"] / base_cost if base_cost else None,
            "best_single_accuracy_ci": best_single["accuracy"]["ci"], "estimated": True}


def curve_plot_rows(curve: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plot's rows (columns :data:`CURVE_COLUMNS`): by router, then by cost."""
    return [{**row, "cost": row["estimated_usd_per_1k"], "data": CURVE_DATA}
            for row in sorted(curve, key=lambda r: (r["router"], r["estimated_usd_per_1k"] is None,
                                                    r["estimated_usd_per_1k"] or 0.0))]
