"""Statistics shared by every layer: estimates with intervals pooled over questions and seeds."""
