"""Trainers: sep-CMA-ES for TRINITY (cmaes.py), GRPO for the Conductor (grpo.py)."""
