"""The tidy outcome table's schema rejects what would corrupt a routing result, naming the row."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fugu.data.table import (
    COLUMNS,
    OutcomeTableError,
    read_outcome_table,
    validate_outcome_table,
    write_outcome_table,
)
from tests.outcome_fixtures import tidy_table


def test_a_well_formed_table_passes_with_its_columns_in_order():
    table = validate_outcome_table(tidy_table(6))
    assert tuple(table.columns) == COLUMNS and len(table) == 18


@pytest.mark.parametrize("column", ["question_id", "category", "question", "model", "score", "cost", "source"])
def test_a_missing_column_is_rejected_by_name(column):
    with pytest.raises(OutcomeTableError, match=f"missing column '{column}'"):
        validate_outcome_table(tidy_table(4).drop(columns=column))


def test_an_unexpected_column_is_rejected_by_name():
    table = tidy_table(4).assign(extra=1)
    with pytest.raises(OutcomeTableError, match="unexpected column 'extra'"):
        validate_outcome_table(table)


def test_a_duplicate_question_model_row_is_rejected_naming_the_rows():
    table = tidy_table(4)
    table = pd.concat([table, table.iloc[[5]]], ignore_index=True)  # row 5 again, as row 12
    duplicate = table.iloc[5]
    with pytest.raises(OutcomeTableError) as err:
        validate_outcome_table(table)
    message = str(err.value)
    assert "duplicate (question_id, model)" in message
    assert f"row 12 (question_id={duplicate.question_id!r}, model={duplicate.model!r})" in message


@given(st.one_of(st.floats(min_value=1.0001, max_value=1e6), st.floats(max_value=-1e-6, min_value=-1e6)))
@settings(max_examples=25, deadline=None)
def test_a_score_outside_zero_one_is_rejected_naming_the_row(bad):
    table = tidy_table(4)
    table.loc[7, "score"] = bad
    row = table.iloc[7]
    with pytest.raises(OutcomeTableError, match=rf"row 7 \(question_id={row.question_id!r}, model={row.model!r}\): column 'score'"):
        validate_outcome_table(table)


def test_a_negative_cost_is_rejected_naming_the_row():
    table = tidy_table(4)
    table.loc[2, "cost"] = -1.0
    with pytest.raises(OutcomeTableError, match=r"row 2 .*column 'cost'"):
        validate_outcome_table(table)


def test_a_missing_score_is_rejected_naming_the_row():
    table = tidy_table(4)
    table.loc[3, "score"] = None
    with pytest.raises(OutcomeTableError, match=r"row 3 .*column 'score' is empty"):
        validate_outcome_table(table)


def test_a_question_with_two_categories_is_rejected():
    table = tidy_table(4)
    table.loc[0, "category"] = "other"
    with pytest.raises(OutcomeTableError, match="more than one category"):
        validate_outcome_table(table)


def test_a_question_with_two_texts_is_rejected():
    table = tidy_table(4)
    table.loc[0, "question"] = "a different text"
    with pytest.raises(OutcomeTableError, match="more than one question"):
        validate_outcome_table(table)


def test_missing_cost_and_response_are_allowed():
    table = tidy_table(4)
    table["cost"] = None
    table["response"] = None
    table["reference"] = None
    assert validate_outcome_table(table)["cost"].isna().all()


def test_a_table_round_trips_through_parquet_unchanged(tmp_path):
    table = validate_outcome_table(tidy_table(5))
    back = read_outcome_table(write_outcome_table(table, tmp_path / "t.parquet"))
    pd.testing.assert_frame_equal(back, table)


def test_a_table_corrupted_on_disk_is_caught_when_read(tmp_path):
    table = validate_outcome_table(tidy_table(3))
    table.loc[0, "score"] = 3.0
    table.to_parquet(tmp_path / "t.parquet", index=False)
    with pytest.raises(OutcomeTableError, match="row 0"):
        read_outcome_table(tmp_path / "t.parquet")
