"""train_trinity: sep-CMA-ES from scratch over the TRINITY vector.

Trains on the recorded real outcomes' *train* split when fetch produced them; otherwise (tiny
profile only) on the simulated pool, and says so: the vector's spec (trinity.json) and the metrics carry
``mock: true``. The full profile never falls back. Also measures the mock claim
``trinity-cmaes`` (chance → optimal routing) on the simulated pool.

Writes artifacts/train_trinity/{vector.npy, trinity.json}, metrics/train_trinity.json and the
per-generation curve plots/train_trinity_fitness.csv.
"""

from __future__ import annotations

import csv
import time
from typing import Any

import numpy as np

from fugu.models.backbone import load_backbone
from fugu.evaluation.mock_experiments import chance_to_optimal
from fugu.data.matrix import Outcomes, load_split
from fugu.training.cmaes import CMAESConfig, Generation, sep_cmaes
from fugu.training.trinity_fitness import SearchSpace, population_fitness
from fugu.trinity.vector import save_vector
from stages.builders import coordinator_spec, simulated_world
from stages.common import checksums, enter_profile, load_params, stage_params, write_metrics
from stages.paths import BACKBONE_DIR, ROUTING_DIR, TRAINED_DIR, TRAINED_SPEC, TRAINED_VECTOR, TRINITY_FITNESS_PLOT


def main() -> None:
    params = load_params()
    profile = params["profile"]
    section = stage_params(params, "train_trinity")
    coordinator = stage_params(params, "trinity")
    enter_profile(profile)
    backbone = load_backbone(BACKBONE_DIR)
    simulated, sim_train_ids, _ = simulated_world(params)
    sim_train = simulated.outcomes(sim_train_ids, expected=True)

    train, data, mock = training_outcomes(profile, sim_train)
    spec = coordinator_spec(coordinator, train.workers, TRAINED_VECTOR, trained_on=data, mock=mock)
    trinity = spec.build(backbone)
    config = CMAESConfig(section["population_size"], section["generations"], section["sigma0"], params["seed"])
    space = SearchSpace(trinity.layout.n_svf, len(train.workers), len(coordinator["roles"]),
                        trinity.layout.hidden_size, train_svf=section["trainable"] == "head+svf")
    conversations = train.conversations()
    prompt_ids, n_cut = trinity.prompt_ids(conversations)
    fitness = population_fitness(space, lambda z: trinity.hidden_states(conversations, z),
                                 train.scores, train.costs, section["cost_penalty"])
    started = time.perf_counter()
    result = sep_cmaes(fitness, np.zeros(space.size), config)
    seconds = time.perf_counter() - started

    vector = trinity.layout.pack(*space.full_parts(result.best_vector))
    save_vector(TRAINED_VECTOR, vector, trinity.layout)
    spec.save(TRAINED_SPEC)
    write_curve(result.history, "simulated pool (mock)" if mock else "recorded outcomes (train split)")

    # Hidden states do not depend on the worker list, so the same coordinator reads the mock's questions.
    mock_claim, _ = chance_to_optimal(trinity.hidden_states(sim_train.conversations()), sim_train,
                                      CMAESConfig(section["mock_population_size"], section["mock_generations"],
                                                  section["sigma0"], params["seed"]),
                                      section["optimal_tolerance"])
    training: dict[str, Any] = {
        "data": data, "mock": mock, "trainable": section["trainable"],
        "searched_numbers": space.size, "vector_size": trinity.layout.size,
        "generations": config.generations, "population_size": config.population_size,
        "best_fitness": result.best_fitness, "chance_fitness": train.random_accuracy(),
        "oracle_fitness": train.oracle_accuracy(), "n_questions": len(train),
        "seconds": seconds, "generations_per_second": config.generations / seconds,
        # the reference caps the context at 4,096 tokens; prompts keep their end (the token read)
        "prompt_cap": {"max_prompt_tokens": trinity.max_prompt_tokens, "questions_cut": n_cut,
                       "longest_prompt_tokens": max(len(r) for r in prompt_ids),
                       "mean_prompt_tokens": float(np.mean([len(r) for r in prompt_ids]))},
    }
    ablation, reason = svf_ablation_cost(trinity, conversations, section, config)
    not_run = {} if reason is None else {"ablations.svf": reason}
    write_metrics("train_trinity", profile, {"training": training, "mock": mock_claim, "ablations": {"svf": ablation}},
                  checksums(BACKBONE_DIR, TRAINED_DIR), not_run=not_run)


