"""The shape of TRINITY Table 4 at reduced scale: four optimisers, one head, one budget.

sep-CMA-ES (:mod:`fugu.training.agent_head`), REINFORCE (:mod:`fugu.training.reinforce`), random
search (:mod:`fugu.training.random_search`) and a supervised head on best-worker labels
(:mod:`fugu.training.sft`) all train the same linear agent head [n_workers, h] over the same
cached backbone features of the *training* questions; every head is then used greedily on the
*held-out* questions. The evolutionary and policy-gradient arms get the same number of
fitness evaluations (one evaluation = one pass over the training questions); SFT reads the
same outcome matrix once. Every arm is trained once per seed; each comparison is an estimate
record of the per-question accuracy difference on the held-out questions, pooled over seeds
(questions and seeds resampled together for both arms: :mod:`fugu.stats.estimate`).

Features are standardised with the training split's mean and spread, for every arm alike, so
no optimiser wins on feature scale. ``penultimate_vs_last`` repeats the sep-CMA-ES arm on the
last-token features (TRINITY Table 2's "last token" ablation, in shape).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.evaluation.compare import accuracy_estimate, paired_difference
from fugu.training.agent_head import head_from, route_with_head, train_head
from fugu.training.cmaes import CMAESConfig, cached_head_fitness
from fugu.training.random_search import RandomSearchConfig, random_search
from fugu.training.reinforce import ReinforceConfig, reinforce
from fugu.training.sft import SFTConfig, fit_sft

ARMS = ("cmaes", "reinforce", "random_search", "sft")


@dataclass(frozen=True)
class OptimiserSettings:
    population_size: int
    generations: int
    sigma0: float
    reinforce_learning_rate: float
    sft_epochs: int
    sft_learning_rate: float
    sft_weight_decay: float
    bootstrap_resamples: int
    confidence: float
    seed: int                      # the training seed of one run (train_heads) and the bootstrap's seed
    seeds: tuple[int, ...] = (0,)  # every training seed compare_optimisers runs; evidence pools them

    @property
    def evaluations(self) -> int:
        return self.population_size * self.generations


def standardise(train_x: np.ndarray, test_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both splits scaled by the training split's statistics only (nothing read from test)."""
    mean, spread = train_x.mean(axis=0), train_x.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    return (train_x - mean) / spread, (test_x - mean) / spread


def train_heads(train_x: np.ndarray, train: Outcomes, settings: OptimiserSettings,
                arms: tuple[str, ...] = ARMS) -> dict[str, dict[str, Any]]:
    """Each arm's head [k, h] and what it cost, trained on ``train`` only."""
    k, h = len(train.workers), train_x.shape[1]
    budget = settings.evaluations
    out: dict[str, dict[str, Any]] = {}
    for arm in arms:
        if arm == "cmaes":
            config = CMAESConfig(settings.population_size, settings.generations, settings.sigma0, settings.seed)
            out[arm] = {"head": head_from(train_head(train_x, train.scores, train.costs, config), k),
                        "evaluations": budget}
        elif arm == "random_search":
            fitness = cached_head_fitness(train_x, train.scores, train.costs, k)  # the same fitness, no adaptation
            result = random_search(fitness, k * h, RandomSearchConfig(budget, settings.sigma0, settings.seed))
            out[arm] = {"head": result.best_vector.reshape(k, h), "evaluations": budget}
        elif arm == "reinforce":
            result = reinforce(train_x, train.scores, ReinforceConfig(budget, settings.reinforce_learning_rate, settings.seed))
            out[arm] = {"head": result.head, "evaluations": budget}
        elif arm == "sft":
            head = fit_sft(train_x, train.scores, SFTConfig(settings.sft_epochs, settings.sft_learning_rate,
                                                             settings.sft_weight_decay))
            out[arm] = {"head": head, "evaluations": 1}  # one read of the training outcome matrix
        else:
            raise ValueError(f"unknown optimiser {arm!r}; known: {ARMS}")
        out[arm]["train_accuracy"] = route_with_head(train_x, out[arm]["head"], train).accuracy
    return out


