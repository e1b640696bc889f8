"""Serving: the OpenAI-compatible app (app), its wire models (protocol), the local worker server
that puts any pool behind HTTP (worker_server)."""
