"""From a data folder to the checked table, splits and card — what the fetch stage calls."""

from __future__ import annotations

import json

import pytest

from fugu.data.build import CARD_FILE, MANIFEST_FILE, prepare_outcomes
from fugu.data.convert import ConversionError
from fugu.data.listing import ChecksumError, ListingError
from fugu.data.matrix import best_single_index, load_split
from fugu.data.pricing import PricingError
from fugu.data.splits import SPLITS, read_splits
from fugu.data.table import read_outcome_table
from fugu.pools.base import answer_sync
from fugu.pools.replay import ReplayPool
from tests.outcome_fixtures import long_records, write_data_folder

FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}


def prepare(data, out, **kwargs):
    return prepare_outcomes(data, out, FRACTIONS, seed=0, **kwargs)


def test_listed_files_become_one_table_with_splits_card_and_manifest(tmp_path):
    data = write_data_folder(tmp_path / "data", {"bench.csv": long_records(40), "more.jsonl": long_records(20, seed=1)})
    prepared = prepare(data, tmp_path / "out")
    table = read_outcome_table(tmp_path / "out/outcomes.parquet")
    assert len(table) == 60 * 3 and prepared.metrics["questions"] == 60 and prepared.metrics["files"] == 2
    assert (tmp_path / "out/sources/bench.csv").read_bytes() == (data / "bench.csv").read_bytes()
    splits = read_splits(tmp_path / "out/splits.csv")
    assert set(splits["question_id"]) == set(table["question_id"])
    manifest = json.loads((tmp_path / f"out/{MANIFEST_FILE}").read_text())
    assert manifest["sha256_verified"] and [f["file"] for f in manifest["listed"]] == ["bench.csv", "more.jsonl"]
    card = (tmp_path / f"out/{CARD_FILE}").read_text()
    assert "bench.csv" in card and "CC-BY-4.0" in card and "oracle" in card


def test_one_call_gives_a_split_as_texts_categories_and_matrices(tmp_path):
    data = write_data_folder(tmp_path / "data", {"bench.csv": long_records(50)})
    prepared = prepare(data, tmp_path / "out")
    parts = {split: load_split(tmp_path / "out", split) for split in SPLITS}
    assert sum(len(p) for p in parts.values()) == 50
    test = parts["test"]
    assert test.scores.shape == (len(test), 3) == test.costs.shape
    assert len(test.questions) == len(test.categories) == len(test)
    assert prepared.metrics["splits"]["test"]["oracle_accuracy"] == pytest.approx(test.oracle_accuracy())
    assert not set(test.question_ids) & (set(parts["train"].question_ids) | set(parts["validation"].question_ids))


def test_best_single_is_chosen_on_train_and_scored_on_every_split(tmp_path):
    data = write_data_folder(tmp_path / "data", {"bench.csv": long_records(60)})
    metrics = prepare(data, tmp_path / "out").metrics
    train = load_split(tmp_path / "out", "train")
    best = train.workers[best_single_index(train)]
    assert metrics["best_single_worker"] == best
    for split in SPLITS:
        expected = load_split(tmp_path / "out", split).worker_accuracy()[best]
        assert metrics["splits"][split]["best_single_accuracy"] == pytest.approx(expected)
        assert metrics["splits"][split]["oracle_accuracy"] >= metrics["splits"][split]["best_single_accuracy"]


def test_the_replay_pool_over_the_built_table_answers_every_pair(tmp_path):
    raw = long_records(15)
    data = write_data_folder(tmp_path / "data", {"bench.csv": raw})
    prepare(data, tmp_path / "out")
    pool = ReplayPool.from_dir(tmp_path / "out")
    for row in raw.itertuples():
        reply = answer_sync(pool, row.model, [{"role": "user", "content": row.question}])
        assert (reply.text, reply.score, reply.cost) == (row.response, float(row.correct), row.cost)


def test_a_listing_that_names_no_file_is_an_error_naming_the_folder(tmp_path):
    data = write_data_folder(tmp_path / "data", {})
    with pytest.raises(ListingError, match="data/routing/README.md lists no recorded-outcomes file"):
        prepare(data, tmp_path / "out", data_dir_label="data/routing")


def test_a_folder_without_its_readme_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no README.md"):
        prepare(tmp_path / "nowhere", tmp_path / "out")


def test_a_checksum_mismatch_stops_with_file_expected_and_got(tmp_path):
    data = write_data_folder(tmp_path / "data", {"bench.csv": long_records(5)}, corrupt="bench.csv")
    with pytest.raises(ChecksumError, match="bench.csv: sha256 mismatch: expected 0{64}, got"):
        prepare(data, tmp_path / "out")


def test_counts_that_disagree_with_the_readme_stop_the_build(tmp_path):
    data = write_data_folder(tmp_path / "data", {"bench.csv": long_records(5)})
    readme = data / "README.md"
    readme.write_text(readme.read_text().replace("| 5 | 3 |", "| 5 | 4 |"))
    with pytest.raises(ConversionError, match="README lists 4 models, the converted file has 3"):
        prepare(data, tmp_path / "out")


def test_only_models_every_file_records_and_questions_all_of_them_answered_are_kept(tmp_path):
    two_models = long_records(10, models=("model-a", "model-b"))
    three_models = long_records(10, seed=2).drop(index=[0])  # question q0 lacks model-a here
    data = write_data_folder(tmp_path / "data", {"x.csv": two_models, "y.csv": three_models}, counts=False)
    metrics = prepare(data, tmp_path / "out").metrics
    assert metrics["models"] == ["model-a", "model-b"]
    assert metrics["questions_dropped_incomplete"] == 1 and metrics["questions"] == 19
    assert metrics["rows_dropped_other_models"] == 10  # model-c, only in y.csv


def test_per_file_formats_are_applied(tmp_path):
    raw = long_records(6).drop(columns="category").rename(columns={"question": "the_text"})
    data = write_data_folder(tmp_path / "data", {"gsm.csv": raw})
    metrics = prepare(data, tmp_path / "out", formats={"gsm.csv": {"category": "gsm8k", "columns": {"question": "the_text"}}}).metrics
    assert metrics["categories"] == {"gsm8k": 6}


def test_a_pool_model_the_data_lacks_stops_fetch_naming_model_and_file(tmp_path):
    data = write_data_folder(tmp_path / "data", {"bench.csv": long_records(12)})
    with pytest.raises(ConversionError, match=r"pool models \['model-z'\] are not recorded .*bench.csv"):
        prepare(data, tmp_path / "out", models=["model-a", "model-z"])


def test_a_pool_model_without_a_price_stops_fetch_naming_it(tmp_path):
    data = write_data_folder(tmp_path / "data", {"bench.csv": long_records(12)})
    with pytest.raises(PricingError, match="pool model 'model-b' has no price"):
        prepare(data, tmp_path / "out", prices={"model-a": {"list_price": [1, 1], "source": "t"}})


def test_prices_give_every_kept_row_an_estimated_cost_and_the_subset_is_recorded(tmp_path):
    data = write_data_folder(tmp_path / "data", {"bench.csv": long_records(60)})
    prices = {m: {"list_price": [1.0, 2.0], "source": "test"} for m in ("model-a", "model-b", "model-c")}
    metrics = prepare(data, tmp_path / "out", prices=prices, pool_name="abc",
                      subset={"train": 12, "validation": 6, "test": 6}).metrics
    assert metrics["pool"]["name"] == "abc" and metrics["questions"] == 24
    assert metrics["estimated_cost"]["estimated"] is True
    test = load_split(tmp_path / "out", "test")
    assert len(test) == 6 and (test.costs > 0).all()
