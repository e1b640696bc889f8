"""Schema and loader for claim records.

A record says what was claimed (``statement``, ``source``), how strong our evidence can be
(``grade``: EXEC we ran it, CODE follows from code/config, DATA read from a released
artifact), which produced number checks it (``metric``: file + dotted key), the executable
``assert``, and the ``scale`` at which that assertion is meaningful. An optional ``reduced``
block states what the claim can honestly be checked as at reduced scale, and what that
check does and does not show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CLAIMS_DIR = Path(__file__).resolve().parent
Scale = Literal["tiny", "full"]
Operator = Literal[">=", "<=", ">", "<", "==", "approx"]


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


class ReducedCheck(_Strict):
    scale: Scale
    assert_: Assertion = Field(alias="assert")
    meaning: str = Field(min_length=10)
    metric: MetricRef | None = None


class Claim(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    statement: str = Field(min_length=10)
    source: str = Field(min_length=3)
    grade: Literal["EXEC", "CODE", "DATA"]
    their_evidence: str
    metric: MetricRef
    assert_: Assertion = Field(alias="assert")
    scale: list[Scale] = Field(min_length=1)
    requires: list[str] = Field(default_factory=list)
    reduced: ReducedCheck | None = None
    # A published claim with two numbers is two records, so neither half can pass for the
    # whole: the second names the first here (the report and verify treat both alike).
    part_of: str | None = None

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

    def check_at(self, scale: str) -> tuple[MetricRef, Assertion, str | None] | None:
        """The (metric, assertion, meaning) that checks this claim at ``scale``, if any."""
        if scale in self.scale:
            return self.metric, self.assert_, None
        if self.reduced and self.reduced.scale == scale:
            return self.reduced.metric or self.metric, self.reduced.assert_, self.reduced.meaning
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
