"""The TRINITY coordinator: coordinator (the forward pass), svf, vector (the parameter format),
spec (rebuild from files), router (the one Router that serve, eval and the CLI use),
fixture and planting (the self-test's cases and planted vector)."""
