"""Schemas every metrics file must satisfy before any claim reads a number from it.

A produced result's envelope records the profile, the scale, package versions and artifact
checksums. A file of another shape is a :class:`MetricsFileError` naming the file (every stage
is built, so there is no placeholder shape).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

Scale = Literal["tiny", "medium", "full"]  # the profile a number was produced in
DVC_FILE = Path(__file__).resolve().parent.parent / "dvc.yaml"


class MetricsFileError(ValueError):
    """A metrics file that is missing a field, mistyped, or not JSON; the message names it."""


class ProducedMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    stage: str
    status: Literal["ok"]
    profile: Scale
    scale: Scale
    versions: dict[str, str] = Field(min_length=1)
    artifacts: dict[str, Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]]
    metrics: dict[str, Any]
    not_run: dict[str, str] = Field(default_factory=dict)
    # Keys (dotted prefixes) whose numbers are at another scale than the file's, e.g. the
    # reference parameter count computed from the full Qwen3-0.6B config in a tiny run.
    metric_scale: dict[str, Scale] = Field(default_factory=dict)
    # Why the numbers are a stand-in run's (a CPU run of the full path on a tiny policy and synthetic
    # data): such a file proves the code path runs, and is never evidence for a claim.
    stand_in: list[str] = Field(default_factory=list)

    @field_validator("metrics")
    @classmethod
    def _finite_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        _check_leaves(value, "metrics")
        return value

    def lookup(self, key: str) -> Any:
        """The value at a dotted key (a digit indexes a list, e.g. ``x.ci.0``); KeyError if absent."""
        node: Any = self.metrics
        for part in key.split("."):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise KeyError(key)
        return node

    def not_run_reason(self, key: str) -> str | None:
        return _longest_prefix(self.not_run, key)

    def scale_of(self, key: str) -> str:
        return _longest_prefix(self.metric_scale, key) or self.scale


_ADAPTER: TypeAdapter[ProducedMetrics] = TypeAdapter(ProducedMetrics)


class Estimate(BaseModel):
    """An estimate with its interval, as fugu/evaluation/estimate.py writes it.

    ``per_seed`` holds one number per seed in ``seeds``: a missing one (shorter list, or null)
    is an error naming the file and key, never a silent average over fewer seeds.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    estimate: float
    ci: tuple[float, float]
    n: int = Field(ge=1)
    level: float = Field(gt=0, lt=1)
    seeds: list[int] = Field(min_length=1)
    per_seed: list[float | None]

    @field_validator("ci")
    @classmethod
    def _ordered(cls, ci: tuple[float, float]) -> tuple[float, float]:
        if not (math.isfinite(ci[0]) and math.isfinite(ci[1]) and ci[0] <= ci[1]):
            raise ValueError(f"not an interval: {list(ci)}")
        return ci


def parse_estimate(value: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate one estimate record; every failure (a seed's number missing above all) names ``where``."""
    try:
        record = Estimate.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<record>'}: {e['msg']}" for e in exc.errors())
        raise MetricsFileError(f"{where}: malformed estimate record: {problems}") from exc
    missing = [s for i, s in enumerate(record.seeds) if i >= len(record.per_seed) or record.per_seed[i] is None]
    if missing or len(record.per_seed) != len(record.seeds):
        raise MetricsFileError(f"{where}: no number for seed(s) {missing or record.seeds[len(record.per_seed):]} of "
                               f"{record.seeds} (per_seed has {len(record.per_seed)}): a verdict is never an average "
                               "over fewer seeds than the run names")
    return {**value, "ci": list(record.ci)}


def load_metrics(path: Path) -> ProducedMetrics:
    """Parse and validate one metrics file; every failure names the file."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetricsFileError(f"{path}: not valid JSON: {exc}") from exc
    try:
        parsed = _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<file>'}: {e['msg']}" for e in exc.errors())
        raise MetricsFileError(f"{path}: malformed metrics file: {problems}") from exc
    if parsed.stage != path.stem:
        raise MetricsFileError(f"{path}: records stage {parsed.stage!r} but the file is named for {path.stem!r}")
    return parsed


def declared_metrics_files(dvc_file: Path = DVC_FILE) -> list[str]:
    """Every metrics file the pipeline declares, read from dvc.yaml (the one list of stages)."""
    stages = yaml.safe_load(Path(dvc_file).read_text())["stages"]
    files = []
    for stage in stages.values():
        for entry in stage.get("metrics", []):
            files.append(next(iter(entry)) if isinstance(entry, dict) else entry)
    return files


def _check_leaves(value: Any, where: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is not finite: {value}")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_leaves(item, f"{where}.{key}")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_leaves(item, f"{where}[{i}]")
        return
    raise ValueError(f"{where} has a non-JSON value of type {type(value).__name__}")


def _longest_prefix(table: dict[str, str], key: str) -> str | None:
    matches = [k for k in table if key == k or key.startswith(k + ".")]
    return table[max(matches, key=len)] if matches else None
