"""train_trinity trains on recorded real outcomes only: no silent fallback to the mock, ever."""

import pytest

from fugu.data.build import prepare_outcomes
from stages import train_trinity


@pytest.fixture
def no_recorded_outcomes(tmp_path, monkeypatch):
    """A routing folder with no recorded outcomes (a data folder whose README lists no file)."""
    out = tmp_path / "routing"
    prepare_outcomes(tmp_path / "no-data", out, {"train": 0.6, "validation": 0.2, "test": 0.2}, 0,
                     data_dir_label="no-data", missing_ok=True)
    monkeypatch.setattr(train_trinity, "ROUTING_DIR", out)


def test_without_recorded_outcomes_training_stops_instead_of_using_the_mock(no_recorded_outcomes):
    with pytest.raises(SystemExit, match="holds no recorded outcomes in the train split"):
        train_trinity.real_split("train")


def test_the_svf_ablation_is_recorded_not_run_with_where_its_measured_cost_is():
    reason = train_trinity.svf_not_run(6)
    assert "not run" in reason and "per candidate" in reason and "timings" in reason
    assert "all 6 training questions" in reason
