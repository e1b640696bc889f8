"""The adaptive k-of-n pool on recorded real outcomes: does a head trained under worker masks route
better when only some workers are available? (claims adaptive-pool, adaptive-pool-blind)

The reference trains its agent head with a random k-of-n subset of workers masked at each
evaluation, so one policy serves whatever pool is up. Here that scheme runs on TRINITY's own
pool, splits and cached backbone features (the recorded answers of real models, data/routing):

- training: every training question appears ``replicas`` times, each under a random subset (its
  size uniform over 1..n−1, then the subset uniform among those of that size), and sep-CMA-ES
  searches the head on those masked rows, once per seed;
- test: every held-out question under every subset of a fixed set per size (all subsets of a
  size when there are at most ``subsets_per_size``, else that many drawn with ``seed``).

Every policy is scored on the same (question, subset) cases:

- adaptive: the mask-trained head, argmax over the available workers;
- unaware: the same search on the full pool (no masks), masked only at inference;
- blind: the full-pool head picks without knowing the pool; an unavailable pick is replaced by a
  uniformly random available worker (its expected score over the subset);
- best single available: the available worker that THE best-single rule ranks highest on train;
- oracle: the best available worker for the question.

A subset never has fewer than one worker (k ≥ 1 by construction). k = 1 leaves no choice (every
policy answers with the one available worker), so the headline comparisons pool the sizes with a
choice (k ≥ 2); ``per_size`` shows every size. Intervals resample *questions* (and seeds): a
question's cases under its subsets are one unit, since they share the question's difficulty.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from fugu.data.matrix import Outcomes, best_single_among
from fugu.evaluation.worker_masks import masks_from, worker_subsets
from fugu.stats.estimate import Resamples, difference, mean, pooled_estimate, ratio, relative
from fugu.training.agent_head import head_from, route_with_head, train_head
from fugu.training.cmaes import CMAESConfig


def fixed_test_pools(n_workers: int, subsets_per_size: int, seed: int) -> dict[int, list[tuple[int, ...]]]:
    """The fixed test subsets of every size 1..n−1: all of them, or ``subsets_per_size`` drawn with ``seed``."""
    if subsets_per_size < 1:
        raise ValueError(f"subsets_per_size must be at least 1, got {subsets_per_size}")
    rng = np.random.default_rng([seed, 4099])
    chosen = {}
    for k in range(1, n_workers):
        every = worker_subsets(n_workers, k)
        picks = sorted(rng.choice(len(every), subsets_per_size, replace=False)) if len(every) > subsets_per_size \
            else range(len(every))
        chosen[k] = [every[i] for i in picks]
    return chosen


def training_masks(n_rows: int, n_workers: int, rng: np.random.Generator) -> np.ndarray:
    """bool [n_rows, n_workers]: the reference's scheme, a random k-of-n pool per row (k uniform in 1..n−1)."""
    sizes = rng.integers(1, n_workers, n_rows)
    masks = np.zeros((n_rows, n_workers), dtype=bool)
    for row, k in enumerate(sizes):
        masks[row, rng.choice(n_workers, k, replace=False)] = True
    return masks


def best_available_choices(train: Outcomes, masks: np.ndarray) -> np.ndarray:
    """Per mask row, the available worker THE best-single rule ranks highest on ``train``."""
    ranked: dict[bytes, int] = {}
    choices = np.empty(len(masks), dtype=int)
    for row, mask in enumerate(masks):
        key = mask.tobytes()
        if key not in ranked:
            ranked[key] = best_single_among(train, mask)
        choices[row] = ranked[key]
    return choices


