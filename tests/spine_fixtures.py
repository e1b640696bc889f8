"""Crafted metrics files and claim records for testing verify and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from claims import Claim

VERSIONS = {"python": "3.11", "torch": "2.13.0"}


def produced(stage: str, metrics: dict[str, Any], scale: str = "tiny", **extra: Any) -> dict[str, Any]:
    return {
        "stage": stage, "status": "ok", "profile": scale, "scale": scale,
        "versions": VERSIONS, "artifacts": {"artifacts/x.bin": "0" * 64}, "metrics": metrics, **extra,
    }


def estimate(value: float, low: float, high: float, n: int = 100, seeds: list[int] | None = None,
             per_seed: list[float | None] | None = None) -> dict[str, Any]:
    """An estimate record as fugu/stats/estimate.py writes it."""
    seeds = seeds or [0]
    return {"estimate": value, "ci": [low, high], "n": n, "level": 0.95, "seeds": seeds,
            "per_seed": per_seed if per_seed is not None else [value] * len(seeds)}


def write_metrics(root: Path, stage: str, payload: Any) -> Path:
    path = root / "metrics" / f"{stage}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return path


def make_claim(**overrides: Any) -> Claim:
    record = {
        "id": "crafted",
        "statement": "A crafted claim for tests.",
        "source": "tests",
        "grade": "EXEC",
        "their_evidence": {"kind": "held-out", "detail": "a crafted source for tests"},
        "metric": {"file": "metrics/eval.json", "key": "router.gain"},
        "assert": {"op": ">", "value": 0.0},
        "effect": {"shape": "effect", "value": 0.5, "unit": "accuracy points", "from": "a crafted +0.5"},
        "scale": ["reduced", "full"],
        "mechanism": {"name": "crafted mechanism", "off": "switched off",
                      "control": "tests/audit/test_claim_controls.py::test_every_named_control_exists"},
        **overrides,
    }
    return Claim.model_validate(record)
