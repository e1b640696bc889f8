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


def test_the_svf_ablation_is_measured_and_recorded_not_run_with_its_cost(tiny_backbone_dir):
    from fugu.models.backbone import load_backbone
    from fugu.training.cmaes import CMAESConfig
    from fugu.trinity.coordinator import Trinity

    trinity = Trinity.build(load_backbone(tiny_backbone_dir), ["a", "b"], ["solver", "thinker", "verifier"], [0])
    conversations = [[{"role": "user", "content": f"question number {i} about math"}] for i in range(6)]
    section = {"trainable": "head", "svf_ablation": {"sample_questions": 2, "sigma": 0.05, "seed": 0}}
    shape, measured, reason = train_trinity.svf_ablation_cost(trinity, conversations, section, CMAESConfig(8, 10, 0.5, 0))
    assert shape["run"] is False and shape["training_questions"] == 6
    assert measured["per_candidate_s"] > 0
    assert measured["per_generation_s"] == pytest.approx(8 * measured["per_candidate_s"], abs=0.1)
    assert "not run" in reason and "per candidate" in reason and "timings" in reason
