"""Routers: the protocol and choice rules (base), features, baselines, the fixed-order stand-in (priority)."""
