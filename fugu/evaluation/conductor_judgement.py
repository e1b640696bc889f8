"""The trained Conductor judged like every router: its greedy plans on the recorded *test* split.

Each seed's policy writes one greedy plan per test question; the answering (last) worker's recorded
outcome is its score, a plan that does not parse scores 0 and asks nobody (cost 0), and is counted
(``parse_failure_rate``). Next to the routers' summary (accuracy, estimated cost, gain over best
single, per category; :func:`fugu.evaluation.compare.compare_to_baselines`), two paired
differences judge the *answer* part of the reward, which format learning alone cannot move:

- ``gain_over_random``: accuracy minus the expected accuracy of a uniformly random worker on the
  same question (the mean of its row): a policy that learned only the format (valid workflows,
  random worker) sits at 0.
- ``gain_over_best_single``: accuracy minus best single's (THE rule, picked on train).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from fugu.conductor.recorded_recursion import ShownResponses
from fugu.conductor.recorded_task import Plan, held_out_record, plan_choices
from fugu.data.matrix import Outcomes
from fugu.evaluation.compare import Routed, compare_to_baselines, route_split
from fugu.routing.baselines import BestSingleRouter, OracleRouter
from fugu.stats.estimate import Resamples, difference, mean, pooled_estimate

NAME = "conductor"


def routed_plans(plans: Sequence[Plan], test: Outcomes) -> Routed:
    """The plans as a router's result: failed plans (choice −1) score 0 at cost 0."""
    choices = plan_choices(list(plans))
    answered = choices >= 0
    scores, costs = test.routed(np.maximum(choices, 0))
    return Routed(NAME, choices, np.where(answered, scores, 0.0), np.where(answered, costs, 0.0))


def judge_conductor(plans_per_seed: Sequence[Sequence[Plan]], train: Outcomes, test: Outcomes, seeds: Sequence[int],
                    n_resamples: int, bootstrap_seed: int, level: float) -> dict[str, Any]:
    """The Conductor's router entry on test (seeds pooled) plus its gains over a random worker and best
    single (fit on ``train``, as in the router comparison)."""
    seeds = [int(s) for s in seeds]
    best_single, oracle = route_split(BestSingleRouter.fit(train), test), route_split(OracleRouter(test), test)
    runs = Routed.over_seeds([routed_plans(p, test) for p in plans_per_seed])
    entry = compare_to_baselines({NAME: runs, "best_single": best_single, "oracle": oracle}, test, "best_single",
                                 "oracle", n_resamples, bootstrap_seed, level, seeds)[NAME]
    draw = Resamples.draw(len(test), len(seeds), n_resamples, bootstrap_seed, level)
    uniform = test.scores.mean(axis=1)  # a uniformly random worker's expected score, question by question
    records = [held_out_record(list(p), test) for p in plans_per_seed]
    return {**entry,
            "gain_over_random": pooled_estimate(difference, [runs.scores, uniform], draw, seeds),
            "gain_over_best_single": pooled_estimate(difference, [runs.scores, best_single.scores], draw, seeds),
            "random_worker_accuracy": float(uniform.mean()),
            "parse_failure_rate": [r["parse_failure_rate"] for r in records],
            "parse_failures": [r["parse_failures"] for r in records],
            "distinct_workers": [r["distinct_workers"] for r in records],
            "seeds": seeds}


def judge_recursion(round0_per_seed: Sequence[Sequence[Plan]], round1_per_seed: Sequence[Sequence[Plan]],
                    test: Outcomes, seeds: Sequence[int], n_resamples: int, bootstrap_seed: int, level: float,
                    shown: Sequence[ShownResponses]) -> dict[str, Any]:
    """Round 0 vs round 1 of the recorded-pool recursion (fugu/conductor/recorded_recursion.py) on test.

    Both rounds are scored like :func:`judge_conductor`'s plans (a failed plan scores 0).
    ``accuracy_delta`` (round 1 − round 0) is paired: the same questions and seeds in every resample.
    ``revised_fraction``: questions whose answering worker changed; ``fixed`` / ``broken``: questions
    round 1 made right / wrong; ``responses_cut`` / ``responses_missing`` per seed: recorded responses cut to
    fit the Conductor's budget / not recorded at all.
    """
    seeds = [int(s) for s in seeds]
    first = np.stack([routed_plans(p, test).scores for p in round0_per_seed])   # [seeds, questions]
    second = np.stack([routed_plans(p, test).scores for p in round1_per_seed])  # [seeds, questions]
    draw = Resamples.draw(len(test), len(seeds), n_resamples, bootstrap_seed, level)
    changed = [float(np.mean(plan_choices(list(a)) != plan_choices(list(b))))
               for a, b in zip(round0_per_seed, round1_per_seed)]
    return {"round0_accuracy": pooled_estimate(mean, [first], draw, seeds),
            "round1_accuracy": pooled_estimate(mean, [second], draw, seeds),
            "accuracy_delta": pooled_estimate(difference, [second, first], draw, seeds),
            "revised_fraction": changed,
            "fixed": [int((b > a).sum()) for a, b in zip(first, second)],
            "broken": [int((b < a).sum()) for a, b in zip(first, second)],
            "round1_parse_failure_rate": [held_out_record(list(p), test)["parse_failure_rate"]
                                          for p in round1_per_seed],
            "responses_cut": [s.cut for s in shown], "responses_missing": [s.missing for s in shown],
            "n_questions": len(test), "seeds": seeds}
