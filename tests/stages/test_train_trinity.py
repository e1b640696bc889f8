"""train_trinity picks its data honestly: real outcomes when fetched; the mock only in the tiny profile."""

import pytest

from fugu.data.build import prepare_outcomes
from fugu.pools.simulated import SimulatedPool
from stages import train_trinity


@pytest.fixture
def no_recorded_outcomes(tmp_path, monkeypatch):
    """The routing folder exactly as fetch leaves it when the shared data lists no files."""
    out = tmp_path / "routing"
    prepare_outcomes(tmp_path / "no-data", out, {"train": 0.6, "validation": 0.2, "test": 0.2}, 0,
                     data_dir_label="no-data", missing_ok=True)
    monkeypatch.setattr(train_trinity, "ROUTING_DIR", out)


def test_the_tiny_profile_trains_on_the_simulated_pool_and_says_it_is_a_mock(no_recorded_outcomes):
    simulated = SimulatedPool.generate(8, 2, 2, seed=0).outcomes()
    train, data, mock = train_trinity.training_outcomes("tiny", simulated)
    assert train is simulated and mock and "mock" in data


def test_the_full_profile_never_falls_back_to_the_mock(no_recorded_outcomes):
    with pytest.raises(SystemExit, match="full profile needs them"):
        train_trinity.training_outcomes("full", SimulatedPool.generate(8, 2, 2, seed=0).outcomes())


def test_the_svf_ablation_is_measured_and_recorded_not_run_with_its_cost(tiny_backbone_dir):
    from fugu.models.backbone import load_backbone
    from fugu.trinity.coordinator import Trinity
    from fugu.training.cmaes import CMAESConfig

    trinity = Trinity.build(load_backbone(tiny_backbone_dir), ["a", "b"], ["solver", "thinker", "verifier"], [0])
    conversations = [[{"role": "user", "content": f"question number {i} about math"}] for i in range(6)]
    section = {"trainable": "head", "svf_ablation": {"sample_questions": 2, "sigma": 0.05, "seed": 0}}
    measured, reason = train_trinity.svf_ablation_cost(trinity, conversations, section, CMAESConfig(8, 10, 0.5, 0))
    assert measured["run"] is False and measured["training_questions"] == 6 and measured["per_candidate_s"] > 0
    assert measured["per_generation_s"] == pytest.approx(8 * measured["per_candidate_s"], abs=0.1)
    assert "not run" in reason and "per candidate" in reason and "head+svf" in reason
    section["trainable"] = "head+svf"
    assert train_trinity.svf_ablation_cost(trinity, conversations, section, CMAESConfig(8, 10, 0.5, 0))[1] is None
