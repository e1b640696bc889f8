"""eval: does per-query routing beat the best single worker, on held-out real questions? Plus the mock twins.

- Routing (claim orchestration-gain): every router of fugu/routing/baselines.py — random,
  best single (THE rule, on train), oracle, best per category, kNN and logistic on the TRINITY
  backbone's cached hidden states, kNN on all-MiniLM-L6-v2 embeddings, a RouteLLM-style
  matrix-factorisation router — and TRINITY itself through ``TrinityRouter`` (the object
  ``fugu serve`` routes with, scored from cached features), on the *test* split of the recorded
  real outcomes, with paired bootstrap intervals and a per-category breakdown. Learned routers
  fit on train; their hyper-parameters (k) are chosen on validation; test only scores.
- Cost–quality: TRINITY's λ sweep (train_trinity) and kNN/MF with a cost term swept here;
  plots/eval_cost_quality.csv holds single models as points and routers as curves, all in
  *estimated* USD per 1,000 questions; the headline is the cheapest router setting whose test
  accuracy lies within best single's CI, and its cost as a fraction of best single's.
- Mock twin (``mock_routing``): a head trained the same way on the simulated pool (MOCK), to
  show what the same comparison gives on a world built for routing to win.
- Mock experiments on the simulated pool: adaptive k-of-n pool, per-step subset routing.
- Conductor recursion (:func:`conductor_metrics`).

Writes metrics/eval.json and plots/eval_cost_quality.csv.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np

from fugu.conductor.recursion import mock_recursion
from fugu.data.matrix import Outcomes, load_split
from fugu.evaluation.compare import Routed, compare_to_baselines, route_split
from fugu.evaluation.mock_experiments import adaptive_pool, perstep_subset
from fugu.pools.simulated import SimulatedPool
from fugu.routing.base import question_text
from fugu.routing.baselines import (
    BestPerCategoryRouter,
    BestSingleRouter,
    CostWeighted,
    KNNRouter,
    LogisticRouter,
    MatrixFactorisationRouter,
    OracleRouter,
    RandomRouter,
    mean_cost_per_1k,
)
from fugu.routing.features import CachedFeatures
from fugu.training.agent_head import head_from, route_with_head, train_head
from fugu.training.cmaes import CMAESConfig
from fugu.trinity.features import FeatureTable
from fugu.trinity.router import TrinityRouter
from fugu.trinity.spec import TrinitySpec, load_trinity
from fugu.trinity.vector import load_vector
from stages.builders import simulated_world
from stages.common import checksums, open_stage, stage_params, write_curve, write_metrics
from stages.paths import (
    COST_QUALITY_PLOT,
    EMBEDDINGS,
    FEATURES_DIR,
    REAL_FEATURES,
    ROOT,
    ROUTING_DIR,
    SIMULATED_FEATURES,
    TRAINED_DIR,
    TRAINED_SEEDS,
    TRAINED_SEEDS_INDEX,
    TRAINED_SPEC,
    TRAINED_SWEEP,
    TRAINED_SWEEP_INDEX,
)

ESTIMATED = ("costs are ESTIMATED: tokens of the recorded question and response (litellm tokenizer) × per-token "
             "prices from params (litellm cost map or list price); no source recorded a bill")


def main() -> None:
    params, profile, section = open_stage("eval")
    seed = params["seed"]
    section = {**section, "seeds": [int(s) for s in params["seeds"]], "bootstrap": params["bootstrap"]}
    metrics: dict[str, Any] = {}
    not_run: dict[str, str] = {}

    splits = {s: load_split(ROUTING_DIR, s) for s in ("train", "validation", "test")}
    if not len(splits["test"]):
        raise SystemExit(f"eval: {ROUTING_DIR} holds no recorded test questions; rerun fetch (data/routing)")
    spec = TrinitySpec.load(TRAINED_SPEC)
    if spec.mock or tuple(spec.workers) != splits["test"].workers:
        raise SystemExit(f"eval: the trained vector does not belong to the recorded pool (trained on: {spec.trained_on}); "
                         "rerun train_trinity")
    trinity, vector = load_trinity(spec, root=ROOT)
    cached = Cached(splits)
    routing, curve = compare_routers(splits, cached, trinity, vector, section, seed)
    fetch_meta = json.loads((ROUTING_DIR / "manifest.json").read_text())["metrics"]
    routing.update({"pool": fetch_meta.get("pool"), "subset": fetch_meta.get("subset"), "cost_note": ESTIMATED})
    metrics["routing"] = routing
    metrics["trinity"] = routing["routers"]["trinity"]
    write_cost_quality_curve(curve)

    simulated, sim_train_ids, sim_test_ids = simulated_world(params)
    sim_train, sim_test = simulated.outcomes(sim_train_ids, expected=True), simulated.outcomes(sim_test_ids, expected=False)
    sim_table = FeatureTable.load(FEATURES_DIR, SIMULATED_FEATURES)
    sim_hidden = lambda o: sim_table.rows(o.question_ids)  # noqa: E731
    metrics["mock_routing"] = mock_twin(sim_hidden(sim_train), sim_train, sim_hidden(sim_test), sim_test, section, seed)

    adaptive, bootstrap = section["adaptive_pool"], section["bootstrap"]
    metrics["adaptive_pool"] = adaptive_pool(
        sim_hidden(sim_train), sim_train, sim_hidden(sim_test), simulated.outcomes(sim_test_ids, expected=True),
        adaptive["k"], adaptive["heldout_subsets"], adaptive["replicas"], cmaes_config(adaptive, seed), seed,
        bootstrap_resamples=int(bootstrap["resamples"]), confidence=float(bootstrap["confidence"]),
        seeds=section["seeds"])
    # per-step routing grows the conversation turn by turn: those contexts need the live backbone
    svf_offsets, _ = trinity.layout.unpack(vector)
    live = CachedFeatures(lambda conversations: trinity.hidden_states(conversations, svf_offsets))
    perstep = section["perstep_subset"]
    reply = lambda question_id, worker: simulated.reply(question_id, simulated.workers[worker].name).text  # noqa: E731
    metrics["perstep_subset"] = perstep_subset(
        sim_train, sim_test, live, reply, perstep["follow_up"], perstep["steps"], perstep["k"],
        cmaes_config(perstep, seed), seed, trinity.layout.hidden_size, seeds=section["seeds"],
        bootstrap_resamples=int(bootstrap["resamples"]), confidence=float(bootstrap["confidence"]))

    conductor, conductor_not_run = conductor_metrics(params, simulated, sim_train_ids, sim_test_ids)
    metrics.update(conductor)
    not_run.update(conductor_not_run)
    write_metrics("eval", profile, metrics, checksums(TRAINED_DIR, ROUTING_DIR, FEATURES_DIR), not_run=not_run)


class Cached:
    """The cached features of every recorded question, as featurizers keyed by question text."""

    def __init__(self, splits: dict[str, Outcomes]):
        self.text_to_id = {q: i for o in splits.values() for q, i in zip(o.questions, o.question_ids)}
        self.category = {q: c for o in splits.values() for q, c in zip(o.questions, o.categories)}
        self.hidden_table = FeatureTable.load(FEATURES_DIR, REAL_FEATURES)
        self.embedding_table = FeatureTable.load(FEATURES_DIR, EMBEDDINGS)
        self.hidden = self.hidden_table.featurizer(self.text_to_id, "penultimate")
        self.embedding = self.embedding_table.featurizer(self.text_to_id, "embedding")

    def category_of(self, conversation) -> str:
        return self.category[question_text(conversation)]


def compare_routers(splits: dict[str, Outcomes], cached: Cached, trinity, vector: np.ndarray,
                    section: dict[str, Any], seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(every router on test with CIs, the cost–quality curve rows). Fit on train, choose on validation.

    A router that is trained (TRINITY, logistic, MF, random) is fitted and routed once per seed;
    its estimates pool the seeds. The cost–quality curve is read off the first seed's runs (the
    served TRINITY vector and its λ sweep).
    """
    train, validation, test = splits["train"], splits["validation"], splits["test"]
    seeds, bootstrap = section["seeds"], section["bootstrap"]
    resamples, level = int(bootstrap["resamples"]), float(bootstrap["confidence"])
    fitted = {s: fit_routers(train, validation, cached, section, s) for s in seeds}
    first = fitted[seeds[0]]
    best_single, knn_hidden, knn_minilm = first["best_single"], first["knn_hidden"], first["knn_minilm"]
    trinity_vectors = [load_vector(TRAINED_SEEDS / e["vector"], trinity.layout)
                       for e in json.loads(TRAINED_SEEDS_INDEX.read_text())]
    per_seed = {
        "trinity": [TrinityRouter(trinity, v, list(test.workers), featurizer=cached.hidden) for v in trinity_vectors],
        "random": [RandomRouter(len(test.workers), s) for s in seeds],
        **{name: [fitted[s][name] for s in seeds] for name in SEEDED_BASELINES},
    }
    routed = {name: Routed.over_seeds([route_split(r, test) for r in runs]) for name, runs in per_seed.items()}
    routed.update({name: route_split(router, test) for name, router in first.items() if name not in SEEDED_BASELINES})
    routed["oracle"] = route_split(OracleRouter(test), test)
    summary = compare_to_baselines(routed, test, "best_single", "oracle", resamples, seed, level, seeds)
    summary["best_single"]["worker"] = best_single.worker
    summary["knn_hidden"]["k"], summary["knn_minilm"]["k"] = knn_hidden.k, knn_minilm.k

    # cost–quality: single models as points, routers as curves (λ swept), all on test, first seed
    worker_cost = mean_cost_per_1k(train)
    swept: dict[str, Routed] = {}
    for name, base in (("knn_minilm", knn_minilm), ("mf", first["mf"]), ("knn_hidden", knn_hidden)):
        for penalty in section["cost_penalties"]:
            router = CostWeighted(base, worker_cost, penalty, name=f"{name}@{penalty:g}")
            swept[router.name] = route_split(router, test)
    for entry in json.loads(TRAINED_SWEEP_INDEX.read_text()):
        sweep_spec = TrinitySpec.load(TRAINED_SWEEP / entry["spec"])
        sweep_vector = load_vector(ROOT / sweep_spec.vector, trinity.layout)
        router = TrinityRouter(trinity, sweep_vector, list(test.workers), featurizer=cached.hidden,
                               name=f"trinity@{entry['cost_penalty']:g}")
        swept[router.name] = route_split(router, test)
    single = {w: Routed(w, np.full(len(test), j), test.scores[:, j], test.costs[:, j]) for j, w in enumerate(test.workers)}
    everything = {**swept, **{f"single:{w}": r for w, r in single.items()}, "best_single": routed["best_single"],
                  "oracle": routed["oracle"]}
    curve_summary = compare_to_baselines(everything, test, "best_single", "oracle", resamples, seed, level, seeds[:1])
    curve = [curve_row(name, entry) for name, entry in curve_summary.items() if name not in ("best_single", "oracle")]
    headline = cheapest_within_ci(curve, summary["best_single"])
    return {"n_train": len(train), "n_validation": len(validation), "n_test": len(test), "seeds": seeds,
            "routers": summary, "cost_quality": {"estimated": True, "points": curve, "headline": headline}}, curve


