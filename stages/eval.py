"""eval: does per-query routing beat the best single worker, on held-out real questions? Plus the mock twins.

- Routing (claim orchestration-gain) and the cost–quality curve: every router, TRINITY among
  them, fit on train, chosen on validation, scored on the recorded *test* split
  (fugu/evaluation/router_comparison.py, fugu/evaluation/cost_quality.py); costs are ESTIMATED.
- The trained Conductor (claim conductor-grpo): each seed's SmolLM2 policy writes greedy plans for
  the test questions, judged next to the routers (fugu/evaluation/conductor_judgement.py). In the
  full profile the Conductor is trained on ToolScale tasks, not on the recorded pool's questions, and
  train_conductor scores it on its held-out tasks; here it is named not run, with that reason.
- Recursion (claim recursion-real): the same seeds' policies read their round-0 workflow and the recorded
  answer it got and write a revised one (fugu/conductor/recorded_recursion.py); round 0 vs round 1.
- The adaptive k-of-n pool (claims adaptive-pool, adaptive-pool-blind) on TRINITY's pool, splits and
  cached features (fugu/evaluation/adaptive_pool.py).
- Mock twins on the simulated pool (MOCK): the routing comparison (``mock_routing``), the adaptive
  pool as the reference measured it, per-step subset routing (fugu/evaluation/mock_experiments.py)
  and the toy Conductor's recursion (fugu/conductor/recursion.py). Per-step routing stays mock-only:
  no recorded outcomes of workers that read earlier turns exist here (docs/trinity.md).

Writes metrics/eval.json and plots/eval_cost_quality.csv.
"""

from __future__ import annotations

import json
from typing import Any

