"""Every benchmark runs end to end in its --quick mode and writes its numbers (speed is not asserted)."""

from benchmarks import cmaes


def test_cmaes_benchmark_measures_all_three_fitness_paths():
    numbers = cmaes.measure(quick=True)
    assert set(numbers["generations_per_second"]) == {"cached", "naive", "svf"}
    assert all(rate > 0 for rate in numbers["generations_per_second"].values())
