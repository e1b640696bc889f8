"""From a claim record and the metrics directory to a verdict: pure logic, no pytest.

Outcomes (the report's vocabulary):
  reproduced          the assertion holds on a full-scale number
  reproduced_reduced  the assertion holds, but the number was produced at reduced scale
  not_reproduced      the assertion fails on the produced number
  not_run             nothing to check, with the reason (file missing, stage not built,
                      scale the claim can't be checked at, metric recorded as not run)
  error               a metrics file is malformed or the number is not a number
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from claims import NOT_HELD_OUT, Assertion, Claim
from verify.schemas import MetricsFileError, ProducedMetrics, load_metrics

Outcome = Literal["reproduced", "reproduced_reduced", "not_reproduced", "not_run", "error"]
OUTCOMES: tuple[Outcome, ...] = ("reproduced", "reproduced_reduced", "not_reproduced", "not_run", "error")


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    outcome: Outcome
    reason: str
    metric: str
    expected: str
    measured: float | None = None
    scale: str | None = None
    meaning: str | None = None
    labels: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _NotRun(Exception):
    pass


def judge(claim: Claim, root: Path) -> Verdict:
    """Check one claim against the metrics under ``root`` (the repository root)."""
    if claim.metric is None or claim.assert_ is None:
        return _judge_unmeasured(claim, root)
    primary = f"{claim.metric.file}:{claim.metric.key}"
    expected = claim.assert_.describe()
    try:
        produced = _load(claim.metric.file, root)
        scale = produced.scale_of(claim.metric.key)
        check = claim.check_at(scale)
        if check is None:
            raise _NotRun(
                f"produced at {scale} scale; this claim can only be checked at "
                f"{' / '.join(claim.scale)} scale (requires: {', '.join(claim.requires) or 'n/a'})"
            )
        metric, assertion, meaning = check
        produced = produced if metric.file == claim.metric.file else _load(metric.file, root)
        measured, labels = _number(produced, metric.key, metric.file)
    except _NotRun as why:
        return Verdict(claim.id, "not_run", str(why), primary, expected, labels=_source_labels(claim))
    except MetricsFileError as exc:
        return Verdict(claim.id, "error", str(exc), primary, expected, labels=_source_labels(claim))
    return _decide(claim, metric.file, metric.key, assertion, measured, scale, meaning, labels)


def _judge_unmeasured(claim: Claim, root: Path) -> Verdict:
    """A claim no stage measures (it needs the paper's setting): only its reduced check can run."""
    needs = ", ".join(claim.requires)
    reason = f"no stage of this pipeline measures it; checkable only at {' / '.join(claim.scale)} scale with: {needs}"
    reduced = claim.reduced
    if reduced is None or reduced.metric is None:
        return Verdict(claim.id, "not_run", reason, "—", "—", labels=_source_labels(claim))
    where = f"{reduced.metric.file}:{reduced.metric.key}"
    try:
        produced = _load(reduced.metric.file, root)
        scale = produced.scale_of(reduced.metric.key)
        if scale != reduced.scale:
            raise _NotRun(f"{reason} (its reduced check runs at {reduced.scale} scale; this run is {scale})")
        measured, labels = _number(produced, reduced.metric.key, reduced.metric.file)
    except _NotRun as why:
        return Verdict(claim.id, "not_run", str(why), where, reduced.assert_.describe(), labels=_source_labels(claim))
    except MetricsFileError as exc:
        return Verdict(claim.id, "error", str(exc), where, reduced.assert_.describe(), labels=_source_labels(claim))
    return _decide(claim, reduced.metric.file, reduced.metric.key, reduced.assert_, measured, scale,
                   reduced.meaning, labels)


def _decide(claim: Claim, file: str, key: str, assertion: Assertion, measured: float, scale: str,
            meaning: str | None, labels: list[str]) -> Verdict:
    where = f"{file}:{key}"
    if scale != "full":
        labels = ["reduced scale", *labels]
    labels = [*labels, *_source_labels(claim)]
    holds = assertion.holds(measured)
    if holds:
        outcome: Outcome = "reproduced" if scale == "full" else "reproduced_reduced"
        reason = f"measured {measured:g} {assertion.describe()} holds"
    else:
        outcome = "not_reproduced"
        reason = f"measured {measured:g} does not satisfy {assertion.describe()}"
    return Verdict(claim.id, outcome, reason, where, assertion.describe(), measured, scale, meaning, labels)


def _source_labels(claim: Claim) -> list[str]:
    """A source number that is mock / in-sample / parity says so on every verdict, passed or not."""
    kind = claim.their_evidence.kind
    return [f"their number: {kind}, not held-out"] if kind in NOT_HELD_OUT else []


def write_verdicts(verdicts: list[Verdict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    counts = {o: sum(v.outcome == o for v in verdicts) for o in OUTCOMES}
    payload = {"counts": counts, "verdicts": [v.to_json() for v in verdicts]}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def read_verdicts(path: Path) -> list[Verdict]:
    payload = json.loads(Path(path).read_text())
    return [Verdict(**v) for v in payload["verdicts"]]


def _load(file: str, root: Path) -> ProducedMetrics:
    path = Path(root) / file
    stage = path.stem
    if not path.exists():
        raise _NotRun(f"{file} is missing: stage {stage!r} has not run (run `dvc repro`)")
    return load_metrics(path)


def _number(produced: ProducedMetrics, key: str, file: str) -> tuple[float, list[str]]:
    reason = produced.not_run_reason(key)
    if reason:
        raise _NotRun(f"{file}:{key} recorded as not run: {reason}")
    try:
        value = produced.lookup(key)
    except KeyError:
        raise _NotRun(f"{file} has no metric {key!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MetricsFileError(f"{file}:{key} must be a number, got {value!r}")
    return float(value), _labels_along(produced.metrics, key)


def _labels_along(metrics: dict[str, Any], key: str) -> list[str]:
    """'mock' if any section on the way to ``key`` declares ``mock: true``."""
    node: Any = metrics
    for part in key.split("."):
        if isinstance(node, dict) and node.get("mock") is True:
            return ["mock"]
        node = node.get(part) if isinstance(node, dict) else None
    return []
