"""Evaluation: the router comparison with paired bootstrap CIs (compare), and the mock
experiments the claims name (mock_experiments: always on the simulated pool, labelled mock)."""
