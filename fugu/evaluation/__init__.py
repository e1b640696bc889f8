"""Evaluation: every router judged on held-out questions (router_comparison, its cost–quality curve in
cost_quality) with paired bootstrap CIs (compare), the optimiser comparison (optimisers), and the mock
experiments the claims name (mock_experiments: always on the simulated pool, labelled mock)."""
