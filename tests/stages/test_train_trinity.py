"""train_trinity trains on recorded real outcomes only: no silent fallback to the mock, ever."""

import pytest

from fugu.data.build import prepare_outcomes
from stages import train_trinity
from tests.outcome_fixtures import long_records, write_data_folder


@pytest.fixture
def no_recorded_outcomes(tmp_path, monkeypatch):
    """A routing folder with no recorded outcomes in its train split (every question held out)."""
    out = tmp_path / "routing"
    data = write_data_folder(tmp_path / "data", {"bench.csv": long_records(10)})
    prepare_outcomes(data, out, {"train": 0.0, "validation": 0.5, "test": 0.5}, 0)
    monkeypatch.setattr(train_trinity, "ROUTING_DIR", out)


def test_without_recorded_outcomes_training_stops_instead_of_using_the_mock(no_recorded_outcomes):
    with pytest.raises(SystemExit, match="holds no recorded outcomes in the train split"):
        train_trinity.real_split("train")


def test_the_svf_ablation_is_recorded_not_run_with_where_its_measured_cost_is():
    reason = train_trinity.svf_not_run(6)
    assert "not run" in reason and "per candidate" in reason and "timings" in reason
    assert "all 6 training questions" in reason
