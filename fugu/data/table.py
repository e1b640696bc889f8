"""The tidy table of recorded outcomes: one row per (question, model), validated by a schema.

Every source format is converted once into this one shape, so the replay pool, the splits,
the data card and eval read a single, checked table. The schema is strict about what would
silently corrupt a routing result: a missing column, a (question, model) pair recorded
twice, a score outside [0, 1], or one question carrying two texts or two categories.

Columns
    question_id  str    stable id, namespaced by source file (``<file stem>:<raw id>``)
    category     str    benchmark or category the question belongs to (splits stratify on it)
    question     str    the prompt text a router reads
    model        str    the worker that answered
    score        float  recorded outcome in [0, 1] (1 = correct for right/wrong benchmarks)
    cost         float  recorded cost of that answer; NaN where the source records none
    response     str    the recorded response text; null where the source records none
    reference    str    the gold answer where recorded (lets a grader re-check a response)
    source       str    the data file the row came from
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

COLUMNS = ("question_id", "category", "question", "model", "score", "cost", "response", "reference", "source")
KEY = ["question_id", "model"]
TABLE_FILE = "outcomes.parquet"


class OutcomeTableError(ValueError):
    """A table that breaks the schema; the message names each offending row and column."""


def _one_value_per_question(column: str) -> pa.Check:
    # A question must read the same to every model, or its outcomes are not comparable.
    return pa.Check(
        lambda df: df.groupby("question_id")[column].transform("nunique") <= 1,
        name=f"one_{column}_per_question",
        error=f"a question_id has more than one {column}",
    )


_non_empty = pa.Check.str_length(min_value=1)

SCHEMA = pa.DataFrameSchema(
    {
        "question_id": pa.Column(str, _non_empty),
        "category": pa.Column(str, _non_empty),
        "question": pa.Column(str),
        "model": pa.Column(str, _non_empty),
        "score": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
        "cost": pa.Column(float, pa.Check.ge(0.0), nullable=True),
        "response": pa.Column(str, nullable=True),
        "reference": pa.Column(str, nullable=True),
        "source": pa.Column(str, _non_empty),
    },
    checks=[_one_value_per_question("category"), _one_value_per_question("question")],
    unique=KEY,
    strict=True,
    ordered=False,
    coerce=True,
    name="recorded outcomes",
)


def validate_outcome_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table, coerced to the schema's types, or :class:`OutcomeTableError` naming every problem."""
    try:
        valid = SCHEMA.validate(table, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise OutcomeTableError(_describe(exc.failure_cases, table)) from None
    return valid[list(COLUMNS)].reset_index(drop=True)


def write_outcome_table(table: pd.DataFrame, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    validate_outcome_table(table).to_parquet(path, index=False)
    return path


def read_outcome_table(path: Path) -> pd.DataFrame:
    """Read and re-validate: a table edited or corrupted on disk is caught where it is loaded."""
    return validate_outcome_table(pd.read_parquet(path))


def _describe(failures: pd.DataFrame, table: pd.DataFrame) -> str:
    lines = []
    for case in failures.itertuples(index=False):
        if case.check == "column_in_dataframe":
            lines.append(f"missing column {case.failure_case!r} (expected columns: {', '.join(COLUMNS)})")
            continue
        if case.check == "column_in_schema":
            lines.append(f"unexpected column {case.failure_case!r} (expected columns: {', '.join(COLUMNS)})")
            continue
        row = _row_name(table, case.index)
        if case.check == "multiple_fields_uniqueness":
            line = f"{row}: duplicate (question_id, model) pair"
        elif case.schema_context == "DataFrameSchema":
            line = f"{row}: {case.check}"
        elif case.check == "not_nullable":
            line = f"{row}: column {case.column!r} is empty"
        else:
            value = "" if case.column is None else f" got {case.failure_case!r}"
            line = f"{row}: column {case.column!r} fails {case.check}:{value}"
        if line not in lines:
            lines.append(line)
    shown = lines[:20] + ([f"... and {len(lines) - 20} more"] if len(lines) > 20 else [])
    return "outcome table rejected:\n  " + "\n  ".join(shown)


def _row_name(table: pd.DataFrame, index) -> str:
    if index is None or (isinstance(index, float) and np.isnan(index)) or index not in table.index:
        return "table"
    record = table.loc[index]
    ids = ", ".join(f"{k}={record[k]!r}" for k in KEY if k in table.columns)
    return f"row {index} ({ids})" if ids else f"row {index}"
