"""eval: routers against baselines on held-out data (issue #5), and the recursive Conductor (issue #7).

Each part fills its own keys of metrics/eval.json and names what it could not run.
- Routing (issue #5): not built yet here; its keys are absent, so its claims read *not run*.
- Conductor recursion (issue #7, :func:`conductor_metrics`): ``recursion_mock`` runs the toy
  recursive policy on the simulated pool (MOCK); ``recursion_real`` needs held-out recorded
  real outcomes and is recorded not run, with the reason, where there are none.
"""

from __future__ import annotations

from typing import Any

from fugu.conductor.recursion import mock_recursion
from fugu.conductor.task import split_question_ids
from fugu.outcomes.splits import SPLITS_FILE
from fugu.pools.simulated import SimulatedPool
from stages.common import ROOT, enter_profile, load_params, stage_params, write_empty_plot, write_metrics

ROUTING_SPLITS = ROOT / "artifacts/fetch/routing" / SPLITS_FILE


def main() -> None:
    params = load_params()
    profile = params["profile"]
    enter_profile(profile)
    metrics: dict[str, Any] = {}
    not_run: dict[str, str] = {}

    conductor, conductor_not_run = conductor_metrics(params)
    metrics.update(conductor)
    not_run.update(conductor_not_run)

    write_metrics("eval", profile, metrics, {}, not_run=not_run)
    write_empty_plot(ROOT / "plots/eval_cost_quality.csv", ["router", "cost", "accuracy"])


def conductor_metrics(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Recursion round 0 vs the last round: (metrics, not_run)."""
    cfg = stage_params(params, "eval")["recursion"]
    split = stage_params(params, "train_conductor")  # the same held-out questions GRPO never saw
    pool = SimulatedPool.generate(**params["simulated_pool"])
    train_ids, held_ids = split_question_ids(pool, float(split["held_out_fraction"]), int(split["split_seed"]))
    metrics = {"recursion_mock": mock_recursion(
        pool, train_ids, held_ids, rounds=int(cfg["rounds"]), votes=int(cfg["votes"]),
        max_steps=int(cfg["max_steps"]), time_budget_s=float(cfg["time_budget_s"]),
        max_attempts=int(cfg["max_attempts"]))}
    if ROUTING_SPLITS.is_file():
        reason = ("held-out recorded real outcomes exist, but no Conductor is trained to revise a workflow: "
                  "the tiny GRPO policy is trained on round-0 prompts only")
    else:
        reason = (f"no held-out recorded real outcomes: {ROUTING_SPLITS.relative_to(ROOT)} is missing "
                  "(fetch found no data files listed in the routing data folder)")
    return metrics, {"recursion_real": reason}


if __name__ == "__main__":
    main()
