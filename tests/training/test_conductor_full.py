"""train_conductor with profile: full, end to end on CPU with stand-ins (fugu/training/conductor_full.py).

The full path runs unchanged but for ``--device cpu``: a tiny random Qwen3 stands in for the 3B
policy, a synthetic sample in ToolScale's format for the dataset (fugu/conductor/toolscale_stand_in.py), and
a local OpenAI-compatible worker server, reached through litellm, for the live pool. The metrics
must hold every full-scale key and say it is a stand-in run; verify must refuse it as evidence.
"""

import json

import pytest
import torch

import stages.common
import stages.paths
import stages.train_conductor as stage
from fugu.conductor.toolscale import read_task_file
from fugu.conductor.toolscale_stand_in import STAND_IN_LABEL, StandInToolPool, synthetic_records, write_sample
from fugu.pools.litellm_pool import LiteLLMPool, LiteLLMWorker
from fugu.pools.liveness import PoolDown, require_live
from fugu.serving.worker_server import create_worker_app, free_port, pool_spec, running
from fugu.training import conductor_full
from fugu.training.toolscale_reward import ExecutionSettings, LiveToolScaleReward
from verify.schemas import load_metrics

FULL_SCALE_KEYS = {"final_mean_reward", "reward_gain", "first_window_mean_reward", "last_window_mean_reward",
                   "grpo_steps", "held_out", "n_train_tasks", "n_held_out_tasks", "skipped_records", "pool",
                   "policy", "dataset", "device", "reward", "training_failures", "stand_in"}


@pytest.fixture(scope="module")
def live_pool_url():
    with running(create_worker_app(StandInToolPool(synthetic_records()))) as url:
        yield url


def _litellm_pool(url: str) -> LiteLLMPool:
    return LiteLLMPool([LiteLLMWorker(**w) for w in pool_spec(StandInToolPool([]), url)["workers"]])


def test_the_live_reward_executes_a_workflow_on_the_pool_and_scores_its_tool_calls(live_pool_url, tmp_path):
    tasks = read_task_file(write_sample(tmp_path, broken=False)).tasks
    reward = LiveToolScaleReward(tasks, _litellm_pool(live_pool_url), ExecutionSettings(4, 30.0, 1))
    plan = lambda w: json.dumps({"steps": [{"worker": w, "instruction": "answer", "access": []}]})  # noqa: E731
    exact, first_only, unrelated = reward.scores([plan(0), plan(1), plan(2)], [tasks[0].task_id] * 3)
    assert exact == pytest.approx(1.0) and 0.0 < first_only < 1.0 and unrelated == 0.0
    assert reward.worker_calls == 3


def test_a_worker_that_is_down_at_start_is_named(live_pool_url):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    pool = LiteLLMPool([LiteLLMWorker("alive", "openai/exact", f"{live_pool_url}/v1", api_key="k"),
                        LiteLLMWorker("gone", "openai/exact", dead, api_key="k")])
    with pytest.raises(PoolDown, match=r"1 of 2 workers .*\n- gone: "):
        require_live(pool, timeout_s=10)


def test_a_gpu_out_of_memory_names_the_setting_to_lower(monkeypatch, tiny_backbone_dir, live_pool_url, tmp_path):
    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")
    monkeypatch.setattr(conductor_full, "train_grpo", out_of_memory)
    tasks = read_task_file(write_sample(tmp_path, broken=False)).tasks
    with pytest.raises(conductor_full.GPUOutOfMemory, match="lower train_conductor.full.grpo.num_generations"):
        conductor_full.train_full(_settings(), tiny_backbone_dir, tasks[:4], tasks[4:], _litellm_pool(live_pool_url),
                                  "cpu", tmp_path / "out")


def _settings() -> dict:
    return {"model_id": "tiny random Qwen3 (stand-in)", "dataset": "synthetic ToolScale-format sample",
            "device": "cuda", "use_vllm": False, "seed": 0, "held_out_fraction": 0.25, "reward_window": 2,
            "eval_batch_size": 4, "time_budget_s": 30.0, "max_attempts": 1, "max_steps": 4,
            "grpo": {"steps": 4, "prompts_per_step": 2, "num_generations": 2, "learning_rate": 1e-4,
                     "max_completion_length": 32, "temperature": 1.0, "beta": 0.0}}


