"""Trainers: sep-CMA-ES (cmaes.py) over TRINITY's agent head (agent_head.py, trinity_search.py), GRPO for the Conductor (grpo.py)."""
