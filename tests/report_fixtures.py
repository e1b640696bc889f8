"""Crafted claim records, verdicts and a routing section for the report's tests.

Built here rather than read from claims/ so the report is specified by what it renders for each
shape and outcome, independent of which published claims the registry holds today.
"""

from __future__ import annotations

from typing import Any

from claims import Claim
from verify.verdicts import Verdict

CONTROL = "tests/audit/test_claim_controls.py::test_every_named_control_exists"
MECHANISM = {"name": "crafted mechanism", "off": "switched off", "control": CONTROL}
EXPECTED = {"effect": "0.5 relative gain", "level": "0.8 accuracy", "tie": "a tie within ±0.05 relative gain",
            "direction": "direction only (relative gain)", "exact": "exact (count)"}


def claim_record(claim_id: str, shape: str = "effect", **overrides: Any) -> Claim:
    """A valid claim of ``shape`` checked at reduced scale on ``metrics/eval.json``."""
    assertion = {"effect": {"op": ">", "value": 0.0}, "level": {"op": ">", "value": 0.25},
                 "direction": {"op": ">", "value": 0.0}, "tie": {"op": "approx", "value": 0.0},
                 "exact": {"op": "approx", "value": 3.0}}[shape]
    value = {"effect": 0.5, "level": 0.8, "tie": 0.05}.get(shape)
    record = {
        "id": claim_id,
        "statement": f"A crafted {shape} claim for the report's tests.",
        "source": "tests",
        "grade": "EXEC",
        "their_evidence": {"kind": "held-out", "detail": "a crafted source for tests"},
        "metric": {"file": "metrics/eval.json", "key": f"crafted.{claim_id.replace('-', '_')}"},
        "assert": assertion,
        "effect": {"shape": shape, "unit": "relative gain" if shape != "level" else "accuracy",
                   "from": "crafted numbers", **({"value": value} if value is not None else {})},
        "scale": ["reduced", "full"],
        "mechanism": MECHANISM,
        **overrides,
    }
    return Claim.model_validate(record)


def central_claim() -> Claim:
    """The central question's claim, shaped as the registry states it (the report reads its id)."""
    return Claim.model_validate({
        "id": "llmrouterbench-heldout-gain",
        "statement": "Held-out learned routers gain about +4–7% relative over the best single model.",
        "source": "tests", "grade": "EXEC",
        "their_evidence": {"kind": "held-out", "detail": "a benchmark's held-out questions"},
        "metric": {"file": "metrics/eval.json", "key": "routing.routers.trinity.relative_gain"},
        "assert": {"op": ">", "value": 0.0},
        "effect": {"shape": "effect", "unit": "relative gain", "from": "+107% (README)", "value": 1.07,
                   "tolerance": 0.1},
        "scale": ["full"], "requires": ["recorded real outcomes on held-out questions"],
        "reduced": {"assert": {"op": ">", "value": 0.0},
                    "effect": {"shape": "direction", "unit": "relative gain", "from": "+107% (README)"},
                    "meaning": "TRINITY against the best single worker on held-out questions",
                    "mechanism": MECHANISM},
    })


def unmeasured_claim() -> Claim:
    return Claim.model_validate({
        "id": "needs-api-pool", "statement": "A claim only the paper's API pool can check.", "source": "tests",
        "grade": "EXEC", "their_evidence": {"kind": "in-distribution", "detail": "the paper's own test split"},
        "scale": ["full"], "requires": ["the paper's API pool"],
    })


def crafted_claims() -> list[Claim]:
    """One claim per shape, the central claim, and one no stage measures."""
    return [central_claim(), claim_record("gain-effect", "effect"), claim_record("level-accuracy", "level"),
            claim_record("tie-margin", "tie"), claim_record("sign-only", "direction"),
            claim_record("count-exact", "exact"), unmeasured_claim()]


def verdict(claim_id: str, outcome: str, *, shape: str | None = "effect", interval: list[float] | None = None,
            measured: float | None = None, scale: str = "tiny", **fields: Any) -> Verdict:
    """A verdict as verify writes it; an interval verdict gets the fields verify sets with it."""
    if interval is not None:
        measured = sum(interval) / 2 if measured is None else measured
        defaults = {"level": 0.95, "null": 0.0, "unit": "relative gain", "n": 120, "seeds": [0, 1],
                    "per_seed": [measured - 0.01, measured + 0.01], "mde": 0.15, "jitter": 0.01,
                    "claimed": 0.5 if shape in ("effect", "level") else 0.05 if shape == "tie" else None,
                    "why": {"reproduced": "holds", "reproduced_reduced": "holds", "contradicted": "other sign",
                            "inconclusive": "holds 0 and the claim"}.get(outcome)}
        fields = {**defaults, **fields}
    labels = fields.pop("labels", ["reduced scale"] if scale != "full" else [])
    return Verdict(claim_id, outcome, fields.pop("reason", f"reason for {outcome}"), "metrics/eval.json:k",
                   fields.pop("expected", EXPECTED.get(shape or "", "—")), measured, scale, fields.pop("meaning", None), labels,
                   shape=shape, interval=interval, **fields)


def estimate(value: float, low: float, high: float, n: int = 120, seeds: int = 1) -> dict[str, Any]:
    return {"estimate": value, "ci": [low, high], "n": n, "level": 0.95, "seeds": list(range(seeds)),
            "per_seed": [value] * seeds}


def routing_section(trinity: float = 0.700, best: float = 0.7083, gain: tuple[float, float, float] = (-0.012, -0.106, 0.099),
                    n_test: int = 120) -> dict[str, Any]:
    """metrics/eval.json's ``metrics.routing`` in the layout the report relies on."""
    return {
        "n_test": n_test,
        "routers": {
            "trinity": {"accuracy": estimate(trinity, trinity - 0.08, trinity + 0.08, n_test),
                        "relative_gain": estimate(*gain, n=n_test),
                        "gain": estimate(trinity - best, -0.07, 0.07, n_test),
                        "gap_closed": estimate(-0.04, -0.5, 0.4, n_test)},
            "best_single": {"worker": "gpt-4o", "accuracy": estimate(best, best - 0.08, best + 0.08, n_test),
                            "relative_gain": estimate(0.0, 0.0, 0.0, n_test)},
            "oracle": {"accuracy": estimate(0.93, 0.88, 0.97, n_test)},
        },
    }