def compare_optimisers(train_x: np.ndarray, train: Outcomes, test_x: np.ndarray, test: Outcomes,
                       settings: OptimiserSettings, train_last: np.ndarray | None = None,
                       test_last: np.ndarray | None = None, arms: tuple[str, ...] = ARMS) -> dict[str, Any]:
    """Every arm's held-out accuracy, sep-CMA-ES against each other arm and the best single worker,
    each arm trained once per seed of ``settings.seeds`` and judged on the pooled evidence.

    ``arms`` must start with "cmaes"; a control may pass a twin under another name through
    :func:`compare_heads` instead.
    """
    if train.workers != test.workers:
        raise ValueError(f"train and test pools differ: {train.workers} vs {test.workers}")
    if len(train_x) != len(train) or len(test_x) != len(test):
        raise ValueError(f"features do not match the outcomes: {len(train_x)}/{len(train)} train, "
                         f"{len(test_x)}/{len(test)} test rows")
    tr, te = standardise(np.asarray(train_x, dtype=float), np.asarray(test_x, dtype=float))
    runs = [train_heads(tr, train, replace(settings, seed=s), arms) for s in settings.seeds]
    routed = {arm: np.stack([route_with_head(te, run[arm]["head"], test).scores for run in runs]) for arm in arms}
    result = compare_routed(routed, test, train, settings)
    for arm in arms:
        result["optimisers"][arm].update(evaluations=runs[0][arm]["evaluations"],
                                         train_accuracy=[run[arm]["train_accuracy"] for run in runs])
    if train_last is not None and test_last is not None:
        lt, le = standardise(np.asarray(train_last, dtype=float), np.asarray(test_last, dtype=float))
        last_heads = [train_heads(lt, train, replace(settings, seed=s), ("cmaes",))["cmaes"]["head"] for s in settings.seeds]
        last = np.stack([route_with_head(le, head, test).scores for head in last_heads])
        result["penultimate_vs_last"] = {"penultimate": float(routed["cmaes"].mean()), "last": float(last.mean()),
                                         **_paired(routed["cmaes"], last, settings)}
    result.update({
        "mock": bool(train.mock or test.mock),
        "n_train": len(train), "n_test": len(test), "n_workers": len(test.workers),
        "hidden_size": int(tr.shape[1]), "seeds": list(settings.seeds),
        "budget": {"evaluations": settings.evaluations, "population_size": settings.population_size,
                   "generations": settings.generations, "unit": "one pass of one head over the training questions"},
    })
    return result


def compare_heads(heads: dict[str, np.ndarray], test_x: np.ndarray, test: Outcomes, train: Outcomes,
                  settings: OptimiserSettings) -> dict[str, Any]:
    """Held-out accuracy of each head (one seed) and "cmaes" against every other head and the best
    single worker. ``test_x`` is already standardised. Best single is picked on ``train``."""
    single = replace(settings, seeds=(settings.seed,))
    return compare_routed({arm: route_with_head(test_x, head, test).scores for arm, head in heads.items()}, test,
                          train, single)


def compare_routed(routed: dict[str, np.ndarray], test: Outcomes, train: Outcomes,
                   settings: OptimiserSettings) -> dict[str, Any]:
    """As :func:`compare_heads`, from each arm's held-out scores ([n] or [S, n], S = len(settings.seeds))."""
    routed = dict(routed)
    best = int(np.argmax(train.scores.mean(axis=0)))
    routed["best_single"] = test.scores[:, best]
    optimisers: dict[str, dict[str, Any]] = {
        arm: {"test_accuracy": accuracy_estimate(scores, settings.bootstrap_resamples, settings.seed,
                                                 settings.confidence, settings.seeds)}
        for arm, scores in routed.items()}
    optimisers["best_single"]["worker"] = test.workers[best]
    result: dict[str, Any] = {"optimisers": optimisers, "oracle_accuracy": test.oracle_accuracy()}
    for arm in routed:
        if arm != "cmaes":
            result[f"cmaes_vs_{arm}"] = _paired(routed["cmaes"], routed[arm], settings)
    return result


def _paired(a: np.ndarray, b: np.ndarray, settings: OptimiserSettings) -> dict[str, Any]:
    """Mean of (a − b) per question, pooled over seeds, with its paired interval (an estimate record)."""
    return paired_difference(a, b, settings.bootstrap_resamples, settings.seed, settings.confidence, settings.seeds)
