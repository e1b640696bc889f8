"""Schema and loader for claim records.

A record says what was claimed (``statement``, ``source``), how strong our evidence can be
(``grade``: EXEC we ran it, CODE follows from code/config, DATA read from a released
artifact), which produced number checks it (``metric``: file + dotted key), the executable
``assert`` (the direction and the no-effect value it is judged against), the ``effect`` it
claims in the units we measure (:class:`Effect`: value, unit, which numbers of the source it
comes from, and its shape: a size, a level, a direction only, a tie, or an exact check), and
the ``scale`` at which that check is meaningful. An optional ``reduced`` block states what the
claim can honestly be checked as at reduced scale (the tiny and medium profiles), and what that
check does and does not show. verify/decision.py turns an interval and the effect into a verdict.

``their_evidence`` says what the *source's* number really rests on (a mock world, a parity
fixture, the questions it trained on, a paper's held-out table), so the report can show it
next to our verdict; a number that is mock, in-sample or a parity check can never be worded
as a held-out result (:meth:`Claim._not_called_held_out`). Every reduced check, and every
executed check that runs at tiny scale, names the mechanism it exercises and the control test
(in ``tests/``) that runs it with that mechanism switched off and shows the check then fails.
A claim no stage of this pipeline can measure (it needs the paper's API pool) has no
``metric``: it is *not run* at every scale with its ``requires`` as the reason, unless a
``reduced`` check exercises its mechanism on what we do have.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CLAIMS_DIR = Path(__file__).resolve().parent
# Where a check is meaningful: "reduced" (the tiny and medium CPU profiles) or "full" (real weights, GPUs).
Scale = Literal["reduced", "full"]
Shape = Literal["exact", "effect", "level", "direction", "tie"]
# approx: |measured − value| ≤ tolerance (tolerance 0 is exact equality); the others a direction.
Operator = Literal[">=", "<=", ">", "<", "approx"]
# What a source's number was measured on, weakest first:
#   mock            a synthetic world (seeded skill matrix): no model answered any question
#   parity          agreement with another implementation's outputs, not correctness
#   in-sample       scored on the questions it was trained or selected on
#   training-curve  a reward curve during training (in-sample by construction)
#   code            follows from code/config arithmetic, nothing was run
#   in-distribution held-out questions of the benchmarks trained on (a paper's test split)
#   held-out        questions and/or benchmarks never trained or tuned on
EvidenceKind = Literal["mock", "parity", "in-sample", "training-curve", "code", "in-distribution", "held-out"]
NOT_HELD_OUT: frozenset[str] = frozenset({"mock", "parity", "in-sample", "training-curve"})
CONTROL_TEST = r"^tests/[A-Za-z0-9_/]+\.py::test_[A-Za-z0-9_]+(\[[A-Za-z0-9_-]+\])?$"


class ClaimError(ValueError):
    """A claim record that cannot be used; the message names the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricRef(_Strict):
    file: str = Field(pattern=r"^metrics/[a-z0-9_]+\.json$")
    key: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")

    @property
    def stage(self) -> str:
        return Path(self.file).stem


class Assertion(_Strict):
    """The direction a claim asserts and the value it is judged against.

    For an ``exact`` check (a number with no sampling error: arithmetic on a config, a count of
    leaked names) this is the whole check. For every other shape ``op`` gives the direction
    (``>``/``>=``: more than ``value``; ``<``/``<=``: less; ``approx``: no difference) and
    ``value`` the no-effect point (0 for a difference, chance for a level).
    """

    op: Operator
    value: float
    tolerance: float = Field(default=0.0, ge=0.0)

    def holds(self, measured: float) -> bool:
        """Tolerance widens the check in the direction that favours the claim, never more."""
        tol = self.tolerance
        checks = {
            ">=": lambda: measured >= self.value - tol,
            ">": lambda: measured > self.value - tol,
            "<=": lambda: measured <= self.value + tol,
            "<": lambda: measured < self.value + tol,
            "approx": lambda: abs(measured - self.value) <= tol,
        }
        return bool(checks[self.op]())

    @property
    def direction(self) -> int:
        """+1 for "more than value", −1 for "less", 0 for "no difference"."""
        return {">": 1, ">=": 1, "<": -1, "<=": -1}.get(self.op, 0)

    def describe(self) -> str:
        if self.op == "approx" and not self.tolerance:
            return f"== {self.value:g}"  # exact equality
        tol = f" ± {self.tolerance:g}" if self.tolerance else ""
        symbol = "≈" if self.op == "approx" else self.op
        return f"{symbol} {self.value:g}{tol}"


