"""compare_optimisers: sep-CMA-ES vs REINFORCE, random search and SFT at an equal budget (TRINITY Table 4's shape).

Reads the cached backbone features the ``features`` stage writes (``artifacts/features/
features.npz``: ``question_id`` [n] str, ``penultimate`` [n, h], ``last`` [n, h]) and the
recorded real outcomes' train/test split, trains the same head with every optimiser on train
and compares them on the held-out test questions (fugu/evaluation/optimisers.py). Also the
penultimate- vs last-token readout for the sep-CMA-ES arm.

Without the features file, or without recorded outcomes, every comparison is recorded *not
run* with the reason; nothing is measured on anything else in its place.

Writes metrics/compare_optimisers.json.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fugu.data.matrix import Outcomes, load_split
from fugu.evaluation.optimisers import OptimiserSettings, compare_optimisers
from stages.common import checksums, open_stage, stage_params, write_metrics
from stages.paths import FEATURES_FILE, ROUTING_DIR, relative

KEYS = ("optimisers", "cmaes_vs_reinforce", "cmaes_vs_random_search", "cmaes_vs_sft", "cmaes_vs_best_single",
        "penultimate_vs_last")


class FeaturesError(ValueError):
    """The features file does not match the contract; the message names the file."""


def settings_from(section: dict[str, Any], params: dict[str, Any]) -> OptimiserSettings:
    bootstrap = params["bootstrap"]
    return OptimiserSettings(
        population_size=int(section["population_size"]), generations=int(section["generations"]),
        sigma0=float(section["sigma0"]), reinforce_learning_rate=float(section["reinforce_learning_rate"]),
        sft_epochs=int(section["sft_epochs"]), sft_learning_rate=float(section["sft_learning_rate"]),
        sft_weight_decay=float(section["sft_weight_decay"]), bootstrap_resamples=int(bootstrap["resamples"]),
        confidence=float(bootstrap["confidence"]), seed=int(params["seed"]),
        seeds=tuple(int(s) for s in params["seeds"]))


def features_for(features: dict[str, np.ndarray], outcomes: Outcomes, which: str, path: str) -> np.ndarray:
    """The rows of ``features[which]`` in the order of ``outcomes.question_ids``."""
    index = {str(q): i for i, q in enumerate(features["question_id"])}
    missing = [q for q in outcomes.question_ids if q not in index]
    if missing:
        raise FeaturesError(f"{path}: {len(missing)} questions of the split have no features, e.g. {missing[:3]}")
    return np.asarray(features[which], dtype=np.float32)[[index[q] for q in outcomes.question_ids]]


def load_features(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        found = {k: data[k] for k in data.files}
    for key in ("question_id", "penultimate", "last"):
        if key not in found:
            raise FeaturesError(f"{relative(path)}: no array {key!r} (has {sorted(found)})")
    n = len(found["question_id"])
    for key in ("penultimate", "last"):
        if found[key].ndim != 2 or len(found[key]) != n:
            raise FeaturesError(f"{relative(path)}: {key} must be [{n}, hidden], got {list(found[key].shape)}")
    return found


def measure(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(metrics, not_run, artifacts) of the comparison, or the reasons it cannot run."""
    section = stage_params(params, "compare_optimisers")
    if not FEATURES_FILE.exists():
        reason = (f"{relative(FEATURES_FILE)} is missing: the features stage (cached backbone features of the "
                  "recorded questions) has not run, so no optimiser can be compared on real data")
        return {}, {key: reason for key in KEYS}, {}
    train, test = load_split(ROUTING_DIR, "train"), load_split(ROUTING_DIR, "test")
    if not len(train) or not len(test):
        reason = f"no recorded real outcomes in {relative(ROUTING_DIR)} (train {len(train)}, test {len(test)} questions)"
        return {}, {key: reason for key in KEYS}, {}
    features = load_features(FEATURES_FILE)
    path = relative(FEATURES_FILE)
    metrics = compare_optimisers(
        features_for(features, train, "penultimate", path), train, features_for(features, test, "penultimate", path), test,
        settings_from(section, params),
        train_last=features_for(features, train, "last", path), test_last=features_for(features, test, "last", path))
    metrics["data"] = "recorded real outcomes: trained on the train split, scored on the test split"
    return metrics, {}, checksums(FEATURES_FILE, ROUTING_DIR)


def main() -> None:
    params, _, _ = open_stage("compare_optimisers")
    metrics, not_run, artifacts = measure(params)
    write_metrics("compare_optimisers", params["profile"], metrics, artifacts, not_run=not_run)
    print(f"wrote metrics/compare_optimisers.json ({'not run: ' + next(iter(not_run.values())) if not_run else 'measured'})")


if __name__ == "__main__":
    main()