def svf_ablation_cost(trinity, conversations: list, section: dict[str, Any],
                      config: CMAESConfig) -> tuple[dict[str, Any], str | None]:
    """The paper's with-vs-without-SVF ablation (Table 2: 70.44 vs 67.85): its measured cost here.

    SVF changes every forward pass, so each candidate of a head+svf search re-reads every
    training question. Measured on a sample: the decomposition (once), and per candidate the
    recomposition plus the forward passes; extrapolated to ``population_size`` ×
    ``generations`` over the training questions. When training itself searched head+svf the
    ablation's second arm is that run; otherwise it is recorded *not run* with the cost.
    """
    cfg = section["svf_ablation"]
    sample = conversations[:int(cfg["sample_questions"])]
    started = time.perf_counter()
    for index in range(len(trinity.svf.keys)):
        trinity.svf.factors(index)
    decompose_s = time.perf_counter() - started
    z = np.random.default_rng(int(cfg["seed"])).normal(0.0, float(cfg["sigma"]), trinity.layout.n_svf).astype(np.float32)
    started = time.perf_counter()
    trinity.svf.apply(z)
    recompose_s = time.perf_counter() - started
    started = time.perf_counter()
    trinity.hidden_states(sample, z)
    per_question_s = (time.perf_counter() - started) / max(len(sample), 1)
    trinity.svf.restore()
    per_candidate_s = recompose_s + per_question_s * len(conversations)
    per_generation_s = per_candidate_s * config.population_size
    measured = {
        "decompose_once_s": round(decompose_s, 3), "recompose_per_candidate_s": round(recompose_s, 3),
        "forward_per_question_s": round(per_question_s, 4), "sample_questions": len(sample),
        "training_questions": len(conversations), "per_candidate_s": round(per_candidate_s, 2),
        "per_generation_s": round(per_generation_s, 2), "population_size": config.population_size,
        "generations": config.generations, "full_search_hours": round(per_generation_s * config.generations / 3600, 2),
        "svf_offsets": trinity.layout.n_svf,
    }
    if section["trainable"] == "head+svf":
        return {"run": True, **measured}, None
    reason = (f"head+svf search not run: measured {per_candidate_s:.1f} s per candidate ({recompose_s:.2f} s "
              f"recomposition + {per_question_s:.3f} s x {len(conversations)} questions), {per_generation_s / 60:.1f} min "
              f"per generation of {config.population_size}, {measured['full_search_hours']} h for {config.generations} "
              f"generations on this machine; it needs that time (or a GPU) — set train_trinity.trainable: head+svf to run it")
    return {"run": False, **measured}, reason


def training_outcomes(profile: str, simulated_train: Outcomes) -> tuple[Outcomes, str, bool]:
    """(train split, what it is in words, mock?): real recorded outcomes when fetch made them."""
    real = load_split(ROUTING_DIR, "train")
    if len(real):
        return real, "recorded real outcomes (train split)", False
    if profile != "tiny":
        raise SystemExit(f"train_trinity: {ROUTING_DIR} holds no recorded outcomes; the full profile needs "
                         "them (list the data files in the shared data README and rerun fetch)")
    return simulated_train, "simulated pool (mock): no recorded real outcomes were fetched", True


def write_curve(history: list[Generation], data: str) -> None:
    """Per-generation best/mean fitness and step size; ``data`` says what the fitness was measured on."""
    TRINITY_FITNESS_PLOT.parent.mkdir(parents=True, exist_ok=True)
    with open(TRINITY_FITNESS_PLOT, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["generation", "best_fitness", "mean_fitness", "sigma", "data"])
        for g in history:
            writer.writerow([g.generation, f"{g.best_fitness:.6f}", f"{g.mean_fitness:.6f}", f"{g.sigma:.6f}", data])


if __name__ == "__main__":
    main()
