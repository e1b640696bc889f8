"""The compare_optimisers stage: not run (with the reason) without features; the contract is checked."""

import numpy as np
import pytest

from stages import compare_optimisers as stage
from tests.evaluation.test_optimisers import specialist_world

PARAMS = {"profile": "tiny", "seed": 0, "seeds": [0, 1], "bootstrap": {"resamples": 100, "confidence": 0.95},
          "compare_optimisers": {"population_size": 4, "generations": 3, "sigma0": 0.5, "reinforce_learning_rate": 0.5,
                                 "sft_epochs": 20, "sft_learning_rate": 0.5, "sft_weight_decay": 0.0}}


def test_without_the_features_file_every_comparison_is_not_run_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(stage, "FEATURES_FILE", tmp_path / "absent.npz")
    metrics, not_run, artifacts = stage.measure(PARAMS)
    assert metrics == {} and artifacts == {}
    assert set(not_run) == set(stage.KEYS) and all("features stage" in r for r in not_run.values())


def test_features_are_read_in_the_split_order_and_a_missing_question_is_named(tmp_path):
    data, x = specialist_world(12)
    path = tmp_path / "features.npz"
    ids = np.array(data.question_ids[::-1])
    np.savez(path, question_id=ids, penultimate=x[::-1].astype(np.float32), last=x[::-1].astype(np.float32))
    features = stage.load_features(path)
    assert np.allclose(stage.features_for(features, data, "penultimate", "f"), x)
    np.savez(path, question_id=ids[1:], penultimate=x[1:].astype(np.float32), last=x[1:].astype(np.float32))
    with pytest.raises(stage.FeaturesError, match="no features"):
        stage.features_for(stage.load_features(path), data, "last", "f")


def test_a_features_file_without_the_last_token_array_is_refused(tmp_path):
    path = tmp_path / "features.npz"
    np.savez(path, question_id=np.array(["a"]), penultimate=np.zeros((1, 2), np.float32))
    with pytest.raises(stage.FeaturesError, match="'last'"):
        stage.load_features(path)