def adaptive_pool_on_outcomes(train_hidden: np.ndarray, train: Outcomes, test_hidden: np.ndarray, test: Outcomes,
                              subsets_per_size: int, replicas: int, config: CMAESConfig, seed: int,
                              seeds: Sequence[int] = (0,), bootstrap_resamples: int = 2000, confidence: float = 0.95,
                              train_under_masks: bool = True, pool: str | None = None) -> dict[str, Any]:
    """Adaptive vs unaware, blind, best single available and the oracle, per subset size and pooled.

    ``train_under_masks=False`` is the control: the "adaptive" head is then searched without masks,
    i.e. it is the unaware head (same seed, same search), and every comparison with it is 0.
    """
    n = len(train.workers)
    if n < 2:
        raise ValueError(f"an adaptive pool needs at least 2 workers, the pool has {n}")
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, got {replicas}")
    subsets = fixed_test_pools(n, subsets_per_size, seed)
    case_subsets = [s for k in sorted(subsets) for s in subsets[k]]            # the test pools, size by size
    case_sizes = np.array([len(s) for s in case_subsets])
    n_q, n_s = len(test), len(case_subsets)
    rows = np.repeat(np.arange(n_q), n_s)                                        # case = (question, test pool)
    masks = masks_from(case_subsets, np.tile(np.arange(n_s), n_q), n)          # [n_q · n_s, n]
    hidden, cases = test_hidden[rows], test.take(rows)
    fallback = (cases.scores * masks).sum(axis=1) / masks.sum(axis=1)          # a random available worker, expected
    oracle = np.where(masks, cases.scores, -np.inf).max(axis=1)
    best_single = cases.routed(best_available_choices(train, masks))[0]

    def one_run(run_seed: int) -> dict[str, np.ndarray]:
        train_rows = np.repeat(np.arange(len(train)), replicas)
        train_masks = training_masks(len(train_rows), n, np.random.default_rng([run_seed, 2203]))
        run_config = CMAESConfig(config.population_size, config.generations, config.sigma0, run_seed)
        full_pool = head_from(train_head(train_hidden, train.scores, train.costs, run_config), n)
        adaptive = head_from(train_head(train_hidden[train_rows], train.scores[train_rows], train.costs[train_rows],
                                        run_config, available=train_masks), n) if train_under_masks else full_pool
        blind = route_with_head(hidden, full_pool, cases)
        return {"adaptive": route_with_head(hidden, adaptive, cases, masks).scores,
                "unaware": route_with_head(hidden, full_pool, cases, masks).scores,
                "blind": np.where(masks[np.arange(len(cases)), blind.choices], blind.scores, fallback)}

    runs = [one_run(s) for s in seeds]
    case_arms = {name: np.stack([r[name] for r in runs]) for name in ("adaptive", "unaware", "blind")}
    case_arms |= {"best_single_available": best_single, "oracle": oracle}      # seed-free arms: [cases]

    def per_question(sizes: set[int]) -> dict[str, np.ndarray]:
        """Each arm as [S, n_q] (or [n_q]): a question's mean over its test pools of these sizes."""
        keep = np.isin(case_sizes, sorted(sizes))
        return {name: a.reshape(*a.shape[:-1], n_q, n_s)[..., keep].mean(axis=-1) for name, a in case_arms.items()}

    draw = Resamples.draw(n_q, len(seeds), bootstrap_resamples, seed, confidence)
    seeds = [int(s) for s in seeds]
    estimate = lambda statistic, *arms: pooled_estimate(statistic, list(arms), draw, seeds)  # noqa: E731

    def comparison(arms: dict[str, np.ndarray]) -> dict[str, Any]:
        a = arms["adaptive"]
        return {"accuracy": {name: estimate(mean, arm) for name, arm in arms.items()},
                "vs_unaware": estimate(difference, a, arms["unaware"]),
                "vs_blind": estimate(difference, a, arms["blind"]),
                "vs_best_single_available": estimate(difference, a, arms["best_single_available"]),
                "gain_over_blind": estimate(relative, a, arms["blind"]),
                "oracle_gain_over_blind": estimate(relative, arms["oracle"], arms["blind"]),
                "fraction_of_oracle": estimate(ratio, a, arms["oracle"])}

    with_choice = {k for k in subsets if k >= 2} or set(subsets)
    return {
        "mock": bool(train.mock or test.mock),
        "pool": pool, "workers": list(train.workers), "n_workers": n,
        "trained_under_masks": train_under_masks,
        "training_scheme": f"each of {len(train)} training questions × {replicas} replicas under a random k-of-{n} "
                           f"pool, k uniform in 1..{n - 1}",
        "headline_sizes": sorted(with_choice),
        **comparison(per_question(with_choice)),
        "per_size": {str(k): {"subsets": [list(s) for s in subsets[k]], **comparison(per_question({k}))}
                     for k in sorted(subsets)},
        "n_test_questions": n_q, "n_test_pools": n_s, "n_cases": int(n_q * n_s),
        "seeds": seeds,
    }
