"""What a head+svf search would cost here: the paper's with-vs-without-SVF ablation, measured, not run.

TRINITY Table 2 reports the ablation (70.44 with SVF vs 67.85 without). SVF changes every
forward pass, so each candidate of a head+svf search re-reads every training question through
the backbone instead of cached features. Measured on a sample: the decomposition (once), and
per candidate the recomposition plus the forward passes; extrapolated to ``population_size`` ×
``generations`` over the training questions. The measured cost depends on the machine, so it is
returned apart from the search's shape (a timings file, not the metrics).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from fugu.training.cmaes import CMAESConfig
from fugu.types import Conversation


def measure_svf_search_cost(trinity, conversations: Sequence[Conversation], sample_questions: int, sigma: float,
                            seed: int, config: CMAESConfig) -> tuple[dict[str, Any], dict[str, float]]:
    """(the search's shape, ``run: False``; its measured cost in seconds) for ``trinity`` over ``conversations``.

    ``sigma``/``seed``: the SVF offsets a candidate is timed with (N(0, sigma²) per offset).
    """
    sample = list(conversations[:sample_questions])
    started = time.perf_counter()
    for index in range(len(trinity.svf.keys)):
        trinity.svf.factors(index)
    decompose_s = time.perf_counter() - started
    z = np.random.default_rng(seed).normal(0.0, sigma, trinity.layout.n_svf).astype(np.float32)
    started = time.perf_counter()
    trinity.svf.apply(z)
    recompose_s = time.perf_counter() - started
    started = time.perf_counter()
    trinity.hidden_states(sample, z)
    per_question_s = (time.perf_counter() - started) / max(len(sample), 1)
    trinity.svf.restore()
    per_candidate_s = recompose_s + per_question_s * len(conversations)
    per_generation_s = per_candidate_s * config.population_size
    timings = {
        "decompose_once_s": round(decompose_s, 3), "recompose_per_candidate_s": round(recompose_s, 3),
        "forward_per_question_s": round(per_question_s, 4), "sample_questions": len(sample),
        "training_questions": len(conversations), "per_candidate_s": round(per_candidate_s, 2),
        "per_generation_s": round(per_generation_s, 2), "population_size": config.population_size,
        "generations": config.generations, "full_search_hours": round(per_generation_s * config.generations / 3600, 2),
        "svf_offsets": trinity.layout.n_svf,
    }
    shape = {"run": False, "svf_offsets": trinity.layout.n_svf, "training_questions": len(conversations),
             "population_size": config.population_size, "generations": config.generations,
             "sample_questions": len(sample)}
    return shape, timings
