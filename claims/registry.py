"""Schema and loader for claim records.

A record says what was claimed (``statement``, ``source``), how strong our evidence can be
(``grade``: EXEC we ran it, CODE follows from code/config, DATA read from a released
artifact), which produced number checks it (``metric``: file + dotted key), the executable
``assert``, and the ``scale`` at which that assertion is meaningful. An optional ``reduced``
block states what the claim can honestly be checked as at reduced scale, and what that
check does and does not show.

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

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CLAIMS_DIR = Path(__file__).resolve().parent
Scale = Literal["tiny", "full"]
Operator = Literal[">=", "<=", ">", "<", "==", "approx"]
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
            "==": lambda: abs(measured - self.value) <= tol,
            "approx": lambda: abs(measured - self.value) <= tol,
        }
        return bool(checks[self.op]())

    def describe(self) -> str:
        tol = f" ± {self.tolerance:g}" if self.tolerance else ""
        symbol = "≈" if self.op == "approx" else self.op
        return f"{symbol} {self.value:g}{tol}"


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
    scale: Scale
    assert_: Assertion = Field(alias="assert")
    meaning: str = Field(min_length=10)
    metric: MetricRef | None = None
    mechanism: Mechanism


class Claim(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    statement: str = Field(min_length=10)
    source: str = Field(min_length=3)
    grade: Literal["EXEC", "CODE", "DATA"]
    their_evidence: Evidence
    # None: no stage of this pipeline measures it (e.g. it needs the paper's API pool).
    metric: MetricRef | None = None
    assert_: Assertion | None = Field(default=None, alias="assert")
    scale: list[Scale] = Field(min_length=1)
    requires: list[str] = Field(default_factory=list)
    reduced: ReducedCheck | None = None
    # A published claim with two numbers is two records, so neither half can pass for the
    # whole: the second names the first here (the report and verify treat both alike).
    part_of: str | None = None
    # Required when the primary check is executed at tiny scale (a mock claim run as is).
    mechanism: Mechanism | None = None

    @field_validator("scale")
    @classmethod
    def _unique_scales(cls, scales: list[str]) -> list[str]:
        if len(set(scales)) != len(scales):
            raise ValueError(f"scale lists a scale twice: {scales}")
        return scales

    @model_validator(mode="after")
    def _reduced_is_extra(self) -> "Claim":
        if self.reduced and self.reduced.scale in self.scale:
            raise ValueError(f"reduced.scale {self.reduced.scale!r} is already a full check in scale {self.scale}")
        return self

    @model_validator(mode="after")
    def _metric_and_assert_together(self) -> "Claim":
        if (self.metric is None) != (self.assert_ is None):
            raise ValueError("metric and assert come together: a check needs both, an unmeasured claim neither")
        if self.metric is None and not self.requires:
            raise ValueError("a claim with no metric must say in requires what measuring it would need")
        if self.metric is None and "tiny" in self.scale:
            raise ValueError("a claim with no metric cannot be checkable at tiny scale")
        return self

    @model_validator(mode="after")
    def _tiny_checks_name_their_mechanism(self) -> "Claim":
        if self.grade == "EXEC" and "tiny" in self.scale and self.mechanism is None:
            raise ValueError("an executed check at tiny scale must name its mechanism and control test")
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

    def check_at(self, scale: str) -> tuple[MetricRef, Assertion, str | None] | None:
        """The (metric, assertion, meaning) that checks this claim at ``scale``, if any."""
        if scale in self.scale and self.metric is not None and self.assert_ is not None:
            return self.metric, self.assert_, None
        if self.reduced and self.reduced.scale == scale:
            metric = self.reduced.metric or self.metric
            if metric is None:
                raise ClaimError(f"{self.id}: its reduced check names no metric and the claim has none")
            return metric, self.reduced.assert_, self.reduced.meaning
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
    """Every claim record in ``directory``, sorted by id; any bad record is an error."""
    claims = [load_claim(p) for p in sorted(Path(directory).glob("*.yaml"))]
    if not claims:
        raise ClaimError(f"{directory}: no claim records (*.yaml) found")
    return claims
