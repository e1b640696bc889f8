"""The measured cross-CPU jitter of every checked bound: what the borderline band is made of.

Float results differ by instruction set and thread count, and a training run is chaotic in its
floats, so another CPU moves an interval a little. How far is measured, never guessed:
``tools/measure_jitter.py`` reruns the whole pipeline on perturbed computations (another thread
count, another instruction set), and for each claim the largest shift of an interval bound
between the runs, times a stated safety factor, is that claim's jitter. The committed table
``results/<profile>/jitter.yaml`` is read here; a bound within it of a decision boundary makes
the verdict inconclusive (borderline) (verify/decision.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from claims import Claim
from verify.verdicts import Verdict

ROOT = Path(__file__).resolve().parent.parent
SAFETY_FACTOR = 2.0  # the measured shifts are a sample of what another machine does: the band doubles them


def jitter_file(profile: str, root: Path = ROOT) -> Path:
    return root / "results" / profile / "jitter.yaml"


def load_jitter(profile: str, root: Path = ROOT) -> dict[str, float]:
    """{claim id: jitter} for ``profile``; empty when none was measured (the band is then the seeds' alone)."""
    return {claim: entry["jitter"] for claim, entry in jitter_entries(profile, root).items()}


def jitter_entries(profile: str, root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """{claim id: {"jitter": float, "metric": "file:key" or None}} of the committed table."""
    path = jitter_file(profile, root)
    if not path.exists():
        return {}
    table = yaml.safe_load(path.read_text()) or {}
    claims = table.get("claims") or {}
    try:
        return {claim: {"jitter": float(entry["jitter"]), "metric": entry.get("metric")} for claim, entry in claims.items()}
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: every claim needs a numeric 'jitter' ({exc})") from exc


def claim_metrics(claim: Claim) -> set[str]:
    """The "file:key" strings a claim can be judged on (its full and its reduced check)."""
    checks = [claim.metric, claim.reduced.metric if claim.reduced else None]
    return {f"{m.file}:{m.key}" for m in checks if m is not None}


def jitter_for(metrics_root: Path, claim: Claim) -> dict[str, float]:
    """The committed jitter of ``claim`` (empty if none), from the table of the profile that produced
    its metrics. A band measured on another metric than the claim reads now is stale, not this
    claim's jitter: it is left out (and ``tests/audit/test_jitter_table.py`` fails until ``make jitter``)."""
    metric = claim.metric or (claim.reduced.metric if claim.reduced else None)
    if metric is None:
        return {}
    path = Path(metrics_root) / metric.file
    try:
        profile = json.loads(path.read_text())["profile"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # no metrics yet, or a malformed file: judge says so itself
    entry = jitter_entries(str(profile)).get(claim.id)
    if entry is None or (entry["metric"] is not None and entry["metric"] not in claim_metrics(claim)):
        return {}
    return {claim.id: entry["jitter"]}


def bound_shifts(runs: list[list[Verdict]]) -> dict[str, float]:
    """Per claim, the largest move of either interval bound (or of an exact number) across runs."""
    by_claim: dict[str, list[list[float]]] = {}
    for verdicts in runs:
        for v in verdicts:
            values = v.interval if v.interval is not None else ([v.measured] if v.measured is not None else None)
            if values is not None:
                by_claim.setdefault(v.claim_id, []).append(list(values))
    return {claim: max(max(abs(a - b) for a, b in zip(row, rows[0])) for row in rows)
            for claim, rows in by_claim.items() if len(rows) == len(runs) and len(runs) > 1}


def jitter_table(runs: list[list[Verdict]], safety_factor: float = SAFETY_FACTOR) -> dict[str, dict[str, Any]]:
    """What results/<profile>/jitter.yaml holds per claim: the metric judged, the measured shift and the band."""
    metrics = {v.claim_id: v.metric for v in runs[0]} if runs else {}
    return {claim: {"metric": metrics.get(claim), "max_shift": round(shift, 6), "jitter": round(shift * safety_factor, 6)}
            for claim, shift in sorted(bound_shifts(runs).items())}
