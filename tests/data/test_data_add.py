"""``fugu data add``: a user's file converted as fetch will, then added whole (README row, format entry,
prices), or, when it does not convert, an error naming the file, row or column and nothing written."""

from __future__ import annotations

import hashlib
import pathlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fugu.cli import main
from fugu.data.build import prepare_outcomes
from fugu.data.convert import InputFormat, convert_file
from fugu.data.listing import read_listing
from fugu.data.pool import PoolError, resolve_pool
from fugu.data.pricing import cost_summary, estimate_costs, resolve_prices
from stages.paths import PARAMS_FILE, PROVENANCE_FILE, ROUTING_DATA_DIR
from tests.outcome_fixtures import long_records, tidy_table, write_data_folder
from tests.own_pool_fixtures import PRICED, UNPRICED, long_with_references, routellm_wide, write


@pytest.fixture
def project(tmp_path) -> Path:
    """The three files the command edits, as the project holds them (the data files themselves are not needed)."""
    root = tmp_path / "project"
    (root / "data/routing").mkdir(parents=True)
    (root / "configs").mkdir()
    shutil.copy(ROUTING_DATA_DIR / "README.md", root / "data/routing/README.md")
    shutil.copy(PARAMS_FILE, root / "params.yaml")
    shutil.copy(PROVENANCE_FILE, root / "configs/provenance.yaml")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def add(project: Path, file: Path, *args: str) -> int:
    return main(["data", "add", str(file), "--project", str(project), *args])


def test_a_routellm_wide_file_gets_a_measured_row_its_format_entry_and_prices(project, tmp_path, capsys):
    file = write(routellm_wide(n_questions=30), tmp_path / "pairs.csv")
    assert add(project, file, "--separator", "_", "--license", "CC0-1.0", "--source", "a test") == 0
    out = capsys.readouterr().out
    assert "wide layout, 30 questions × 2 models" in out and "fetch.routing.pool=pairs.csv" in out
    row = next(r for r in read_listing(project / "data/routing/README.md") if r.file == "pairs.csv")
    assert (row.sha256, row.questions, row.models) == (hashlib.sha256(file.read_bytes()).hexdigest(), 30, 2)
    assert (project / "data/routing/pairs.csv").read_bytes() == file.read_bytes()
    entry = yaml.safe_load((project / "params.yaml").read_text())["fetch"]["routing"]["formats"]["pairs.csv"]
    assert entry == {"layout": "wide", "separator": "_", "models": sorted([PRICED, UNPRICED]), "category": "pairs"}
    table = convert_file(project / "data/routing/pairs.csv", InputFormat.from_dict(entry))  # what fetch will read
    assert table["question_id"].nunique() == 30 and table["response"].notna().all()
    prices = yaml.safe_load((project / "configs/provenance.yaml").read_text())["routing"]["prices"]
    assert prices[PRICED] == {"litellm_key": PRICED} and "cost_unknown" in prices[UNPRICED]


def test_a_price_given_on_the_command_line_prices_the_models_litellm_lacks(project, tmp_path):
    file = write(long_with_references(n_questions=6), tmp_path / "graded.jsonl")
    assert add(project, file, "--price", "0.5,1.5") == 0
    prices = yaml.safe_load((project / "configs/provenance.yaml").read_text())["routing"]["prices"]
    assert prices["model-a"]["list_price"] == [0.5, 1.5] and "--price" in prices["model-a"]["source"]