from fugu.conductor.recorded_recursion import revised_plans
from fugu.conductor.recorded_task import greedy_plans
from fugu.conductor.recursion import mock_recursion
from fugu.data.matrix import Outcomes, load_responses, load_split
from fugu.evaluation.adaptive_pool import adaptive_pool_on_outcomes
from fugu.evaluation.conductor_judgement import judge_conductor, judge_recursion
from fugu.evaluation.cost_quality import CURVE_COLUMNS, curve_plot_rows, curve_row
from fugu.evaluation.mock_experiments import adaptive_pool, perstep_subset
from fugu.evaluation.router_comparison import (
    BaselineSettings,
    ComparisonSettings,
    QuestionFeatures,
    compare_routers,
    mock_twin,
)
from fugu.routing.features import CachedFeatures, Featurizer
from fugu.training.cmaes import CMAESConfig
from fugu.training.conductor_policy import load_trained
from fugu.trinity.features import FeatureTable
from fugu.trinity.router import TrinityRouter
from fugu.trinity.spec import TrinitySpec, load_trinity
from fugu.trinity.vector import load_vector
from stages.builders import simulated_world
from stages.common import (
    checksums,
    is_reduced,
    open_stage,
    stage_device,
    stage_params,
    stand_in_reasons,
    write_curve,
    write_metrics,
)
from stages.paths import (
    BACKBONE_DIR,
    CONDUCTOR_SEEDS,
    CONDUCTOR_SEEDS_INDEX,
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
RECORDED_POOL_LIMIT = ("a recorded pool cannot produce a new answer: a revised workflow can only move its last step to "
                       "another worker's recorded answer to the same question; no worker reads the feedback")

CONDUCTOR_FULL = ("the full profile's Conductor is trained on ToolScale agent tasks over a live pool, not on the "
                  "recorded pool's questions, so it has no plans for this test split: train_conductor scores it on "
                  "its held-out tasks (metrics/train_conductor.json held_out)")


def main() -> None:
    params, profile, section = open_stage("eval")
    device = stage_device("eval", profile, stage_params(params, "trinity").get("device", "cpu"))
    settings = comparison_settings(params, section)
    splits = {s: load_split(ROUTING_DIR, s) for s in ("train", "validation", "test")}
    trinity, vector = read_trinity(splits["test"], device)
    features = QuestionFeatures(splits, FeatureTable.load(FEATURES_DIR, REAL_FEATURES),
                                FeatureTable.load(FEATURES_DIR, EMBEDDINGS))
    trinity_runs, trinity_sweep = trained_routers(trinity, features, splits["test"].workers)
    fetch_meta = json.loads((ROUTING_DIR / "manifest.json").read_text())["metrics"]
    routing = compare_routers(splits, features, trinity_runs, trinity_sweep, settings)
    routing.update({"pool": fetch_meta.get("pool"), "subset": fetch_meta.get("subset"), "cost_note": ESTIMATED})
    not_run: dict[str, str] = {}
    conductor: dict[str, Any] = {}
    recursion: dict[str, Any] = {}
    if is_reduced(profile):
        conductor, recursion, cost_weight = conductor_metrics(splits["train"], splits["test"], settings,
                                                              int(section["recursion_real"]["response_tokens"]))
        routing["routers"]["conductor"] = conductor
        # the Conductor as one point of the cost–quality plot (its seeds pooled), at the cost weight it was trained with
        routing["cost_quality"]["points"].append(curve_row(f"conductor@{cost_weight:g}", conductor))
    else:
        not_run["conductor"] = not_run["recursion_real"] = CONDUCTOR_FULL
    write_curve(COST_QUALITY_PLOT, CURVE_COLUMNS, curve_plot_rows(routing["cost_quality"]["points"]))
    # per-step routing grows the conversation turn by turn: those contexts need the live backbone
    svf_offsets, _ = trinity.layout.unpack(vector)
    live = CachedFeatures(lambda conversations: trinity.hidden_states(conversations, svf_offsets))
    mock = mock_metrics(params, section, settings, FeatureTable.load(FEATURES_DIR, SIMULATED_FEATURES), live,
                        trinity.layout.hidden_size)
    adaptive = section["adaptive_pool"]
    adaptive_real = adaptive_pool_on_outcomes(
        features.hidden_table.rows(splits["train"].question_ids), splits["train"],
        features.hidden_table.rows(splits["test"].question_ids), splits["test"], int(adaptive["subsets_per_size"]),
        int(adaptive["replicas"]), cmaes_config(adaptive, settings.seed), settings.seed, settings.seeds,
        settings.bootstrap_resamples, settings.confidence, pool=(fetch_meta.get("pool") or {}).get("name"))
    produced = {"routing": routing, "trinity": routing["routers"]["trinity"], "adaptive_pool": adaptive_real, **mock}
    if conductor:
        produced |= {"conductor": conductor, "recursion_real": recursion}
    write_metrics("eval", profile, produced, checksums(TRAINED_DIR, ROUTING_DIR, FEATURES_DIR, CONDUCTOR_SEEDS),
                  not_run=not_run, stand_in=stand_in_reasons(profile, device))


def conductor_metrics(train: Outcomes, test: Outcomes, settings: ComparisonSettings,
                      response_tokens: int) -> tuple[dict[str, Any], dict[str, Any], float]:
    """(each of train_conductor's seeds rebuilt from its trained tensors, its greedy plans on test, judged;
    the same policies' revision round after reading the recorded answer, round 0 vs 1 judged;
    the cost weight of its reward)."""
    index = json.loads(CONDUCTOR_SEEDS_INDEX.read_text())
    responses = load_responses(ROUTING_DIR, test)
    chars, steps, tokens, batch = (index[k] for k in ("question_chars", "max_steps", "max_new_tokens", "batch_size"))
    plans, revised, shown = [], [], []
    for entry in index["seeds"]:
        model, tokenizer = load_trained(BACKBONE_DIR, CONDUCTOR_SEEDS / entry["tensors"], index["trainable_layers"])
        plans.append(greedy_plans(model, tokenizer, test, chars, steps, tokens, batch,
                                  desc=f"conductor seed {entry['seed']}: greedy plans on test"))
        second, what = revised_plans(model, tokenizer, test, responses, plans[-1], chars, response_tokens, steps,
                                      tokens, batch, desc=f"conductor seed {entry['seed']}: revised plans on test")
        revised.append(second)
        shown.append(what)
    seeds = [e["seed"] for e in index["seeds"]]
    bootstrap = (settings.bootstrap_resamples, settings.seed, settings.confidence)
    judged = judge_conductor(plans, train, test, seeds, *bootstrap)
    recursion = judge_recursion(plans, revised, test, seeds, *bootstrap, shown=shown)
    recursion.update({"mock": False, "policy": "the tiny Conductor (train_conductor's seeds), trained on round-0 "
                      "prompts only", "response_tokens": response_tokens, "cannot_show": RECORDED_POOL_LIMIT})
    return judged, recursion, float(index["cost_weight"])


def mock_metrics(params: dict[str, Any], section: dict[str, Any], settings: ComparisonSettings,
                 sim_table: FeatureTable, live: Featurizer, hidden_size: int) -> dict[str, Any]:
    """The mock twins: routing, the adaptive pool, per-step subsets and the toy Conductor's recursion, on the
    simulated pool."""
    simulated, train_ids, test_ids = simulated_world(params)
    train, test = simulated.outcomes(train_ids, expected=True), simulated.outcomes(test_ids, expected=False)
    train_x, test_x = sim_table.rows(train.question_ids), sim_table.rows(test.question_ids)
    seed, bootstrap = settings.seed, {"bootstrap_resamples": settings.bootstrap_resamples,
                                      "confidence": settings.confidence, "seeds": list(settings.seeds)}
    adaptive, perstep, recursion = section["adaptive_pool_mock"], section["perstep_subset"], section["recursion_mock"]
    reply = lambda question_id, worker: simulated.reply(question_id, simulated.workers[worker].name).text  # noqa: E731
    return {
        "mock_routing": mock_twin(train_x, train, test_x, test, cmaes_config(section["mock_twin"], seed), seed,
                                  **bootstrap),
        "adaptive_pool_mock": adaptive_pool(
            train_x, train, test_x, simulated.outcomes(test_ids, expected=True), adaptive["k"],
            adaptive["heldout_subsets"], adaptive["replicas"], cmaes_config(adaptive, seed), seed, **bootstrap),
        "perstep_subset": perstep_subset(
            train, test, live, reply, perstep["follow_up"], perstep["steps"], perstep["k"],
            cmaes_config(perstep, seed), seed, hidden_size, **bootstrap),
        "recursion_mock": mock_recursion(
            simulated, train_ids, test_ids, rounds=int(recursion["rounds"]), votes=int(recursion["votes"]),
            max_steps=int(recursion["max_steps"]), time_budget_s=float(recursion["time_budget_s"]),
            max_attempts=int(recursion["max_attempts"]), bootstrap_resamples=settings.bootstrap_resamples,
            bootstrap_seed=seed, confidence=settings.confidence),
    }


def read_trinity(test: Outcomes, device: str = "cpu"):
    """(the served coordinator, its vector): train_trinity's, refused unless it was trained on this pool."""
    if not len(test):
        raise SystemExit(f"eval: {ROUTING_DIR} holds no recorded test questions; rerun fetch (data/routing)")
    spec = TrinitySpec.load(TRAINED_SPEC)
    if spec.mock or tuple(spec.workers) != test.workers:
        raise SystemExit(f"eval: the trained vector does not belong to the recorded pool (trained on: {spec.trained_on}); "
                         "rerun train_trinity")
    return load_trinity(spec, root=ROOT, device=device)


def trained_routers(trinity, features: QuestionFeatures, workers) -> tuple[list[TrinityRouter], list[TrinityRouter]]:
    """(TRINITY trained with each seed, the first seed's at each λ of the sweep), scored from cached features."""
    router = lambda v, name: TrinityRouter(trinity, v, list(workers), featurizer=features.hidden, name=name)  # noqa: E731
    runs = [router(load_vector(TRAINED_SEEDS / e["vector"], trinity.layout), "trinity")
            for e in json.loads(TRAINED_SEEDS_INDEX.read_text())]
    sweep = [router(load_vector(ROOT / TrinitySpec.load(TRAINED_SWEEP / e["spec"]).vector, trinity.layout),
                    f"trinity@{e['cost_penalty']:g}") for e in json.loads(TRAINED_SWEEP_INDEX.read_text())]
    return runs, sweep


def comparison_settings(params: dict[str, Any], section: dict[str, Any]) -> ComparisonSettings:
    """What the router comparison and the mock experiments read from params: the seeds and the one bootstrap."""
    bootstrap, logistic, mf = params["bootstrap"], section["logistic"], section["mf"]
    baselines = BaselineSettings(
        tuple(section["knn_k_grid"]), logistic["epochs"], logistic["learning_rate"], logistic["weight_decay"],
        int(mf["dim"]), int(mf["epochs"]), float(mf["learning_rate"]), float(mf["weight_decay"]))
    return ComparisonSettings(baselines, tuple(section["cost_penalties"]), tuple(int(s) for s in params["seeds"]),
                              int(bootstrap["resamples"]), float(bootstrap["confidence"]), int(params["seed"]))


def cmaes_config(cfg: dict[str, Any], seed: int) -> CMAESConfig:
    return CMAESConfig(cfg["population_size"], cfg["generations"], cfg["sigma0"], seed)


if __name__ == "__main__":
    main()
