"""Convert a recorded-outcomes file, whatever its layout, into the tidy table (see ``table.py``).

Accepted input (adding a data file is `fugu data add FILE`, fugu/data/adding.py: a README row and, at most, a format entry):

Containers, chosen by suffix: ``.csv``, ``.tsv``, ``.jsonl`` / ``.ndjson``, ``.json`` (a list
of records), ``.parquet``; any of the text ones may be gzipped (``.csv.gz``). Pickles are
refused on purpose: loading one runs code; convert it to parquet when assembling the folder.

Layouts:
- **long**: one row per (question, model), with a model column.
- **wide**: one row per question, one score column per model (RouterBench style). Extra
  per-model fields sit in columns named ``<model><sep><field>``, e.g.
  ``gpt-4|model_response`` and ``gpt-4|total_cost`` with the default separator ``|``.
- **auto** (default): long if a model column is found, else wide.

Columns are found by common names (``ALIASES``: ``eval_name`` is a category, ``prompt`` a
question, ``correct`` a score, ...) unless :class:`InputFormat.columns` names them. A file
without a category column needs ``InputFormat.category``; a file without question ids gets
ids from a hash of the question text (an identifier, not data). Scores may be booleans,
0/1, "true"/"false" or numbers in [0, ``score_max``]; anything else is an error naming the row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from fugu.data.graders import GraderError, grade_recorded
from fugu.data.table import OutcomeTableError, validate_outcome_table

ALIASES: dict[str, tuple[str, ...]] = {
    "question_id": ("question_id", "qid", "sample_id", "prompt_id", "example_id", "id", "index"),
    "category": ("category", "benchmark", "eval_name", "task", "subject", "dataset", "domain"),
    "question": ("question", "prompt", "query", "input", "problem", "instruction"),
    "model": ("model", "model_name", "model_id", "worker", "llm", "agent"),
    "score": ("score", "correct", "is_correct", "correctness", "label", "accuracy", "performance", "reward"),
    "cost": ("cost", "total_cost", "cost_usd", "price"),
    "response": ("response", "model_response", "output", "completion", "generation", "answer_text"),
    "reference": ("reference", "gold", "answer", "target", "ground_truth", "solution", "oracle_answer"),
}
REQUIRED = ("question", "score")
# Fields a wide file may carry per model as "<model><sep><field>" (besides the score column).
PER_MODEL_FIELDS = ("cost", "response")


class ConversionError(ValueError):
    """A source file that cannot become the tidy table; the message names the file and why."""


@dataclass(frozen=True)
class InputFormat:
    """How to read one source file when its names or layout are not the common ones."""

    layout: Literal["auto", "long", "wide"] = "auto"
    columns: dict[str, str] = field(default_factory=dict)  # tidy name -> source column
    models: tuple[str, ...] = ()  # wide: the score columns (default: every numeric column left); long: the models kept
    separator: str = "|"  # wide: "<model><separator><field>"
    category: str | None = None  # constant category for a file without one
    score_max: float = 1.0  # e.g. 10 for a 1-10 rating: scores are divided by it

    @classmethod
    def from_dict(cls, raw: dict | None) -> "InputFormat":
        raw = dict(raw or {})
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConversionError(f"unknown input-format keys {sorted(unknown)}; expected {sorted(cls.__dataclass_fields__)}")
        if "models" in raw:
            raw["models"] = tuple(raw["models"])
        return cls(**raw)


def read_source(path: Path) -> pd.DataFrame:
    """The raw records of a source file, by suffix."""
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    readers = {
        ".csv": lambda: pd.read_csv(path),
        ".tsv": lambda: pd.read_csv(path, sep="\t"),
        ".jsonl": lambda: pd.read_json(path, lines=True),
        ".ndjson": lambda: pd.read_json(path, lines=True),
        ".json": lambda: pd.read_json(path),
        ".parquet": lambda: pd.read_parquet(path),
    }
    if kind not in readers:
        raise ConversionError(f"{path.name}: unsupported file type {kind or '(none)'!r}; expected one of {sorted(readers)}")
    return readers[kind]()


def convert_file(path: Path, fmt: InputFormat = InputFormat()) -> pd.DataFrame:
    """Read a source file and return its validated tidy table."""
    path = Path(path)
    return convert_frame(read_source(path), source=path.name, fmt=fmt)


def convert_frame(raw: pd.DataFrame, source: str, fmt: InputFormat = InputFormat()) -> pd.DataFrame:
    """The tidy table of one source's records (``source`` names the file in ids and errors)."""
    found = find_columns(raw, fmt)
    if layout_of(found, fmt) == "long":
        if "model" not in found:
            raise ConversionError(f"{source}: long layout needs a model column (one of {ALIASES['model']})")
        long = raw.rename(columns={v: k for k, v in found.items()})[list(found)]
        if "score" in found:
            _scores(long["score"], fmt.score_max, f"{source}: column {found['score']!r}")
        if fmt.models:
            long = _kept_models(long, fmt.models, source, found["model"])
    else:
        long = _melt_wide(raw, found, fmt, source)
    for name in REQUIRED:
        if name not in long.columns:
            raise ConversionError(f"{source}: no {name} column (looked for {ALIASES[name]}; got columns {list(raw.columns)})")
    if "category" not in long.columns:
        if fmt.category is None:
            raise ConversionError(f"{source}: no category column (looked for {ALIASES['category']}); set the format's `category`")
        long["category"] = fmt.category
    long["score"] = _scores(long["score"], fmt.score_max, source)
    long["question"] = long["question"].astype(str)
    raw_ids = long["question_id"] if "question_id" in long.columns else long["question"].map(_text_id)
    stem = source.split(".")[0]
    long["question_id"] = [f"{stem}:{q}" for q in raw_ids.astype(str)]
    long["model"] = long["model"].astype(str)
    long["category"] = long["category"].astype(str)
    for optional in ("cost", "response", "reference"):
        if optional not in long.columns:
            long[optional] = None
    long["reference"] = long["reference"].map(lambda v: None if pd.isna(v) else str(v))
    long["source"] = source
    try:
        return validate_outcome_table(long)
    except OutcomeTableError as exc:
        raise ConversionError(f"{source}: {exc}") from None


