"""From a claim record and the metrics directory to a verdict: pure logic, no pytest.

Outcomes (the report's vocabulary, kept small):
  reproduced          our interval is consistent with the claimed effect and excludes no effect,
                      on a full-scale number (or an exact check holds at full scale)
  reproduced_reduced  the same, on a number produced at reduced scale (tiny / medium profile)
  contradicted        our interval excludes the claimed effect: the other sign, smaller than
                      claimed, beyond this data's headroom, or (a tie) outside the margin;
                      ``why`` says which (an exact check that fails is contradicted too)
  inconclusive        the interval holds both no effect and the claimed effect: the verdict says
                      the minimum detectable effect at this n and the n that would decide it;
                      ``borderline`` when a bound lies within the measured jitter of a boundary
  not_run             nothing to check, with the reason (file missing, stage not built, scale
                      the claim can't be checked at, metric recorded as not run)
  error               a metrics file is malformed, a number is not a number, or a seed's number
                      is missing (never a silent average over fewer seeds)

The decision itself is :func:`verify.decision.decide`; this module reads the records and the
metrics, and says where every number came from.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml

from claims import CLAIMS_DIR, NOT_HELD_OUT, Check, Claim, record_digest
from verify.decision import Claimed, Interval, decide
from verify.schemas import MetricsFileError, ProducedMetrics, load_metrics, parse_estimate

Outcome = Literal["reproduced", "reproduced_reduced", "contradicted", "inconclusive", "not_run", "error"]
OUTCOMES: tuple[Outcome, ...] = ("reproduced", "reproduced_reduced", "contradicted", "inconclusive", "not_run", "error")


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    outcome: Outcome
    reason: str
    metric: str                      # file:key of the number judged
    expected: str                    # what the claim says, in our units
    measured: float | None = None    # the estimate (or the exact number)
    scale: str | None = None         # the profile that produced it: tiny | medium | full
    meaning: str | None = None       # what a reduced check does and does not show
    labels: list[str] = field(default_factory=list)
    shape: str | None = None         # exact | effect | level | direction | tie
    why: str | None = None           # verify.decision.WHY (or "holds" / "fails" for an exact check)
    borderline: bool = False
    interval: list[float] | None = None
    level: float | None = None
    null: float | None = None        # the no-effect value the claim is judged against
    claimed: float | None = None     # effect: the size; level: the level; tie: the margin
    tolerance: float | None = None
    unit: str | None = None
    n: int | None = None             # units resampled (questions, cases, seeds)
    mde: float | None = None         # minimum detectable effect at this n, 80% power
    n_needed: int | None = None      # n for 80% power at the claimed size (inconclusive)
    seeds: list[int] | None = None
    per_seed: list[float | None] | None = None
    jitter: float | None = None      # the borderline band used
    headroom: float | None = None    # the largest effect this data allows (effect/level with a headroom)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _NotRun(Exception):
    pass


def claim_scale(profile_scale: str) -> str:
    """A metrics file's scale (tiny | medium | full) as a claim's scale (reduced | full)."""
    return "full" if profile_scale == "full" else "reduced"


def judge(claim: Claim, root: Path, jitter: dict[str, float] | None = None) -> Verdict:
    """Check one claim against the metrics under ``root`` (the repository root).

    ``jitter``: the measured cross-CPU/seed jitter per claim id (results/<profile>/jitter.yaml);
    a claim without an entry gets the seed-derived band alone.
    """
    if claim.metric is None:
        return _judge_unmeasured(claim, root, jitter or {})
    primary = f"{claim.metric.file}:{claim.metric.key}"
    expected = claim.effect.describe() if claim.effect else "—"
    try:
        produced = _load(claim.metric.file, root)
        scale = produced.scale_of(claim.metric.key)
        check = claim.check_at(claim_scale(scale))
        if check is None:
            raise _NotRun(
                f"produced at {scale} scale; this claim can only be checked at "
                f"{' / '.join(claim.scale)} scale (requires: {', '.join(claim.requires) or 'n/a'})"
            )
        if check.metric.file != claim.metric.file:
            produced = _load(check.metric.file, root)
        return _decide(claim, check, produced, scale, (jitter or {}).get(claim.id))
    except _NotRun as why:
        return Verdict(claim.id, "not_run", str(why), primary, expected, labels=_source_labels(claim))
    except MetricsFileError as exc:
        return Verdict(claim.id, "error", str(exc), primary, expected, labels=_source_labels(claim))


def _judge_unmeasured(claim: Claim, root: Path, jitter: dict[str, float]) -> Verdict:
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
        if claim_scale(scale) != "reduced":
            raise _NotRun(f"{reason} (its reduced check runs at reduced scale; this run is {scale})")
        check = claim.check_at("reduced")
        assert check is not None
        return _decide(claim, check, produced, scale, jitter.get(claim.id))
    except _NotRun as why:
        return Verdict(claim.id, "not_run", str(why), where, reduced.effect.describe(), labels=_source_labels(claim))
    except MetricsFileError as exc:
        return Verdict(claim.id, "error", str(exc), where, reduced.effect.describe(), labels=_source_labels(claim))


def _decide(claim: Claim, check: Check, produced: ProducedMetrics, scale: str,
            measured_jitter: float | None) -> Verdict:
    file, key = check.metric.file, check.metric.key
    value = _value(produced, key, file)
    labels = (["reduced scale"] if scale != "full" else []) + _labels_along(produced.metrics, key)
    labels += _source_labels(claim)
    common = dict(claim_id=claim.id, metric=f"{file}:{key}", expected=check.effect.describe(), scale=scale,
                  meaning=check.meaning, labels=labels, shape=check.effect.shape, unit=check.effect.unit,
                  null=check.assertion.value, tolerance=check.effect.tolerance or check.assertion.tolerance)
    if check.effect.shape == "exact":
        measured = value if isinstance(value, (int, float)) and not isinstance(value, bool) else _estimate(value, file, key)["estimate"]
        holds = check.assertion.holds(measured)
        outcome: Outcome = ("reproduced" if scale == "full" else "reproduced_reduced") if holds else "contradicted"
        reason = (f"measured {measured:g} {check.assertion.describe()} "
                  + ("holds" if holds else "does not hold"))
        return Verdict(outcome=outcome, reason=reason, measured=float(measured), why="holds" if holds else "fails",
                       **common)
    record = _estimate(value, file, key)
    headroom = None
    if check.effect.headroom:
        headroom_record = _estimate(_value(produced, check.effect.headroom, file), file, check.effect.headroom)
        headroom = headroom_record["ci"][1] if check.assertion.direction > 0 else headroom_record["ci"][0]
    claimed = Claimed(check.effect.shape, check.assertion.direction or 1, check.assertion.value, check.effect.value,
                      check.effect.tolerance, headroom)
    interval = Interval(record["estimate"], record["ci"][0], record["ci"][1], record["n"], record["level"])
    band = max(measured_jitter or 0.0, seed_jitter(record))
    decision = decide(claimed, interval, band)
    outcome = decision.outcome
    if outcome == "reproduced" and scale != "full":
        outcome = "reproduced_reduced"
    return Verdict(outcome=outcome, reason=decision.reason, measured=record["estimate"], why=decision.why,
                   borderline=decision.borderline, interval=list(record["ci"]), level=record["level"],
                   claimed=check.effect.value, n=record["n"], mde=decision.mde, n_needed=decision.n_needed,
                   seeds=record["seeds"], per_seed=record["per_seed"], jitter=band, headroom=headroom, **common)


def seed_jitter(record: dict[str, Any]) -> float:
    """How far the pooled estimate moves when every seed's run is replaced by another (what a
    different CPU's bits do to a chaotic training run): √2 × the seeds' spread / √S. A record
    of one seed carries no such information (0: its band is the measured jitter alone)."""
    values = [v for v in record["per_seed"] if v is not None]
    if record.get("unit_resampled") == "seeds" or len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return math.sqrt(2.0) * spread / math.sqrt(len(values))


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


STALE = "stale"  # Verdict.why of a committed verdict whose claim record changed since it was judged


def judged_records(table: Path) -> dict[str, str | None]:
    """Claim id → the digest of the record a committed verdict table (results/<profile>/verdicts.yaml)
    judged; {} when there is no table."""
    rows = (yaml.safe_load(Path(table).read_text()) or {}).get("claims", {}) if Path(table).exists() else {}
    return {claim_id: row.get("record") for claim_id, row in rows.items()}


def changed_records(judged: Mapping[str, str | None], directory: Path = CLAIMS_DIR) -> set[str]:
    """The judged claims whose record is not the one judged any more: edited, deleted, or never named."""
    return {claim_id for claim_id, digest in judged.items()
            if digest is None or record_digest(claim_id, directory) != digest}


def still_standing(verdicts: list[Verdict], judged: Mapping[str, str | None], run: str,
                   directory: Path = CLAIMS_DIR) -> list[Verdict]:
    """Another run's committed verdicts, each kept only while its claim record is the one it judged.

    ``judged``: claim id → the record digest the run's table names (:func:`judged_records`). A verdict
    on a record edited since (or deleted, or with no digest) says nothing about the claim as it now
    reads: it becomes *not run*, why ``stale``, naming the run to redo (``run``)."""
    changed = changed_records({v.claim_id: judged.get(v.claim_id) for v in verdicts}, directory)
    return [replace(v, outcome="not_run", why=STALE, borderline=False,
                    reason=f"stale: the claim's record changed since {run} judged it ({v.outcome}); "
                           f"rerun {run} to judge it as it now reads") if v.claim_id in changed else v
            for v in verdicts]


def _load(file: str, root: Path) -> ProducedMetrics:
    path = Path(root) / file
    stage = path.stem
    if not path.exists():
        raise _NotRun(f"{file} is missing: stage {stage!r} has not run (run `dvc repro`)")
    return load_metrics(path)


def _value(produced: ProducedMetrics, key: str, file: str) -> Any:
    if produced.stand_in:
        raise _NotRun(f"{file} is a stand-in run, not evidence: {'; '.join(produced.stand_in)}")
    reason = produced.not_run_reason(key)
    if reason:
        raise _NotRun(f"{file}:{key} recorded as not run: {reason}")
    try:
        return produced.lookup(key)
    except KeyError:
        raise _NotRun(f"{file} has no metric {key!r}") from None


def _estimate(value: Any, file: str, key: str) -> dict[str, Any]:
    """An estimate record, checked: every seed named has its number (or it is an error)."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        raise MetricsFileError(f"{file}:{key} is a bare number ({value!r}); this check needs an estimate record "
                               "(estimate, ci, n, level, seeds, per_seed)")
    if not isinstance(value, dict):
        raise MetricsFileError(f"{file}:{key} must be an estimate record, got {value!r}")
    return parse_estimate(value, f"{file}:{key}")


def _labels_along(metrics: dict[str, Any], key: str) -> list[str]:
    """'mock' if any section on the way to ``key`` declares ``mock: true``."""
    node: Any = metrics
    for part in key.split("."):
        if isinstance(node, dict) and node.get("mock") is True:
            return ["mock"]
        node = node.get(part) if isinstance(node, dict) else None
    return []
