"""``profile: full``, every stage in order, on CPU with stand-ins, in a fresh copy of the project.

fetch → self_test → features → train_trinity → train_conductor → eval → serve_e2e run as dvc runs
them (``python -m stages <name>``), each stage's full path unchanged but for what stands in:
a tiny random Qwen3 for Qwen3-0.6B and for the Conductor's policy (supplied by path, as an
air-gapped user would), a random float64 vector of the reference layout for the released one, a
synthetic fixture and logits snapshot, a synthetic ToolScale-format sample, a local worker server
as the live pool, a small slice of the recorded questions and of the searches, and ``--device
cpu``. Every metrics file must hold its full-scale keys and say it is a stand-in run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from fugu import OFFLINE_ENV
from fugu.conductor.toolscale_stand_in import STAND_IN_LABEL, StandInToolPool, synthetic_records, write_sample
from fugu.data.checksum import sha256_file
from fugu.models.backbone import build_tiny_backbone, meta_model
from fugu.serving.worker_server import create_worker_app, pool_spec, running
from fugu.trinity.coordinator import layout_for
from fugu.trinity.fixture import save_fixture, tiny_fixture
from tools.run_profile import copy_project, set_params
from verify.schemas import load_metrics

pytestmark = pytest.mark.slow

# (stage, takes --device): fetch and serve_e2e compute nothing on the backbone's device
STAGES = [("fetch", False), ("self_test", True), ("features", True), ("train_trinity", True),
          ("train_conductor", True), ("eval", True), ("serve_e2e", False)]
# the keys each stage writes at full scale (in the tiny profile some are not run, or other)
FULL_SCALE_KEYS = {
    "fetch": {"param_count", "backbone", "routing", "worker_models"},
    "self_test": {"agent_accuracy", "role_accuracy", "logits_snapshot", "n_cases", "vector", "cases"},
    "features": {"numerics", "real", "simulated", "embeddings"},
    "train_trinity": {"training", "mock", "ablations"},
    "train_conductor": {"final_mean_reward", "reward_gain", "held_out", "grpo_steps", "pool", "stand_in"},
    "eval": {"routing", "trinity", "mock_routing", "adaptive_pool", "adaptive_pool_mock", "perstep_subset",
             "recursion_mock"},
    "serve_e2e": {"live"},
}
SVF_SEARCH_KEYS = {"run", "trainable", "candidates", "backbone_forward_passes", "validation_accuracy",
                   "head_only_validation_accuracy", "gain_over_head_only"}


def stand_in_artifacts(root: Path, backbone: Path, workers: list[str], roles: list[str], svf_layers: list[int]) -> dict:
    """Every full-profile artifact fetch would download, written as a stand-in: {name: local path}."""
    layout = layout_for(meta_model(backbone), len(workers), len(roles), svf_layers)
    rng = np.random.default_rng(0)
    vector = root / "vector.npy"
    np.save(vector, rng.normal(0.0, 0.1, layout.size))  # float64, as the released one
    fixture = tiny_fixture(workers[:4], roles, n_per_cell=1, held_out_fraction=0.25, seed=0)  # 4 topics: agents 0-3
    fixture_file = save_fixture(root / "fixture.json", fixture, "stand-in fixture (synthetic, for the tests)")
    snapshot = root / "logits.json"
    cases = []
    for case in fixture.cases:
        agent, role = rng.normal(size=len(workers)), rng.normal(size=len(roles))
        cases.append({"id": case.id, "agent_id": int(agent.argmax()), "role_id": int(role.argmax()),
                      "token_count": None, "agent_logits_rounded": np.round(agent, 6).tolist(),
                      "role_logits_rounded": np.round(role, 6).tolist()})
    snapshot.write_text(json.dumps({"schema_version": 1, "stand_in": "random logits", "cases": cases}))
    write_sample(root / "toolscale")
    return {"backbone": backbone, "vector": vector, "fixture": fixture_file, "logits_snapshot": snapshot,
            "conductor_policy": backbone, "toolscale": root / "toolscale"}


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, tiny_backbone_dir):
    """The project copied, its params set to the full profile with stand-ins, every stage run in order."""
    copy = copy_project(tmp_path_factory.mktemp("project"))
    supplied = tmp_path_factory.mktemp("supplied")
    params = yaml.safe_load((copy / "params.yaml").read_text())
    workers, roles, svf_layers = params["trinity"]["full"]["workers"], params["trinity"]["roles"], [1]
    artifacts = stand_in_artifacts(supplied, tiny_backbone_dir, workers, roles, svf_layers)
    provenance = yaml.safe_load((copy / "configs/provenance.yaml").read_text())
    for name in ("vector", "fixture", "logits_snapshot"):  # the pins still checked, against the stand-ins' digests
        provenance["full"][name]["sha256"] = sha256_file(artifacts[name])
    (copy / "configs/provenance.yaml").write_text(yaml.safe_dump(provenance, sort_keys=False))
    with running(create_worker_app(StandInToolPool(synthetic_records()))) as url:
        small_search = {"population_size": 4, "generations": 2, "sigma0": 0.5}
        set_params(copy / "params.yaml", {
            "profile": "full", "seeds": [0], "bootstrap.resamples": 200,
            **{f"fetch.full.{name}": {"path": str(path)} for name, path in artifacts.items()},
            "fetch.full.routing_subset": {"train": 30, "validation": 15, "test": 30},
            "simulated_pool.n_questions": 40,
            "trinity.full.svf_layers": svf_layers, "trinity.full.max_prompt_tokens": 64,
            "train_trinity.population_size": 4, "train_trinity.generations_grid": [2],
            "train_trinity.cost_penalties": [0.0, 0.1], "train_trinity.mock_generations": 3,
            "train_trinity.full": {"trainable": "head+svf", "svf_generations": 2},
            "train_conductor.full": {**params["train_conductor"]["full"], "use_vllm": False, "held_out_fraction": 0.25,
                                     "reward_window": 2, "eval_batch_size": 4, "time_budget_s": 30.0,
                                     "max_attempts": 1,
                                     "grpo": {"steps": 4, "prompts_per_step": 2, "num_generations": 2,
                                              "learning_rate": 1e-4, "max_completion_length": 32,
                                              "temperature": 1.0, "beta": 0.0},
                                     "pool": {"kind": "litellm", "timeout_s": 30,
                                              **pool_spec(StandInToolPool([]), url)}},
            "eval.knn_k_grid": [5], "eval.logistic.epochs": 20, "eval.mf.epochs": 20,
            "eval.mock_twin": small_search,
            "eval.adaptive_pool": {**params["eval"]["adaptive_pool"], **small_search, "replicas": 1},
            "eval.adaptive_pool_mock": {**params["eval"]["adaptive_pool_mock"], **small_search, "replicas": 1},
            "eval.perstep_subset": {**params["eval"]["perstep_subset"], **small_search},
            "serve_e2e.n_questions": 2, "serve_e2e.live.max_new_tokens": 4,
            # seed 0's greedy reply is only newlines, which fugu serve rightly refuses as no answer; seed 1 writes words
            "serve_e2e.live.workers": [{"name": "tiny-qwen3-stand-in",
                                        "path": str(build_tiny_backbone(supplied / "live_worker", seed=1))}],
        })
        env = {**os.environ, **OFFLINE_ENV, "TOKENIZERS_PARALLELISM": "false"}
        env.pop("PYTHONPATH", None)  # the copy's own code, as dvc would run it there
        for stage, takes_device in STAGES:
            command = [sys.executable, "-m", "stages", stage, *(["--device", "cpu"] if takes_device else [])]
            done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"{stage} failed:\n{done.stderr[-4000:]}"
    yield copy
    shutil.rmtree(copy, ignore_errors=True)


@pytest.mark.parametrize("stage", [s for s, _ in STAGES])
def test_every_full_profile_stage_writes_its_full_scale_keys_labelled_as_a_stand_in_run(full_run, stage):
    produced = load_metrics(full_run / f"metrics/{stage}.json")
    assert produced.profile == "full"
    assert FULL_SCALE_KEYS[stage] <= set(produced.metrics), FULL_SCALE_KEYS[stage] - set(produced.metrics)
    assert any("is not the reference Qwen3-0.6B" in r or STAND_IN_LABEL in r for r in produced.stand_in), \
        produced.stand_in


def test_the_full_train_trinity_searches_head_and_svf_and_counts_its_cost(full_run):
    produced = load_metrics(full_run / "metrics/train_trinity.json")
    svf = produced.metrics["ablations"]["svf"]
    assert SVF_SEARCH_KEYS <= set(svf) and svf["run"] is True and "ablations.svf" not in produced.not_run
    assert svf["backbone_forward_passes"] >= svf["candidates"] * svf["training_questions"]
    timings = json.loads((full_run / "metrics/timings/train_trinity.json").read_text())
    assert timings["svf_search"]["wall_s"] > 0
    assert (full_run / "artifacts/train_trinity/head_svf.npy").is_file()


def test_the_full_conductor_reward_is_produced_and_eval_names_why_it_does_not_judge_it(full_run):
    conductor = load_metrics(full_run / "metrics/train_conductor.json")
    assert conductor.metrics["grpo_steps"] == 4 and "final_mean_reward" in conductor.metrics
    evaluated = load_metrics(full_run / "metrics/eval.json")
    assert "conductor" not in evaluated.metrics and "ToolScale" in evaluated.not_run["conductor"]


def test_every_stage_that_computes_says_it_ran_on_cpu(full_run):
    for stage, takes_device in STAGES:
        reasons = load_metrics(full_run / f"metrics/{stage}.json").stand_in
        assert takes_device == any("CPU" in r for r in reasons), (stage, reasons)
