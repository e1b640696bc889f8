"""Source files in long or wide layout, under common column names, become the tidy table."""

from __future__ import annotations

import pandas as pd
import pytest

from fugu.data.convert import ConversionError, InputFormat, convert_file, convert_frame
from tests.outcome_fixtures import MODELS, long_records


def wide_records(long: pd.DataFrame) -> pd.DataFrame:
    """RouterBench-style: one row per question, a score column per model, `<model>|field` extras."""
    base = long.drop_duplicates("question_id")[["question_id", "category", "question", "answer"]]
    wide = base.rename(columns={"question_id": "sample_id", "category": "eval_name", "question": "prompt"}).set_index("sample_id")
    for model in MODELS:
        rows = long[long["model"] == model].set_index("question_id")
        wide[model] = rows["correct"].astype(float)
        wide[f"{model}|model_response"] = rows["response"]
        wide[f"{model}|total_cost"] = rows["cost"]
    return wide.reset_index()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".csv.gz"])
def test_a_long_file_converts_from_every_container(tmp_path, suffix):
    raw = long_records(6)
    path = tmp_path / f"bench{suffix}"
    if ".csv" in suffix:
        raw.to_csv(path, index=False)
    elif suffix == ".jsonl":
        raw.to_json(path, orient="records", lines=True)
    else:
        raw.to_parquet(path, index=False)
    table = convert_file(path)
    assert len(table) == len(raw)
    assert set(table["question_id"]) == {f"bench:q{i}" for i in range(6)}
    assert table["score"].tolist() == raw["correct"].astype(float).tolist()
    assert table["response"].tolist() == raw["response"].tolist()
    assert table["reference"].tolist() == raw["answer"].tolist()
    assert (table["source"] == f"bench{suffix}").all()


def test_a_wide_file_melts_to_the_same_table_as_its_long_form():
    long = long_records(8)
    from_long = convert_frame(long, "bench.csv").sort_values(["question_id", "model"]).reset_index(drop=True)
    from_wide = convert_frame(wide_records(long), "bench.csv").sort_values(["question_id", "model"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(from_wide, from_long)


def test_explicit_columns_override_the_aliases():
    raw = long_records(3).rename(columns={"question": "the_text", "correct": "ok"})
    fmt = InputFormat(columns={"question": "the_text", "score": "ok"})
    assert len(convert_frame(raw, "x.csv", fmt)) == 9


def test_a_file_without_category_needs_one_from_the_format():
    raw = long_records(3).drop(columns="category")
    with pytest.raises(ConversionError, match="no category column"):
        convert_frame(raw, "x.csv")
    assert set(convert_frame(raw, "x.csv", InputFormat(category="gsm8k"))["category"]) == {"gsm8k"}


def test_a_file_without_ids_gets_stable_ids_from_the_question_text():
    raw = long_records(3).drop(columns="question_id")
    first, second = convert_frame(raw, "x.csv"), convert_frame(raw.iloc[::-1], "x.csv")
    assert first["question_id"].nunique() == 3
    assert set(first["question_id"]) == set(second["question_id"])


def test_ratings_are_scaled_by_score_max():
    raw = long_records(2).assign(correct=[10, 5, 0, 7, 3, 1])
    table = convert_frame(raw, "x.csv", InputFormat(score_max=10))
    assert table["score"].tolist() == [1.0, 0.5, 0.0, 0.7, 0.3, 0.1]


def test_an_unreadable_score_is_an_error_naming_file_and_row():
    raw = long_records(2)
    raw["correct"] = raw["correct"].astype(object)
    raw.loc[4, "correct"] = "maybe"
    with pytest.raises(ConversionError, match=r"x\.csv: column 'correct': row 4: .*'maybe'"):
        convert_frame(raw, "x.csv")


def test_a_file_without_question_text_is_an_error_naming_what_was_looked_for():
    with pytest.raises(ConversionError, match="no question column"):
        convert_frame(long_records(2).drop(columns="question"), "x.csv")


def test_pickles_and_unknown_types_are_refused(tmp_path):
    path = tmp_path / "data.pkl"
    path.write_bytes(b"not read")
    with pytest.raises(ConversionError, match="unsupported file type '.pkl'"):
        convert_file(path)


def test_unknown_format_keys_are_rejected():
    with pytest.raises(ConversionError, match="unknown input-format keys"):
        InputFormat.from_dict({"layuot": "wide"})