@pytest.fixture()
def full_stage(monkeypatch, tmp_path, tiny_backbone_dir, live_pool_url):
    """The stage's outputs under tmp_path, its params the full profile's with the stand-ins."""
    import shutil

    fetched = tmp_path / "fetch/conductor"
    shutil.copytree(tiny_backbone_dir, fetched / "policy")
    write_sample(fetched / "toolscale")
    for name, path in {"CONDUCTOR_FETCHED_POLICY": fetched / "policy", "TOOLSCALE_DIR": fetched / "toolscale",
                       "CONDUCTOR_POLICY_DIR": tmp_path / "out/policy", "CONDUCTOR_SEEDS": tmp_path / "out/seeds",
                       "CONDUCTOR_SEEDS_INDEX": tmp_path / "out/seeds/index.json",
                       "CONDUCTOR_REWARD_PLOT": tmp_path / "plots/reward.csv"}.items():
        monkeypatch.setattr(stage, name, path)
    monkeypatch.setattr(stages.paths, "METRICS_DIR", tmp_path / "metrics")
    monkeypatch.setattr(stages.common, "METRICS_DIR", tmp_path / "metrics")
    monkeypatch.setattr(stages.common, "TIMINGS_DIR", tmp_path / "metrics/timings")
    cfg = {**_settings(), "pool": {"kind": "litellm", "timeout_s": 30,
                                   **pool_spec(StandInToolPool([]), live_pool_url)}}
    params = {"profile": "full", "seed": 0, "bootstrap": {"resamples": 200, "confidence": 0.95},
              "numerics": {"pin": True, "threads": torch.get_num_threads()},
              "train_conductor": {"max_steps": 4, "full": {k: v for k, v in cfg.items() if k != "max_steps"}}}
    monkeypatch.setattr(stages.common, "load_params", lambda: params)
    return tmp_path, params


def test_the_full_stage_runs_on_cpu_with_stand_ins_and_says_so(full_stage):
    root, _ = full_stage
    stage.main(["--device", "cpu"])
    produced = load_metrics(root / "metrics/train_conductor.json")
    assert FULL_SCALE_KEYS <= set(produced.metrics), FULL_SCALE_KEYS - set(produced.metrics)
    assert produced.metrics["grpo_steps"] == 4 and produced.metrics["device"] == "cpu"
    assert produced.metrics["skipped_records"]["count"] == 2  # the sample's two broken rows
    assert (produced.metrics["n_train_tasks"], produced.metrics["n_held_out_tasks"]) == (6, 2)
    assert any("--device cpu" in r for r in produced.stand_in)
    assert any(STAND_IN_LABEL in r for r in produced.stand_in)
    assert produced.metrics["stand_in"] == produced.stand_in and produced.profile == "full"
    assert (root / "out/policy/config.json").is_file()


def test_a_stand_in_run_is_never_evidence_for_a_claim(full_stage):
    from claims import load_claims
    from verify.verdicts import judge

    root, _ = full_stage
    stage.main(["--device", "cpu"])
    claim = next(c for c in load_claims() if c.id == "conductor-grpo")
    verdict = judge(claim, root)
    assert verdict.outcome == "not_run" and "stand-in run" in verdict.reason, verdict.reason


def test_the_full_stage_names_a_dead_worker_before_loading_anything(full_stage, monkeypatch):
    _, params = full_stage
    params["train_conductor"]["full"]["pool"]["workers"][1]["api_base"] = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setattr(conductor_full, "train_full", lambda *a, **k: pytest.fail("trained with a worker down"))
    with pytest.raises(SystemExit, match="(?s)train_conductor: 1 of 3 workers of train_conductor.full.pool .*- first_only: "):
        stage.main(["--device", "cpu"])