# baselines whose fit depends on the seed: fitted and judged once per seed
SEEDED_BASELINES = ("logistic_hidden", "mf")


def fit_routers(train: Outcomes, validation: Outcomes, cached: Cached, section: dict[str, Any],
                seed: int) -> dict[str, Any]:
    """Every learned baseline, fit on ``train``; its hyper-parameter (k) chosen on ``validation``.

    The test split is not an argument: nothing here can see it (tests/stages/test_heldout.py).
    """
    hidden_train = cached.hidden_table.rows(train.question_ids)
    embedding_train = cached.embedding_table.rows(train.question_ids, "embedding")
    logistic, mf = section["logistic"], section["mf"]
    return {
        "best_single": BestSingleRouter.fit(train),
        "best_per_category": BestPerCategoryRouter.fit(train, cached.category_of),
        "knn_hidden": choose_on_validation(
            [KNNRouter(cached.hidden, hidden_train, train.scores, k, name="knn_hidden") for k in section["knn_k_grid"]],
            validation),
        "logistic_hidden": LogisticRouter.fit(cached.hidden, hidden_train, train.scores, epochs=logistic["epochs"],
                                              learning_rate=logistic["learning_rate"],
                                              weight_decay=logistic["weight_decay"], seed=seed, name="logistic_hidden"),
        "knn_minilm": choose_on_validation(
            [KNNRouter(cached.embedding, embedding_train, train.scores, k, name="knn_minilm") for k in section["knn_k_grid"]],
            validation),
        "mf": MatrixFactorisationRouter.fit(cached.embedding, embedding_train, train.scores, dim=int(mf["dim"]),
                                            epochs=int(mf["epochs"]), learning_rate=float(mf["learning_rate"]),
                                            weight_decay=float(mf["weight_decay"]), seed=seed),
    }


