"""The head+svf ablation's cost: measured on a sample and extrapolated to the whole search, which is not run."""

import pytest

from fugu.training.cmaes import CMAESConfig
from fugu.training.svf_search_cost import measure_svf_search_cost


def test_the_svf_ablation_is_measured_and_its_cost_extrapolated_to_the_whole_search(tiny_backbone_dir):
    from fugu.models.backbone import load_backbone
    from fugu.trinity.coordinator import Trinity

    trinity = Trinity.build(load_backbone(tiny_backbone_dir), ["a", "b"], ["solver", "thinker", "verifier"], [0])
    conversations = [[{"role": "user", "content": f"question number {i} about math"}] for i in range(6)]
    shape, measured = measure_svf_search_cost(trinity, conversations, sample_questions=2, sigma=0.05, seed=0,
                                              config=CMAESConfig(8, 10, 0.5, 0))
    assert shape["run"] is False and shape["training_questions"] == 6
    assert measured["per_candidate_s"] > 0
    assert measured["per_generation_s"] == pytest.approx(8 * measured["per_candidate_s"], abs=0.1)
    assert measured["sample_questions"] == 2 and shape["population_size"] == 8 and shape["generations"] == 10
