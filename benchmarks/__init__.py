"""Measured speed (never timed unit tests): each module has ``main(argv)`` and writes JSON to benchmarks/results/."""
