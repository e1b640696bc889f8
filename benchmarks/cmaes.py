"""How fast sep-CMA-ES trains TRINITY: generations per second of the three fitness paths.

- cached: SVF frozen, hidden states computed once; a generation is one batched matrix product;
- naive: the same search with no cache — every candidate runs the backbone over the batch
  (what a straightforward ``for candidate: trinity.scores(...)`` loop does);
- svf: SVF offsets searched, so every candidate must run the adapted backbone; no layer's
  output can be cached across candidates, because the reference's targets adapt embed_tokens
  (``svf_cacheable_layers`` counts the layers that could be, from the targets).

The speed-up of cached over naive is the number that makes the tiny profile fit its budget.
``--quick`` shrinks everything (used by the test suite to prove the benchmark runs).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from benchmarks.results import write_result
from fugu.models.backbone import build_tiny_backbone, load_backbone
from fugu.pools.simulated import SimulatedPool
from fugu.training.cmaes import CMAESConfig, head_fitness, sep_cmaes
from fugu.training.trinity_fitness import SearchSpace, population_fitness
from fugu.trinity.coordinator import Trinity
from fugu.trinity.svf import unadapted_layers_below


def generations_per_second(fitness, size: int, population: int, generations: int) -> float:
    config = CMAESConfig(population, generations, 0.5, seed=0)
    started = time.perf_counter()
    sep_cmaes(fitness, np.zeros(size), config, progress=False)
    return generations / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cmaes")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the benchmark runs")
    args, _ = parser.parse_known_args(argv)
    measure(args.quick)
    return 0


def measure(quick: bool) -> dict:
    """Generations/s of every path; writes benchmarks/results/cmaes[_quick].json and returns the numbers."""
    torch.set_num_threads(1)
    n_questions, population = (16, 4) if quick else (144, 32)
    generations = {"cached": 5 if quick else 200, "naive": 1 if quick else 3, "svf": 1 if quick else 3}

    pool = SimulatedPool.generate(n_questions, 4, 4, seed=0)
    outcomes = pool.outcomes()
    with tempfile.TemporaryDirectory() as tmp:
        trinity = Trinity.build(load_backbone(build_tiny_backbone(tmp, seed=0)), outcomes.workers,
                                ["solver", "critic", "planner"], [1])
    conversations = outcomes.conversations()
    hidden_states = lambda z: trinity.hidden_states(conversations, z)  # noqa: E731
    layout = trinity.layout
    frozen = SearchSpace(layout.n_svf, len(outcomes.workers), layout.n_roles, layout.hidden_size, train_svf=False)
    searched = SearchSpace(layout.n_svf, len(outcomes.workers), layout.n_roles, layout.hidden_size, train_svf=True)

    def naive(population_x: np.ndarray) -> np.ndarray:
        values = []
        for x in population_x:
            _, head = frozen.split(x)
            values.append(head_fitness(hidden_states(None), outcomes.scores, outcomes.costs, head[None])[0])
        return np.array(values)

    paths = {
        "cached": (population_fitness(frozen, hidden_states, outcomes.scores, outcomes.costs, 0.0), frozen.size),
        "naive": (naive, frozen.size),
        "svf": (population_fitness(searched, hidden_states, outcomes.scores, outcomes.costs, 0.0), searched.size),
    }
    rates = {name: generations_per_second(fitness, size, population, generations[name])
             for name, (fitness, size) in paths.items()}
    below = unadapted_layers_below(trinity.model, trinity.svf.keys)
    numbers = {
        "n_questions": n_questions, "population_size": population,
        # the svf path runs every layer per candidate unless the targets leave the bottom layers alone
        "svf_cacheable_layers": {"below_adaptation": below, "of": int(trinity.model.config.num_hidden_layers),
                                 "why": "the targets include embed_tokens (tied to lm_head): every layer's input moves with z"
                                 if below == 0 else "layers below the lowest adapted one read unadapted inputs"},
        "gpu": "not measured: " + ("the benchmark runs on CPU only" if torch.cuda.is_available() else "no CUDA device here"),
        "searched_numbers": {"head": frozen.size, "head+svf": searched.size},
        "generations_per_second": rates,
        "speedup_cached_over_naive": rates["cached"] / rates["naive"],
    }
    path = write_result("cmaes", numbers, quick)
    print("generations/s: " + ", ".join(f"{k} {v:.2f}" for k, v in rates.items())
          + f"; cached/naive ×{numbers['speedup_cached_over_naive']:.0f} → {path}")
    return numbers


if __name__ == "__main__":
    main()