def choose_on_validation(candidates: Sequence[Any], validation: Outcomes):
    """The candidate with the best routed accuracy on validation (ties → the earlier one)."""
    accuracy = [route_split(c, validation).scores.mean() for c in candidates]
    return candidates[int(np.argmax(accuracy))]


def curve_row(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    router, _, setting = name.partition("@")
    single = router.startswith("single:")
    return {"router": router.removeprefix("single:") if single else router, "kind": "single" if single else "router",
            "cost_penalty": None if single else float(setting),
            "accuracy": entry["accuracy"]["estimate"], "accuracy_ci": entry["accuracy"]["ci"],
            "estimated_usd_per_1k": entry["estimated_usd_per_1k"]["estimate"]}


def cheapest_within_ci(curve: list[dict[str, Any]], best_single: dict[str, Any]) -> dict[str, Any]:
    """RouteLLM's headline: the cheapest router setting whose test accuracy is within best single's CI.

    Read off the test split after everything was fitted and chosen (a report, not a choice that
    feeds back into any router).
    """
    low = best_single["accuracy"]["ci"][0]
    inside = [r for r in curve if r["kind"] == "router" and r["accuracy"] >= low]
    base_cost = best_single["estimated_usd_per_1k"]["estimate"]
    if not inside:
        return {"found": False, "best_single_accuracy_ci": best_single["accuracy"]["ci"], "estimated": True}
    pick = min(inside, key=lambda r: (r["estimated_usd_per_1k"], -r["accuracy"]))
    return {"found": True, "router": pick["router"], "cost_penalty": pick["cost_penalty"], "accuracy": pick["accuracy"],
            "estimated_usd_per_1k": pick["estimated_usd_per_1k"], "best_single_estimated_usd_per_1k": base_cost,
            "cost_fraction_of_best_single": pick["estimated_usd_per_1k"] / base_cost if base_cost else None,
            "best_single_accuracy_ci": best_single["accuracy"]["ci"], "estimated": True}


def mock_twin(train_x: np.ndarray, train: Outcomes, test_x: np.ndarray, test: Outcomes, section: dict[str, Any],
              seed: int) -> dict[str, Any]:
    """The same comparison on the simulated pool (MOCK): a head trained by sep-CMA-ES (once per seed) vs best single."""
    twin, seeds, bootstrap = section["mock_twin"], section["seeds"], section["bootstrap"]
    runs = []
    for run_seed in seeds:
        head = head_from(train_head(train_x, train.scores, train.costs, cmaes_config(twin, run_seed)), len(train.workers))
        routes = route_with_head(test_x, head, test)
        runs.append(Routed("trinity", routes.choices, routes.scores, routes.costs))
    routers = [BestSingleRouter.fit(train), OracleRouter(test)]
    routed = {r.name: route_split(r, test) for r in routers}
    routed["random"] = Routed.over_seeds([route_split(RandomRouter(len(test.workers), s), test) for s in seeds])
    routed["trinity"] = Routed.over_seeds(runs)
    summary = compare_to_baselines(routed, test, "best_single", "oracle", int(bootstrap["resamples"]), seed,
                                   float(bootstrap["confidence"]), seeds)
    return {"mock": bool(test.mock), "meaning": "simulated pool: seeded per-category skill matrix built for routing to win",
            "n_train": len(train), "n_test": len(test), "seeds": seeds, **summary}


def cmaes_config(cfg: dict[str, Any], seed: int) -> CMAESConfig:
    return CMAESConfig(cfg["population_size"], cfg["generations"], cfg["sigma0"], seed)


def write_cost_quality_curve(curve: list[dict[str, Any]]) -> None:
    """Accuracy vs estimated USD per 1,000 test questions: single models as points, routers as curves."""
    data = "recorded outcomes (test split); cost ESTIMATED, USD per 1,000 questions"
    rows = [{**row, "cost": row["estimated_usd_per_1k"], "data": data}
            for row in sorted(curve, key=lambda r: (r["router"], r["estimated_usd_per_1k"]))]
    write_curve(COST_QUALITY_PLOT, ["router", "kind", "cost_penalty", "cost", "accuracy", "data"], rows)


def conductor_metrics(params: dict[str, Any], pool: SimulatedPool, train_ids: list[str],
                      held_ids: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Recursion round 0 vs the last round: (metrics, not_run)."""
    cfg, bootstrap = stage_params(params, "eval")["recursion"], params["bootstrap"]
    metrics = {"recursion_mock": mock_recursion(
        pool, train_ids, held_ids, rounds=int(cfg["rounds"]), votes=int(cfg["votes"]),
        max_steps=int(cfg["max_steps"]), time_budget_s=float(cfg["time_budget_s"]),
        max_attempts=int(cfg["max_attempts"]), bootstrap_resamples=int(bootstrap["resamples"]),
        bootstrap_seed=int(params["seed"]), confidence=float(bootstrap["confidence"]))}
    # still true: held-out recorded real outcomes exist (data/routing), but the only Conductor is the
    # tiny GRPO policy trained on round-0 prompts of the simulated pool; none is trained to revise
    reason = ("held-out recorded real outcomes exist (data/routing), but no Conductor is trained to revise a "
              "workflow on them: the tiny GRPO policy is trained on round-0 prompts of the simulated pool only")
    return metrics, {"recursion_real": reason}


if __name__ == "__main__":
    main()
