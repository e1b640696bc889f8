"""train_trinity: sep-CMA-ES from scratch over TRINITY's agent head, on recorded real outcomes.

Real data only (never a fallback to the mock): trained on the *train* split, generations chosen
on *validation*, the cost weight λ swept with it, once per seed (fugu/training/trinity_search.py);
the test split is not read here. Hidden states come from the features stage (SVF offsets zero).
tiny/medium search the head only; the head+svf search is measured on a sample, not run
(fugu/training/svf_search_cost.py). full searches head+svf as the paper does, on the backbone live
(fugu/training/head_svf_search.py), set beside the head-only search on validation; the head-only
vector stays the served one, because eval's routers all read the cached (SVF-free) features, and the
head+svf vector is saved beside it (head_svf.npy + .json). Separately, the
mock claim ``trinity-cmaes`` (chance → optimal) runs on the simulated pool.

Writes artifacts/train_trinity/{vector.npy, trinity.json} (the chosen vector of the first seed,
λ = the first of ``cost_penalties``), artifacts/train_trinity/sweep/ (one vector + spec per λ),
artifacts/train_trinity/seeds/ (one vector per seed, index.json),
metrics/train_trinity.json and plots/train_trinity_fitness.csv.
"""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

import numpy as np

from fugu.data.matrix import Outcomes, load_split
from fugu.evaluation.mock_experiments import chance_to_optimal_over_seeds
from fugu.models.backbone import load_backbone
from fugu.training.cmaes import CMAESConfig
from fugu.training.head_svf_search import search_head_and_svf, search_record
from fugu.training.svf_search_cost import measure_svf_search_cost
from fugu.training.trinity_fitness import SearchSpace
from fugu.training.trinity_search import SeededTraining, train_over_seeds, training_record
from fugu.trinity.features import FeatureTable
from fugu.trinity.vector import save_vector
from stages.builders import coordinator_spec, simulated_world
from stages.common import (
    checksums,
    open_stage,
    stage_device,
    stage_params,
    stand_in_reasons,
    write_curve,
    write_metrics,
)
from stages.paths import (
    BACKBONE_DIR,
    FEATURES_DIR,
    REAL_FEATURES,
    ROUTING_DIR,
    SIMULATED_FEATURES,
    TRAINED_DIR,
    TRAINED_HEAD_SVF,
    TRAINED_SEEDS,
    TRAINED_SEEDS_INDEX,
    TRAINED_SPEC,
    TRAINED_SWEEP,
    TRAINED_SWEEP_INDEX,
    TRAINED_VECTOR,
    TRINITY_FITNESS_PLOT,
)

TRAINABLE = ("head", "head+svf")
DATA = "recorded real outcomes (train split; generations chosen on validation)"


def main() -> None:
    params, profile, section = open_stage("train_trinity")
    coordinator = stage_params(params, "trinity")
    if section["trainable"] not in TRAINABLE:
        raise SystemExit(f"train_trinity: trainable is {section['trainable']!r}; one of {TRAINABLE}")
    device = stage_device("train_trinity", profile, coordinator.get("device", "cpu"))
    train, validation = real_split("train"), real_split("validation")
    features = FeatureTable.load(FEATURES_DIR, REAL_FEATURES)
    train_x, validation_x = features.rows(train.question_ids), features.rows(validation.question_ids)
    started = time.perf_counter()
    trained = train_over_seeds(train_x, train, validation_x, validation, section["generations_grid"],
                               section["cost_penalties"], int(section["population_size"]), float(section["sigma0"]),
                               [int(s) for s in params["seeds"]])
    seconds = time.perf_counter() - started

    spec = coordinator_spec(coordinator, train.workers, TRAINED_VECTOR, trained_on=DATA, mock=False)
    trinity = spec.build(load_backbone(BACKBONE_DIR, device=device))
    if trinity.layout.hidden_size != train_x.shape[1]:
        raise SystemExit(f"train_trinity: cached features are {train_x.shape[1]}-dimensional, the backbone's "
                         f"hidden size is {trinity.layout.hidden_size}; rerun the features stage")
    space = SearchSpace(trinity.layout.n_svf, len(train.workers), len(coordinator["roles"]),
                        trinity.layout.hidden_size, train_svf=False)
    save_trained(trained, trinity.layout, space, lambda vector, **provenance: coordinator_spec(
        coordinator, train.workers, vector, mock=False, **provenance))
    spec.save(TRAINED_SPEC)
    write_curve(TRINITY_FITNESS_PLOT, ["generation", "best_fitness", "mean_fitness", "sigma", "data"],
                [{"generation": g.generation, "best_fitness": float(g.best_fitness), "mean_fitness": float(g.mean_fitness),
                  "sigma": float(g.sigma), "data": DATA} for g in trained.chosen.result.history])

    conversations = train.conversations()
    training = {"data": DATA, "mock": False, "trainable": section["trainable"], "searched_numbers": space.size,
                "vector_size": trinity.layout.size, "sigma0": float(section["sigma0"]),
                "population_size": int(section["population_size"]), **training_record(trained, train, validation),
                "prompt_cap": prompt_cap(trinity, conversations)}
    timings: dict[str, Any] = {"training_s": seconds}
    not_run = {}
    if section["trainable"] == "head+svf":
        config = CMAESConfig(int(section["population_size"]), int(section["svf_generations"]),
                             float(section["sigma0"]), int(params["seed"]))
        search = search_head_and_svf(trinity, conversations, train, validation.conversations(), validation, config,
                                     float(section["cost_penalties"][0]))
        save_head_svf(search, trinity.layout, coordinator, train.workers)
        svf = search_record(search, config, trained.chosen.validation_accuracy, len(train))
        timings["svf_search"] = {"wall_s": search.wall_s, "per_candidate_s": search.wall_s / max(svf["candidates"], 1)}
    else:
        ablation = section["svf_ablation"]
        svf, timings["svf_ablation"] = measure_svf_search_cost(
            trinity, conversations, int(ablation["sample_questions"]), float(ablation["sigma"]), int(ablation["seed"]),
            CMAESConfig(int(section["population_size"]), max(section["generations_grid"]), float(section["sigma0"]),
                        int(params["seed"])))
        not_run["ablations.svf"] = svf_not_run(len(conversations))
    write_metrics("train_trinity", profile,
                  {"training": training, "mock": mock_claim(params, section), "ablations": {"svf": svf}},
                  checksums(FEATURES_DIR, TRAINED_DIR), not_run=not_run, timings=timings,
                  stand_in=stand_in_reasons(profile, device))