def test_the_long_file_keeps_its_categories_and_references(project, tmp_path, capsys):
    file = write(long_with_references(n_questions=9), tmp_path / "graded.jsonl")
    assert add(project, file, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "differences (3), products (3), sums (3)" in out and "reference answers: 9 of 9" in out
    assert not (project / "data/routing/graded.jsonl").exists()  # a dry run writes nothing


def _no_model_columns():
    return pd.DataFrame({"prompt": ["a", "b"], "notes": ["a note", "y"]}), (), "no model score columns"


def _bad_score():
    frame = routellm_wide(n_questions=5).astype({PRICED: object})
    frame.loc[3, PRICED] = "maybe"
    return frame, ("--separator", "_"), f"column '{PRICED}': row 3"


def _score_out_of_range():
    frame = long_records(4)
    frame["correct"] = frame["correct"].astype(int)
    frame.loc[5, "correct"] = 7
    return frame, (), "column 'correct': row 5"


def _duplicate_ids_with_different_scores():
    frame = long_records(4)
    twin = frame.iloc[[0]].assign(correct=not frame.iloc[0]["correct"])
    return pd.concat([frame, twin], ignore_index=True), (), "row 12 (question_id='bad:q0', model='model-a'): duplicate"


def _a_model_without_rows():
    return long_records(4), ("--models", "model-a", "model-z"), "models ['model-z'] have no rows"


def _an_empty_model_column():
    frame = routellm_wide(n_questions=5)
    frame[UNPRICED] = None
    return frame, ("--separator", "_", "--models", PRICED, UNPRICED), f"model column '{UNPRICED}' has no rows"


@pytest.mark.parametrize("case", [_no_model_columns, _bad_score, _score_out_of_range,
                                  _duplicate_ids_with_different_scores, _a_model_without_rows, _an_empty_model_column],
                         ids=lambda case: case.__name__.strip("_"))
def test_a_bad_file_is_an_error_naming_file_and_place_and_nothing_is_written(project, tmp_path, capsys, case):
    frame, args, expected = case()
    file = write(frame, tmp_path / "bad.csv")
    before = snapshot(project)
    assert add(project, file, *args) == 1
    err = capsys.readouterr().err
    assert "bad.csv" in err and expected in err, err
    assert snapshot(project) == before


def test_a_file_name_already_listed_is_refused_and_nothing_is_written(project, tmp_path, capsys):
    file = write(long_records(4), tmp_path / "zeroeval.csv")
    shutil.copy(file, tmp_path / "zeroeval.parquet")
    pd.read_csv(file).to_parquet(tmp_path / "zeroeval.parquet")
    before = snapshot(project)
    assert add(project, tmp_path / "zeroeval.parquet") == 1
    assert "already holds a file of that name" in capsys.readouterr().err and snapshot(project) == before


def test_a_failure_while_writing_restores_every_file(project, tmp_path, monkeypatch):
    file = write(routellm_wide(n_questions=6), tmp_path / "pairs.csv")
    before = snapshot(project)
    real_write = pathlib.Path.write_text

    def failing(self, text, *args, **kwargs):
        if self.name == "provenance.yaml" and text != before["configs/provenance.yaml"].decode():
            raise OSError("disk full")
        return real_write(self, text, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", failing)
    assert add(project, file, "--separator", "_") == 1
    assert snapshot(project) == before


def test_fugu_data_add_has_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["data", "add", "--help"])
    assert exit_.value.code == 0 and "--layout" in capsys.readouterr().out


def test_a_pool_is_a_named_pool_a_list_of_models_or_a_listed_file():
    pools = {"two": ["a", "b"]}
    assert resolve_pool("two", pools, ["f.csv"]).models == ("a", "b")
    assert resolve_pool(["b", "c"], pools, ["f.csv"]).models == ("b", "c")
    assert resolve_pool("f.csv", pools, ["f.csv"]).file == "f.csv"
    with pytest.raises(PoolError, match="not a pool of fetch.routing.pools"):
        resolve_pool("g.csv", pools, ["f.csv"])
    with pytest.raises(PoolError, match="at least two distinct"):
        resolve_pool(["a", "a"], pools, [])


def test_a_pool_named_by_its_file_routes_over_that_files_models_and_questions_only(tmp_path):
    data = write_data_folder(tmp_path / "data", {"big.csv": long_records(40),
                                                 "mine.csv": long_records(10, models=("model-a", "mine-b"))})
    prepared = prepare_outcomes(data, tmp_path / "out", {"train": 0.6, "validation": 0.2, "test": 0.2}, 0,
                                pool_file="mine.csv", subset={"train": 100, "validation": 100, "test": 100})
    assert prepared.metrics["pool"]["models"] == ["mine-b", "model-a"] and prepared.metrics["questions"] == 10
    assert prepared.metrics["subset"]["kept_whole"] == ["train", "validation", "test"]


def test_a_model_whose_cost_is_unknown_has_no_cost_never_zero():
    table = tidy_table(n_questions=4)
    prices = resolve_prices(["model-a", "model-b", "model-c"], {
        "model-a": {"cost_unknown": "nobody priced it"}, "model-b": {"list_price": [1, 2], "source": "s"},
        "model-c": {"list_price": [1, 2], "source": "s"}})
    priced = estimate_costs(table, prices, "gpt-4o")
    assert priced.loc[priced["model"] == "model-a", "cost"].isna().all()
    assert (priced.loc[priced["model"] == "model-b", "cost"] > 0).all()
    summary = cost_summary(priced, prices, "gpt-4o")
    assert summary["per_model"]["model-a"]["estimated_usd_per_1k_questions"] == "unknown"
    assert summary["cost_unknown"] == ["model-a"]


def test_an_added_long_file_is_a_pool_fetch_builds_with_its_categories_and_references(project, tmp_path):
    readme = project / "data/routing/README.md"  # only the added file listed: fetch's build reads every listed one
    readme.write_text("| file | source | license | questions | models | sha256 |\n|---|---|---|---|---|---|\n")
    assert add(project, write(long_with_references(n_questions=30), tmp_path / "graded.jsonl")) == 0
    params = yaml.safe_load((project / "params.yaml").read_text())["fetch"]["routing"]
    prices = yaml.safe_load((project / "configs/provenance.yaml").read_text())["routing"]["prices"]
    pool = resolve_pool("graded.jsonl", params["pools"], [r.file for r in read_listing(readme)])
    prepared = prepare_outcomes(project / "data/routing", tmp_path / "out", params["fractions"], 0,
                                formats=params["formats"], pool_file=pool.file, pool_name=pool.name,
                                subset={"train": 160, "validation": 60, "test": 120}, prices=prices)
    assert prepared.metrics["pool"] == {"name": "graded.jsonl", "models": ["model-a", "model-b", "model-c"]}
    assert set(prepared.metrics["categories"]) == {"differences", "products", "sums"}
    assert prepared.metrics["estimated_cost"]["cost_unknown"] == ["model-a", "model-b", "model-c"]