class Effect(_Strict):
    """The effect a claim states, in the units our metric measures.

    ``shape``: ``effect`` (a size, e.g. +107% relative gain), ``level`` (a level against the
    no-effect value, e.g. 95% accuracy against chance), ``direction`` (only a sign: the source's
    numbers are not comparable with ours, said in ``source_numbers``), ``tie`` (no difference,
    within the equivalence margin ``value``), ``exact`` (a number with no sampling error, checked
    by the assertion alone). ``source_numbers`` says which numbers of the source ``value`` is
    computed from. ``headroom`` names a key (an estimate in the same metrics file) holding the
    largest effect the data allow, e.g. the oracle's gain: a claimed size beyond it is
    contradicted with that reason.
    """

    shape: Shape
    unit: str = Field(min_length=2)
    source_numbers: str = Field(min_length=5, alias="from")
    value: float | None = None
    tolerance: float = Field(default=0.0, ge=0.0)
    headroom: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")

    def check_against(self, assertion: Assertion) -> None:
        """Refuse an effect that contradicts its assertion (a record error, raised at load)."""
        if self.shape in ("exact", "direction") and self.value is not None:
            raise ValueError(f"an {self.shape} check states no effect value (got {self.value})")
        if self.shape in ("effect", "level", "tie") and self.value is None:
            raise ValueError(f"a {self.shape} claim must state its value in {self.unit!r}")
        if self.shape == "exact":
            return
        if self.shape == "tie":
            if assertion.direction != 0:
                raise ValueError(f"a tie asserts no difference (op approx), not {assertion.op!r}")
            if (self.value or 0.0) <= 0:
                raise ValueError(f"a tie's equivalence margin must be positive, got {self.value}")
            return
        if assertion.direction == 0:
            raise ValueError(f"a {self.shape} claim asserts a direction (op >, >=, < or <=), not {assertion.op!r}")
        if self.value is not None and assertion.direction * (self.value - assertion.value) <= 0:
            raise ValueError(f"the claimed {self.shape} {self.value:g} {self.unit} contradicts the assertion "
                             f"{assertion.describe()}: its direction is the other way")
        if self.headroom and self.shape not in ("effect", "level"):
            raise ValueError("only a claimed size (effect, level) can be beyond the data's headroom")

    def describe(self) -> str:
        if self.shape == "tie":
            return f"a tie within ±{self.value:g} {self.unit}"
        if self.shape == "direction":
            return f"direction only ({self.unit})"
        if self.shape == "exact":
            return f"exact ({self.unit})"
        tol = f" ± {self.tolerance:g}" if self.tolerance else ""
        return f"{self.value:g}{tol} {self.unit}"


class Evidence(_Strict):
    """What the source's own number was measured on (``kind``) and, in words, how (``detail``)."""

    kind: EvidenceKind
    detail: str = Field(min_length=10)
    n: int | None = Field(default=None, ge=1)  # how many questions/cases the number rests on, if stated

    def describe(self) -> str:
        size = f", n = {self.n}" if self.n else ""
        return f"{self.kind}{size}: {self.detail}"


class Mechanism(_Strict):
    """The mechanism a check exercises, and the control that shows the check needs it.

    ``control`` is a pytest node id (``tests/…py::test_…``) that runs the same check with
    ``off`` applied and asserts the check then fails: a check that still passes with its
    mechanism switched off measures nothing about that mechanism.
    """

    name: str = Field(min_length=3)
    off: str = Field(min_length=5)
    control: str = Field(pattern=CONTROL_TEST)


class ReducedCheck(_Strict):
    """What the claim can honestly be checked as in the reduced (tiny, medium) profiles."""

    assert_: Assertion = Field(alias="assert")
    effect: Effect
    meaning: str = Field(min_length=10)
    metric: MetricRef | None = None
    mechanism: Mechanism

    @model_validator(mode="after")
    def _effect_matches_assertion(self) -> "ReducedCheck":
        self.effect.check_against(self.assert_)
        return self


class Check(NamedTuple):
    """The one check a claim gets at a scale."""

    metric: MetricRef
    assertion: Assertion
    effect: Effect
    meaning: str | None