def layout_of(found: dict[str, str], fmt: InputFormat) -> str:
    """The layout a file is read in: the format's, or long where a model column was found."""
    return fmt.layout if fmt.layout != "auto" else ("long" if "model" in found else "wide")


def _kept_models(long: pd.DataFrame, models: tuple[str, ...], source: str, column: str) -> pd.DataFrame:
    """A long file's rows of the named models; a named model without a row is an error naming it."""
    recorded = set(long["model"].astype(str))
    if missing := [m for m in models if m not in recorded]:
        raise ConversionError(f"{source}: models {missing} have no rows (column {column!r} records {sorted(recorded)})")
    return long[long["model"].astype(str).isin(models)]


def find_columns(raw: pd.DataFrame, fmt: InputFormat) -> dict[str, str]:
    """tidy name -> source column, explicit names first, then the first alias present."""
    columns = list(raw.columns)
    lowered = {str(c).lower(): c for c in columns}
    found: dict[str, str] = {}
    for name, source_col in fmt.columns.items():
        if name not in ALIASES:
            raise ConversionError(f"format names unknown column {name!r}; tidy columns are {sorted(ALIASES)}")
        if source_col not in columns:
            raise ConversionError(f"format maps {name!r} to {source_col!r}, which the file lacks (columns: {columns})")
        found[name] = source_col
    taken = set(found.values())
    for name, aliases in ALIASES.items():
        if name in found:
            continue
        for alias in aliases:
            if alias in lowered and lowered[alias] not in taken:
                found[name] = lowered[alias]
                taken.add(lowered[alias])
                break
    return found


def _melt_wide(raw: pd.DataFrame, found: dict[str, str], fmt: InputFormat, source: str) -> pd.DataFrame:
    meta = {k: v for k, v in found.items() if k in ("question_id", "category", "question", "reference")}
    models = list(fmt.models) or [
        c for c in raw.columns
        if c not in meta.values() and fmt.separator not in str(c) and _looks_like_scores(raw[c])
    ]
    missing = [m for m in models if m not in raw.columns]
    if missing:
        raise ConversionError(f"{source}: wide layout names models {missing} the file lacks")
    if not models:
        raise ConversionError(f"{source}: no model score columns found (wide layout: one numeric or true/false "
                              f"column per model; got columns {list(raw.columns)})")
    for model in models:  # checked per column, so an error names the file's own row and column
        if raw[model].isna().all():
            raise ConversionError(f"{source}: model column {model!r} has no rows (every score is empty)")
        _scores(raw[model], fmt.score_max, f"{source}: column {model!r}")
    parts = []
    for model in models:
        part = raw[list(meta.values())].rename(columns={v: k for k, v in meta.items()})
        part["model"] = str(model)
        part["score"] = raw[model]
        for name in PER_MODEL_FIELDS:
            for alias in ALIASES[name]:
                column = f"{model}{fmt.separator}{alias}"
                if column in raw.columns:
                    part[name] = raw[column]
                    break
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _looks_like_scores(column: pd.Series) -> bool:
    """A wide file's score column: numbers or flags, or mostly so (a column with one bad value is still a
    model's, and its bad row is then an error, instead of the model silently dropping out)."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return True
    values = column.dropna()
    return len(values) > 0 and sum(_is_score(v) for v in values) > 0.5 * len(values)


def _is_score(value: object) -> bool:
    try:
        grade_recorded(value)
    except GraderError:
        return False
    return True


def _scores(values: pd.Series, score_max: float, where: str) -> pd.Series:
    if score_max <= 0:
        raise ConversionError(f"score_max must be positive, got {score_max}")
    out = []
    for index, value in values.items():
        if score_max != 1.0 and not isinstance(value, (bool, str)):
            value = float(value) / score_max
        try:
            out.append(grade_recorded(value))
        except GraderError as exc:
            raise ConversionError(f"{where}: row {index}: {exc}") from None
    return pd.Series(out, index=values.index, dtype=float)


def _text_id(text: str) -> str:
    return hashlib.sha256(str(text).encode()).hexdigest()[:16]