def save_head_svf(search, layout, coordinator: dict[str, Any], workers) -> None:
    """The head+svf search's vector (role rows zero) and its spec, beside the served head-only one."""
    svf, head = search.space.full_parts(np.concatenate([search.svf, search.head.ravel()]))
    save_vector(TRAINED_HEAD_SVF, layout.pack(svf, head), layout)
    coordinator_spec(coordinator, workers, TRAINED_HEAD_SVF, mock=False,
                     trained_on=f"{DATA}; head+svf searched live").save(TRAINED_HEAD_SVF.with_suffix(".json"))


def save_trained(trained: SeededTraining, layout, space: SearchSpace, spec_for) -> None:
    """The served vector, one vector + spec per λ (sweep/), one vector per seed (seeds/), with their indexes."""
    full_vector = lambda t: layout.pack(*space.full_parts(t.head.ravel()))  # noqa: E731  (role rows and SVF zero)
    shutil.rmtree(TRAINED_SWEEP, ignore_errors=True)
    shutil.rmtree(TRAINED_SEEDS, ignore_errors=True)
    save_vector(TRAINED_VECTOR, full_vector(trained.chosen), layout)
    index = []
    for i, head in enumerate(trained.sweep):
        vector_path = TRAINED_SWEEP / f"lambda_{i}.npy"
        save_vector(vector_path, full_vector(head), layout)
        spec_for(vector_path, trained_on=f"{DATA}; cost weight λ={head.cost_penalty}").save(vector_path.with_suffix(".json"))
        index.append({"cost_penalty": head.cost_penalty, "spec": vector_path.with_suffix(".json").name})
    TRAINED_SWEEP_INDEX.write_text(json.dumps(index, indent=2) + "\n")
    TRAINED_SEEDS.mkdir(parents=True, exist_ok=True)
    for seed, head in zip(trained.seeds, trained.replicates):
        save_vector(TRAINED_SEEDS / f"seed_{seed}.npy", full_vector(head), layout)
    TRAINED_SEEDS_INDEX.write_text(json.dumps([{"seed": seed, "vector": f"seed_{seed}.npy"} for seed in trained.seeds],
                                              indent=2) + "\n")


def prompt_cap(trinity, conversations: list) -> dict[str, Any]:
    """The reference caps the context at 4,096 tokens; prompts keep their end (the token read)."""
    prompt_ids, n_cut = trinity.prompt_ids(conversations)
    return {"max_prompt_tokens": trinity.max_prompt_tokens, "questions_cut": n_cut,
            "longest_prompt_tokens": max(len(r) for r in prompt_ids),
            "mean_prompt_tokens": float(np.mean([len(r) for r in prompt_ids]))}


def svf_not_run(training_questions: int) -> str:
    return ("head+svf search not run: SVF changes every forward pass, so each candidate re-reads all "
            f"{training_questions} training questions through the backbone instead of cached features; the "
            "measured cost on this machine (per candidate, per generation, hours for the whole search) is in "
            "metrics/timings/train_trinity.json under svf_ablation — it needs that time or a GPU")


def real_split(split: str) -> Outcomes:
    outcomes = load_split(ROUTING_DIR, split)
    if not len(outcomes):
        raise SystemExit(f"train_trinity: {ROUTING_DIR} holds no recorded outcomes in the {split} split; "
                         "rerun fetch (the data ships in data/routing)")
    return outcomes


def mock_claim(params: dict[str, Any], section: dict[str, Any]) -> dict[str, Any]:
    """Claim trinity-cmaes on the simulated pool (a MOCK): generations from chance to optimal, per seed."""
    simulated, sim_train_ids, _ = simulated_world(params)
    sim_train = simulated.outcomes(sim_train_ids, expected=True)
    hidden = FeatureTable.load(FEATURES_DIR, SIMULATED_FEATURES).rows(sim_train.question_ids)
    bootstrap = params["bootstrap"]
    return chance_to_optimal_over_seeds(
        hidden, sim_train, CMAESConfig(section["mock_population_size"], section["mock_generations"],
                                       section["mock_sigma0"], params["seed"]),
        section["optimal_tolerance"], params["seeds"], int(bootstrap["resamples"]), float(bootstrap["confidence"]))


if __name__ == "__main__":
    main()
