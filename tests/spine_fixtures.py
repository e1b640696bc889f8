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
        "assert": {"op": ">=", "value": 0.5, "tolerance": 0.0},
        "scale": ["tiny", "full"],
        "mechanism": {"name": "crafted mechanism", "off": "switched off",
                      "control": "tests/audit/test_claim_controls.py::test_every_named_control_exists"},
        **overrides,
    }
    return Claim.model_validate(record)
