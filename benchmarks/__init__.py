"""Measured speed: each module runs one benchmark (``main(argv)``) and writes JSON under benchmarks/results/."""
