"""Causal language models: load one (a local directory), build the tiny random fixture, generate."""