class Claim(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    statement: str = Field(min_length=10)
    source: str = Field(min_length=3)
    grade: Literal["EXEC", "CODE", "DATA"]
    their_evidence: Evidence
    # None: no stage of this pipeline measures it (e.g. it needs the paper's API pool).
    metric: MetricRef | None = None
    assert_: Assertion | None = Field(default=None, alias="assert")
    effect: Effect | None = None
    scale: list[Scale] = Field(min_length=1)
    requires: list[str] = Field(default_factory=list)
    reduced: ReducedCheck | None = None
    # A published claim with two numbers is two records, so neither half can pass for the
    # whole: the second names the first here (the report and verify treat both alike).
    part_of: str | None = None
    # The same claim checked as its source checked it, on the simulated (mock) pool, beside the record
    # that checks it on real outcomes: named here, listed right after that record (the real result first).
    twin_of: str | None = None
    # Why a claim is checked on the simulated pool only, and what data would move it to real outcomes.
    mock_only: str | None = Field(default=None, min_length=20)
    # Required when the primary check is executed at reduced scale (a mock claim run as is).
    mechanism: Mechanism | None = None

    @field_validator("scale")
    @classmethod
    def _unique_scales(cls, scales: list[str]) -> list[str]:
        if len(set(scales)) != len(scales):
            raise ValueError(f"scale lists a scale twice: {scales}")
        return scales

    @model_validator(mode="after")
    def _reduced_is_extra(self) -> "Claim":
        if self.reduced and "reduced" in self.scale:
            raise ValueError("a reduced check is for a claim whose own check is full-scale only; "
                             f"this one is already checked at reduced scale (scale {self.scale})")
        return self

    @model_validator(mode="after")
    def _metric_assert_and_effect_together(self) -> "Claim":
        if (self.metric is None) != (self.assert_ is None) or (self.metric is None) != (self.effect is None):
            raise ValueError("metric, assert and effect come together: a check needs all three, an unmeasured "
                             "claim none")
        if self.metric is None and not self.requires:
            raise ValueError("a claim with no metric must say in requires what measuring it would need")
        if self.metric is None and "reduced" in self.scale:
            raise ValueError("a claim with no metric cannot be checkable at reduced scale")
        if self.effect is not None and self.assert_ is not None:
            self.effect.check_against(self.assert_)
        return self

    @model_validator(mode="after")
    def _reduced_checks_name_their_mechanism(self) -> "Claim":
        if self.grade == "EXEC" and "reduced" in self.scale and self.mechanism is None:
            raise ValueError("an executed check at reduced scale must name its mechanism and control test")
        return self

    @model_validator(mode="after")
    def _not_called_held_out(self) -> "Claim":
        if self.their_evidence.kind in NOT_HELD_OUT and "held-out" in self.statement.lower():
            raise ValueError(f"the source's number is {self.their_evidence.kind}: the statement must not call it held-out")
        return self

    @property
    def mechanisms(self) -> list[Mechanism]:
        """Every mechanism this record's checks name (primary and reduced)."""
        found = [self.mechanism] if self.mechanism else []
        return found + ([self.reduced.mechanism] if self.reduced else [])

    def check_at(self, scale: str) -> Check | None:
        """The check of this claim at ``scale`` ("reduced" or "full"), if it has one there."""
        if scale in self.scale and self.metric is not None and self.assert_ is not None and self.effect is not None:
            return Check(self.metric, self.assert_, self.effect, None)
        if self.reduced and scale == "reduced":
            metric = self.reduced.metric or self.metric
            if metric is None:
                raise ClaimError(f"{self.id}: its reduced check names no metric and the claim has none")
            return Check(metric, self.reduced.assert_, self.reduced.effect, self.reduced.meaning)
        return None


def load_claim(path: Path) -> Claim:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as exc:
        raise ClaimError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ClaimError(f"{path}: a claim record must be a mapping, got {type(raw).__name__}")
    try:
        claim = Claim.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<record>'}: {e['msg']}" for e in exc.errors())
        raise ClaimError(f"{path}: invalid claim record: {problems}") from exc
    if claim.id != Path(path).stem:
        raise ClaimError(f"{path}: claim id {claim.id!r} must match the file name {Path(path).stem!r}")
    return claim


def load_claims(directory: Path = CLAIMS_DIR) -> list[Claim]:
    """Every claim record in ``directory``; any bad record is an error.

    Ordered by family (a record, the records ``part_of`` it, then its mock twins), families by id:
    a claim's real result is read before its mock twin."""
    claims = [load_claim(p) for p in sorted(Path(directory).glob("*.yaml"))]
    if not claims:
        raise ClaimError(f"{directory}: no claim records (*.yaml) found")
    by_id = {c.id: c for c in claims}
    for claim in claims:
        for field, target in (("part_of", claim.part_of), ("twin_of", claim.twin_of)):
            if target is not None and target not in by_id:
                raise ClaimError(f"{directory / claim.id}.yaml: {field} names {target!r}, which has no record")
        if claim.twin_of is not None and by_id[claim.twin_of].twin_of is not None:
            raise ClaimError(f"{directory / claim.id}.yaml: twin_of names {claim.twin_of!r}, itself a mock twin")

    def family(claim: Claim) -> str:
        seen = [claim.id]
        while claim.part_of or claim.twin_of:
            claim = by_id[claim.twin_of or claim.part_of]  # type: ignore[index]
            if claim.id in seen:
                raise ClaimError(f"{directory}: part_of / twin_of go round in a circle: {' -> '.join(seen + [claim.id])}")
            seen.append(claim.id)
        return claim.id

    def is_twin(claim: Claim) -> bool:
        return claim.twin_of is not None or (claim.part_of is not None and is_twin(by_id[claim.part_of]))

    return sorted(claims, key=lambda c: (family(c), is_twin(c), c.part_of is not None, c.id))


def record_digest(claim_id: str, directory: Path = CLAIMS_DIR) -> str | None:
    """The first 16 hex digits of the sha256 of a claim's record file (None: no such record): a committed
    verdict table names the record each verdict judged, so a record edited since is seen
    (verify.verdicts.changed_records)."""
    path = Path(directory) / f"{claim_id}.yaml"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else None
