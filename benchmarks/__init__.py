"""Measured speed, never timed unit tests: each module exposes ``main(argv)`` and writes
JSON under ``benchmarks/results/`` (git-ignored)."""

from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
