"""eval: does per-query routing beat the best single worker? Plus the mock experiments the claims name.

- Routing (claim orchestration-gain): every router — random, best-single (picked on train),
  oracle, kNN and a logistic classifier over the same hidden states, and the trained TRINITY
  vector — on the *test* split of the recorded real outcomes, with paired bootstrap
  intervals and a per-category breakdown. Held-out questions are never trained or tuned on.
  Without recorded real outcomes the claim is *not run*; the same comparison on the
  simulated pool is written under ``mock_routing`` (labelled mock) so the machinery is shown.
- Mock experiments on the simulated pool: adaptive k-of-n pool, per-step subset routing.
- Conductor recursion (:func:`conductor_metrics`): ``recursion_mock`` runs the toy recursive
  policy on the simulated pool (MOCK); ``recursion_real`` needs held-out recorded real
  outcomes and a Conductor trained to revise, and is recorded not run with the reason.

Writes metrics/eval.json and plots/eval_cost_quality.csv (one point per router).
"""

from __future__ import annotations

import csv
from typing import Any

import numpy as np

from fugu.conductor.recursion import mock_recursion
from fugu.evaluation.compare import compare_to_baselines, route_split
from fugu.evaluation.mock_experiments import adaptive_pool, perstep_subset
from fugu.data.matrix import Outcomes, load_split
from fugu.pools.simulated import SimulatedPool
from fugu.routing.baselines import BestSingleRouter, KNNRouter, LinearHeadRouter, LogisticRouter, OracleRouter, RandomRouter
from fugu.routing.features import CachedFeatures, Featurizer
from fugu.training.cmaes import CMAESConfig
from fugu.trinity.spec import TrinitySpec, load_trinity
from stages.builders import simulated_world
from stages.common import checksums, enter_profile, load_params, stage_params, write_metrics
from stages.paths import COST_QUALITY_PLOT, ROOT, ROUTING_DIR, TRAINED_DIR, TRAINED_SPEC



def main() -> None:
    params = load_params()
    profile = params["profile"]
    section = stage_params(params, "eval")
    enter_profile(profile)
    spec = TrinitySpec.load(TRAINED_SPEC)
    trinity, vector = load_trinity(spec, root=ROOT)
    svf_offsets, head = trinity.layout.unpack(vector)
    features = CachedFeatures(lambda conversations: trinity.hidden_states(conversations, svf_offsets))
    agent_head = head[: trinity.layout.n_agents]
    seed = params["seed"]
    metrics: dict[str, Any] = {}
    not_run: dict[str, str] = {}

    simulated, sim_train_ids, sim_test_ids = simulated_world(params)
    sim_train, sim_test = simulated.outcomes(sim_train_ids, expected=True), simulated.outcomes(sim_test_ids, expected=False)

    real_train, real_test = load_split(ROUTING_DIR, "train"), load_split(ROUTING_DIR, "test")
    if len(real_test):
        if spec.mock or tuple(spec.workers) != real_test.workers:
            raise SystemExit("eval: the trained vector does not belong to the recorded pool "
                             f"(trained on: {spec.trained_on}); rerun train_trinity")
        metrics["routing"] = compare_routers(real_train, real_test, features, agent_head, section, seed)
        metrics["trinity"] = metrics["routing"]["trinity"]
    else:
        not_run["trinity"] = ("no recorded real outcomes were fetched (the shared data README lists no files), "
                              "so routing cannot be judged on held-out real questions")
        mock_head = agent_head if spec.mock else None
        metrics["mock_routing"] = {"mock": True, **compare_routers(sim_train, sim_test, features, mock_head, section, seed)}
    if "routing" in metrics:
        write_curve(metrics["routing"], "recorded outcomes (test split)")
    else:
        write_curve(metrics["mock_routing"], "simulated pool (mock)")

    adaptive = section["adaptive_pool"]
    sim_hidden = lambda o: features(o.conversations())  # noqa: E731
    metrics["adaptive_pool"] = adaptive_pool(
        sim_hidden(sim_train), sim_train, sim_hidden(sim_test), simulated.outcomes(sim_test_ids, expected=True),
        adaptive["k"], adaptive["heldout_subsets"], adaptive["replicas"], cmaes_config(adaptive, seed), seed)
    perstep = section["perstep_subset"]
    reply = lambda question_id, worker: simulated.reply(question_id, simulated.workers[worker].name).text  # noqa: E731
    metrics["perstep_subset"] = perstep_subset(
        sim_train, sim_test, features, reply, perstep["follow_up"], perstep["steps"], perstep["k"],
        cmaes_config(perstep, seed), seed, trinity.layout.hidden_size)

    conductor, conductor_not_run = conductor_metrics(params, simulated, sim_train_ids, sim_test_ids,
                                                     has_real_outcomes=bool(len(real_test)))
    metrics.update(conductor)
    not_run.update(conductor_not_run)

    write_metrics("eval", profile, metrics, checksums(TRAINED_DIR, ROUTING_DIR), not_run=not_run)


