"""The Conductor's training runs (fugu/training/conductor_training.py): the seed served is chosen on
validation. The reference scale is tested in test_conductor_full.py.

One whole GRPO run per seed is the train_conductor stage's work, run in the tiny pipeline test;
GRPO itself is tested in test_grpo.py.
"""

from fugu.training.conductor_training import ConductorRun, chosen_run


def run(seed: int, accuracy: float) -> ConductorRun:
    return ConductorRun(seed, None, None, [], [], {}, {"accuracy": accuracy}, {})


def test_the_seed_served_is_the_best_on_validation_ties_to_the_earlier():
    assert chosen_run([run(0, 0.6), run(1, 0.7), run(2, 0.7)]).seed == 1
