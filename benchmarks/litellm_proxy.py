"""LiteLLM's own proxy as the serving benchmark's anchor: the same one-hop, OpenAI-in,
OpenAI-out job as fugu's fixed-order path, done by the project fugu's pool is built on.

It lives in a virtualenv of its own (``make bench-proxy-venv`` → ``.venv-litellm-proxy``,
pinned in ``benchmarks/litellm_proxy_requirements.txt``): ``litellm[proxy]==1.110.2`` does not
install from the registry as declared (see /work/shared/DEPENDENCIES.md), and its pins would
fight fugu's own. Without that virtualenv the proxy target is recorded as not run, with this
reason, never skipped in silence.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-litellm-proxy"
MAKE_TARGET = "bench-proxy-venv"
# An unauthenticated loopback benchmark: 1.110.2 refuses to start without a master key unless told
# this is meant; the local cost map keeps it from fetching one; no telemetry, no colour codes in the log.
ENV = {"LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
       "LITELLM_TELEMETRY": "False", "NO_COLOR": "1"}


def executable() -> Path | None:
    path = VENV / "bin" / "litellm"
    return path if path.is_file() else None


def missing_reason() -> str:
    return f"LiteLLM proxy not run: {VENV.name}/bin/litellm is missing; create it with `make {MAKE_TARGET}`"


def command(config_file: Path, model: str, worker_url: str, port: int) -> list[str]:
    """Write the proxy's config (one model, served by the worker at ``worker_url``) and its command line."""
    config_file.write_text(yaml.safe_dump({
        "model_list": [{"model_name": model, "litellm_params": {
            "model": f"openai/{model}", "api_base": f"{worker_url}/v1", "api_key": "local"}}],
        "litellm_settings": {"telemetry": False, "drop_params": True},
    }))
    return [str(executable()), "--config", str(config_file), "--host", "127.0.0.1", "--port", str(port),
            "--num_workers", "1"]


def health_url(base_url: str) -> str:
    return f"{base_url}/health/liveliness"
