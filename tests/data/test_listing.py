"""The data folder's README table lists files; copies are checked against its sha256."""

from __future__ import annotations

import pytest

from fugu.data.listing import ChecksumError, ListingError, copy_verified, read_listing
from tests.outcome_fixtures import long_records, write_data_folder


def test_the_readme_table_lists_each_file_with_source_license_counts_and_sha256(tmp_path):
    folder = write_data_folder(tmp_path / "data", {"a.csv": long_records(4), "b.jsonl": long_records(5, seed=1)})
    listed = read_listing(folder / "README.md")
    assert [f.file for f in listed] == ["a.csv", "b.jsonl"]
    assert listed[0].license == "CC-BY-4.0" and listed[0].questions == 4 and listed[0].models == 3
    assert listed[1].source == "https://example.org/b.jsonl" and len(listed[1].sha256) == 64


def test_an_empty_table_lists_nothing(tmp_path):
    folder = write_data_folder(tmp_path / "data", {})
    assert read_listing(folder / "README.md") == []


def test_the_shared_readme_as_first_published_parses_to_no_files(tmp_path):
    (tmp_path / "README.md").write_text(
        "# Recorded real outcomes for offline routing evaluation\n\nBeing assembled.\n\n"
        "| file | source | license | questions | models | sha256 |\n|---|---|---|---|---|---|\n")
    assert read_listing(tmp_path / "README.md") == []


def test_a_readme_without_the_table_is_an_error(tmp_path):
    (tmp_path / "README.md").write_text("# nothing here\n")
    with pytest.raises(ListingError, match="no table with header"):
        read_listing(tmp_path / "README.md")


@pytest.mark.parametrize("row, message", [
    ("| ../evil.csv | s | l | 1 | 1 | " + "a" * 64 + " |", "plain file name"),
    ("| a.csv | s | l | 1 | 1 | abc |", "64 hex digits"),
    ("| a.csv | s | l | 1 |", "expected 6 cells"),
])
def test_a_bad_row_is_an_error_naming_the_line(tmp_path, row, message):
    (tmp_path / "README.md").write_text(f"| file | source | license | questions | models | sha256 |\n|---|---|---|---|---|---|\n{row}\n")
    with pytest.raises(ListingError, match=rf"README.md:3: .*{message}"):
        read_listing(tmp_path / "README.md")


def test_a_copy_with_the_wrong_checksum_is_rejected_naming_file_expected_and_got(tmp_path):
    folder = write_data_folder(tmp_path / "data", {"a.csv": long_records(3)}, corrupt="a.csv")
    (listed,) = read_listing(folder / "README.md")
    with pytest.raises(ChecksumError, match=r"a\.csv: sha256 mismatch: expected 0{64}, got [0-9a-f]{64}"):
        copy_verified(listed, folder, tmp_path / "out")
    assert not (tmp_path / "out/a.csv").exists()


def test_a_listed_file_that_is_absent_is_an_error_naming_it(tmp_path):
    folder = write_data_folder(tmp_path / "data", {"a.csv": long_records(3)})
    (folder / "a.csv").unlink()
    (listed,) = read_listing(folder / "README.md")
    with pytest.raises(FileNotFoundError, match="a.csv: listed in the README but not found"):
        copy_verified(listed, folder, tmp_path / "out")
