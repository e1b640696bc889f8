"""The mock experiments the claims name, on the simulated pool (always labelled ``mock``).

Each takes hidden states (or a featurizer, when contexts grow turn by turn) and the pool's
outcome matrices, trains an agent head with sep-CMA-ES, and returns plain numbers:

- ``chance_to_optimal``: generations until the best candidate routes every training question
  to its category's best worker (claim trinity-cmaes: "chance → optimal in ~5 generations").
- ``adaptive_pool``: a head trained under random k-of-n worker masks vs a blind one, on worker
  subsets never seen in training (claim adaptive-pool-mock: "+44% over blind, 94% of oracle", as the
  reference measured it; the same question on recorded real outcomes: fugu/evaluation/adaptive_pool.py).
- ``perstep_subset``: the coordinator chooses again at every turn, earlier replies in context,
  under a fresh random mask each turn (claim perstep-subset: "0.625 → 1.000").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.evaluation.worker_masks import masks_from, worker_subsets
from fugu.routing.base import choose
from fugu.routing.features import Featurizer
from fugu.stats.estimate import Resamples, difference, mean, pooled_estimate, ratio, relative, seed_estimate
from fugu.training.agent_head import head_from, route_with_head, train_head
from fugu.training.cmaes import CMAESConfig, CMAESResult, cached_head_fitness, sep_cmaes
from fugu.types import Conversation


def chance_to_optimal(hidden: np.ndarray, outcomes: Outcomes, config: CMAESConfig,
                      tolerance: float) -> tuple[dict[str, Any], CMAESResult]:
    """How many generations until routing on the training questions is optimal.

    ``outcomes`` carries expected scores (noise-free), so "optimal" is exact: every question
    to a best worker, fitness = the oracle's. Reached when the generation's best fitness is
    within ``tolerance`` of it. Never reached → recorded as ``generations + 1`` with
    ``reached_optimal: false``: a lower bound, which fails a "≤ N" claim as it should.
    Returns the metrics and the run (its history is the fitness curve).

    The ablated twin runs too: random search drawing the same number of heads per generation
    from sep-CMA-ES's *starting* distribution, never adapting. ``generations_saved_vs_random``
    (random's generations − sep-CMA-ES's) is what the search's adaptation bought; on a world
    where the best of one random population is already optimal it is 0, and "optimal in ~5
    generations" says nothing about sep-CMA-ES there.
    """
    result = train_head(hidden, outcomes.scores, outcomes.costs, config)
    optimal = outcomes.oracle_accuracy()
    reached = [g.generation for g in result.history if g.best_fitness >= optimal - tolerance]
    cmaes_generations = reached[0] if reached else config.generations + 1
    random_generations = random_generations_to_optimal(hidden, outcomes, config, optimal - tolerance)
    return {
        "mock": outcomes.mock,
        "generations_to_optimal": cmaes_generations,
        "random_search_generations_to_optimal": random_generations,
        "generations_saved_vs_random": random_generations - cmaes_generations,
        "reached_optimal": bool(reached),
        "chance_fitness": outcomes.random_accuracy(),
        "optimal_fitness": optimal,
        "final_best_fitness": result.best_fitness,
        "generations": config.generations,
        "population_size": config.population_size,
        "tolerance": tolerance,
        "n_questions": len(outcomes),
    }, result


def chance_to_optimal_over_seeds(hidden: np.ndarray, outcomes: Outcomes, config: CMAESConfig, tolerance: float,
                                 seeds: Sequence[int], bootstrap_resamples: int, confidence: float) -> dict[str, Any]:
    """:func:`chance_to_optimal` once per seed: each seed's numbers, and the generations saved over
    random search as an estimate record over seeds (the unit resampled: one seed's run)."""
    runs = [chance_to_optimal(hidden, outcomes, CMAESConfig(config.population_size, config.generations, config.sigma0, s),
                              tolerance)[0] for s in seeds]
    first = runs[0]
    per_seed = {key: [run[key] for run in runs] for key in
                ("random_search_generations_to_optimal", "reached_optimal", "final_best_fitness")}
    over_seeds = lambda key: seed_estimate([float(run[key]) for run in runs], seeds, bootstrap_resamples,  # noqa: E731
                                           config.seed, confidence)
    return {**{k: first[k] for k in ("mock", "chance_fitness", "optimal_fitness", "generations", "population_size",
                                     "tolerance", "n_questions")},
            **per_seed, "seeds": list(seeds),
            "generations_to_optimal": over_seeds("generations_to_optimal"),
            "generations_saved_vs_random": over_seeds("generations_saved_vs_random")}


def random_generations_to_optimal(hidden: np.ndarray, outcomes: Outcomes, config: CMAESConfig,
                                   threshold: float) -> int:
    """First generation at which a fresh N(0, sigma0²) population holds a head with fitness ≥
    ``threshold`` (random search, same population size and seed family); never → generations + 1."""
    n_workers = len(outcomes.workers)
    fitness = cached_head_fitness(hidden, outcomes.scores, outcomes.costs, n_workers)
    rng = np.random.default_rng([config.seed, 17])
    for generation in range(1, config.generations + 1):
        population = rng.normal(0.0, config.sigma0, size=(config.population_size, n_workers * hidden.shape[1]))
        if fitness(population).max() >= threshold:
            return generation
    return config.generations + 1


def split_subsets(subsets: list[tuple[int, ...]], n_heldout: int, seed: int) -> tuple[list, list]:
    """Seeded split of the k-subsets into training and held-out ones (disjoint by construction)."""
    if not 1 <= n_heldout < len(subsets):
        raise ValueError(f"hold out between 1 and {len(subsets) - 1} of {len(subsets)} subsets, got {n_heldout}")
    order = np.random.default_rng(seed).permutation(len(subsets))
    heldout = [subsets[i] for i in order[:n_heldout]]
    return [subsets[i] for i in order[n_heldout:]], heldout


def adaptive_pool(train_hidden: np.ndarray, train: Outcomes, test_hidden: np.ndarray, test: Outcomes,
                  k: int, n_heldout_subsets: int, replicas: int, config: CMAESConfig, seed: int,
                  train_under_masks: bool = True, bootstrap_resamples: int = 2000,
                  confidence: float = 0.95, seeds: Sequence[int] = (0,)) -> dict[str, Any]:
    """Adaptive (trained under masks) vs unaware vs blind vs oracle on held-out subsets and questions.

    The held-out subsets and test cases are fixed by ``seed``; every training run (its masks and
    its sep-CMA-ES) is repeated for each of ``seeds``, and every comparison is an estimate record
    pooled over test cases and seeds (:mod:`fugu.stats.estimate`).

    Training: every training question appears ``replicas`` times, each under a random
    *training* subset. Test: every test question under every *held-out* subset.
    - adaptive: argmax over the available workers of the mask-trained head;
    - unaware: a head trained on the full pool, masked only at inference;
    - blind: the full-pool head picks without knowing the pool; when its pick is unavailable a
      uniformly random available worker answers instead (expected score over the subset);
    - oracle: the best available worker per question.

    ``vs_unaware`` / ``vs_blind``: the per-case score difference adaptive − twin; only they say
    whether mask training helped, since the fraction of oracle is high for the twins too.
    ``train_under_masks=False`` is the control: the "adaptive" head is then trained without
    masks, i.e. it is the unaware head.
    """
    n = len(train.workers)
    train_subsets, heldout = split_subsets(worker_subsets(n, k), n_heldout_subsets, seed)
    test_rows = np.repeat(np.arange(len(test)), len(heldout))
    test_masks = masks_from(heldout, np.tile(np.arange(len(heldout)), len(test)), n)
    hidden, cases = test_hidden[test_rows], test.take(test_rows)  # one case per (test question, held-out subset)
    fallback = (cases.scores * test_masks).sum(axis=1) / test_masks.sum(axis=1)
    oracle_case = np.where(test_masks, cases.scores, -np.inf).max(axis=1)

    def one_run(run_seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(run_seed)
        rows = np.repeat(np.arange(len(train)), replicas)
        train_masks = masks_from(train_subsets, rng.integers(0, len(train_subsets), len(rows)), n)
        run_config = CMAESConfig(config.population_size, config.generations, config.sigma0, run_seed)
        adaptive = head_from(train_head(train_hidden[rows], train.scores[rows], train.costs[rows], run_config,
                                        available=train_masks if train_under_masks else None), n)
        full_pool = head_from(train_head(train_hidden, train.scores, train.costs, run_config), n)
        adaptive_case = route_with_head(hidden, adaptive, cases, test_masks).scores
        unaware_case = route_with_head(hidden, full_pool, cases, test_masks).scores
        blind = route_with_head(hidden, full_pool, cases)
        blind_case = np.where(test_masks[np.arange(len(cases)), blind.choices], blind.scores, fallback)
        return adaptive_case, unaware_case, blind_case

    adaptive_case, unaware_case, blind_case = (np.stack(arm) for arm in zip(*(one_run(s) for s in seeds)))
    draw = Resamples.draw(len(test_rows), len(seeds), bootstrap_resamples, seed, confidence)
    estimate = lambda statistic, *arms: pooled_estimate(statistic, list(arms), draw, seeds)  # noqa: E731
    return {
        "mock": bool(train.mock or test.mock),
        "trained_under_masks": train_under_masks,
        "vs_unaware": estimate(difference, adaptive_case, unaware_case),
        "vs_blind": estimate(difference, adaptive_case, blind_case),
        "gain_over_blind": estimate(relative, adaptive_case, blind_case),
        "oracle_gain_over_blind": estimate(relative, oracle_case, blind_case),
        "fraction_of_oracle": estimate(ratio, adaptive_case, oracle_case),
        "k": k, "n_workers": n,
        "train_subsets": [list(s) for s in train_subsets],
        "heldout_subsets": [list(s) for s in heldout],
        "adaptive_accuracy": float(adaptive_case.mean()),
        "unaware_accuracy": float(unaware_case.mean()),
        "blind_accuracy": float(blind_case.mean()),
        "oracle_accuracy": float(oracle_case.mean()),
        "n_test_cases": int(len(test_rows)),
        "seeds": list(seeds),
    }


# --- per-step ---------------------------------------------------------------------------

StepReply = Callable[[str, int], str]  # (question id, worker index) → the worker's reply text


@dataclass(frozen=True)
class Episode:
    question_id: str
    question: str
    masks: np.ndarray  # bool [steps, n_workers]: the workers available at each turn


def episode_context(episode: Episode, replies: list[str], follow_up: str) -> Conversation:
    """The conversation the coordinator reads before turn ``len(replies)``: earlier replies included."""
    conversation: Conversation = [{"role": "user", "content": episode.question}]
    for reply in replies:
        conversation += [{"role": "assistant", "content": reply}, {"role": "user", "content": follow_up}]
    return conversation


def rollout(head: np.ndarray, episodes: list[Episode], outcomes: Outcomes, featurize: Featurizer,
            reply: StepReply, follow_up: str) -> np.ndarray:
    """Per-step routing of every episode with one head: mean score over turns, [n_episodes].

    Turn by turn, all episodes advance together so each turn is one batched featurizer call.
    """
    steps = episodes[0].masks.shape[0]
    rows = [outcomes.question_ids.index(e.question_id) for e in episodes]
    replies: list[list[str]] = [[] for _ in episodes]
    total = np.zeros(len(episodes))
    for step in range(steps):
        contexts = [episode_context(e, r, follow_up) for e, r in zip(episodes, replies)]
        masks = np.stack([e.masks[step] for e in episodes])
        picks = choose(featurize(contexts) @ head.T, masks)
        total += outcomes.scores[rows, picks]
        for i, (episode, pick) in enumerate(zip(episodes, picks)):
            replies[i].append(reply(episode.question_id, int(pick)))
    return total / steps


def make_episodes(outcomes: Outcomes, steps: int, k: int, seed: int) -> list[Episode]:
    """One episode per question, a fresh random k-of-n subset at every turn (seeded)."""
    n = len(outcomes.workers)
    subsets = worker_subsets(n, k)
    rng = np.random.default_rng(seed)
    return [Episode(q, text, masks_from(subsets, rng.integers(0, len(subsets), steps), n))
            for q, text in zip(outcomes.question_ids, outcomes.questions)]


def perstep_subset(train: Outcomes, test: Outcomes, featurize: Featurizer, reply: StepReply, follow_up: str,
                   steps: int, k: int, config: CMAESConfig, seed: int, hidden_size: int, seeds: Sequence[int] = (0,),
                   bootstrap_resamples: int = 2000, confidence: float = 0.95) -> dict[str, Any]:
    """Per-step coordinator under random k-of-n masks: untrained (the search's start) vs trained.

    Training reads ``train`` (expected scores), once per seed of ``seeds`` (its episodes' masks and
    its sep-CMA-ES); the accuracy reported is on ``test``, held-out questions with fresh masks fixed
    by ``seed``. The untrained head is the search's starting point (all zeros: every worker ties
    and the first available one answers). ``gain_over_base`` is the estimate record of trained −
    untrained per test episode, pooled over seeds.
    """
    n = len(train.workers)
    test_episodes = make_episodes(test, steps, k, seed + 1)
    start = np.zeros(n * hidden_size)
    evaluate = lambda x: rollout(x.reshape(n, hidden_size), test_episodes, test, featurize, reply, follow_up)  # noqa: E731

    def one_run(run_seed: int) -> tuple[np.ndarray, float]:
        train_episodes = make_episodes(train, steps, k, run_seed)

        def fitness(population: np.ndarray) -> np.ndarray:
            return np.array([rollout(h.reshape(n, hidden_size), train_episodes, train, featurize, reply,
                                     follow_up).mean() for h in population])

        result = sep_cmaes(fitness, start, CMAESConfig(config.population_size, config.generations, config.sigma0,
                                                       run_seed), progress=False)
        return evaluate(result.best_vector), result.best_fitness

    runs = [one_run(s) for s in seeds]
    base, trained = evaluate(start), np.stack([r[0] for r in runs])
    draw = Resamples.draw(len(test_episodes), len(seeds), bootstrap_resamples, seed, confidence)
    return {
        "mock": bool(train.mock or test.mock),
        "steps": steps, "k": k, "n_workers": n,
        "base_accuracy": float(base.mean()),
        "trained_accuracy": pooled_estimate(mean, [trained], draw, seeds),
        "gain_over_base": pooled_estimate(difference, [trained, base], draw, seeds),
        "train_fitness": [r[1] for r in runs],
        "n_test_episodes": len(test_episodes),
        "seeds": list(seeds),
    }