def compare_routers(train: Outcomes, test: Outcomes, features: Featurizer, trinity_head: np.ndarray | None,
                    section: dict[str, Any], seed: int) -> dict[str, Any]:
    """Every router on ``test``; the learned ones fit on ``train`` only."""
    train_x = features(train.conversations())
    logistic = section["logistic"]
    routers = [
        RandomRouter(len(test.workers), seed),
        BestSingleRouter.fit(train),
        OracleRouter(test),
        KNNRouter(features, train_x, train.scores, section["knn_k"]),
        LogisticRouter.fit(features, train_x, train.scores, epochs=logistic["epochs"],
                           learning_rate=logistic["learning_rate"], weight_decay=logistic["weight_decay"], seed=seed),
    ]
    if trinity_head is not None:
        routers.append(LinearHeadRouter(features, trinity_head, name="trinity"))
    routed = {router.name: route_split(router, test) for router in routers}
    summary = compare_to_baselines(routed, test, "best_single", "oracle", section["bootstrap_resamples"], seed,
                                   section["confidence"])
    summary["best_single"]["worker"] = routers[1].worker
    return {"n_train": len(train), "n_test": len(test), **summary}


def cmaes_config(cfg: dict[str, Any], seed: int) -> CMAESConfig:
    return CMAESConfig(cfg["population_size"], cfg["generations"], cfg["sigma0"], seed)


def write_curve(comparison: dict[str, Any], data: str) -> None:
    """One (cost, accuracy) point per router that has a recorded cost; ``data`` says from what."""
    COST_QUALITY_PLOT.parent.mkdir(parents=True, exist_ok=True)
    with open(COST_QUALITY_PLOT, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["router", "cost", "accuracy", "data"])
        for name, entry in comparison.items():
            if isinstance(entry, dict) and entry.get("mean_cost") is not None:
                writer.writerow([name, f"{entry['mean_cost']:.6f}", f"{entry['accuracy']:.6f}", data])


def conductor_metrics(params: dict[str, Any], pool: SimulatedPool, train_ids: list[str], held_ids: list[str],
                      has_real_outcomes: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """Recursion round 0 vs the last round: (metrics, not_run)."""
    cfg = stage_params(params, "eval")["recursion"]
    metrics = {"recursion_mock": mock_recursion(
        pool, train_ids, held_ids, rounds=int(cfg["rounds"]), votes=int(cfg["votes"]),
        max_steps=int(cfg["max_steps"]), time_budget_s=float(cfg["time_budget_s"]),
        max_attempts=int(cfg["max_attempts"]))}
    if has_real_outcomes:
        reason = ("held-out recorded real outcomes exist, but no Conductor is trained to revise a workflow: "
                  "the tiny GRPO policy is trained on round-0 prompts only")
    else:
        reason = (f"no held-out recorded real outcomes: {ROUTING_DIR.relative_to(ROOT)} holds none "
                  "(fetch found no data files listed in the routing data folder)")
    return metrics, {"recursion_real": reason}


if __name__ == "__main__":
    main()
