"""The serving path end to end (fugu/serving/e2e.py): pool source, router launch, leak count, server lifetime.

The serve_e2e stage as a whole runs in the tiny pipeline test (``test_pipeline.py``) under the
network guard; here each part, over generated recorded outcomes.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from fugu.data.matrix import load_split
from fugu.data.splits import SPLITS_FILE, assign_splits, write_splits
from fugu.data.table import TABLE_FILE, write_outcome_table
from fugu.serving import e2e, worker_server
from stages.common import load_params, stage_params
from stages.paths import ROOT, TRAINED_SPEC
from tests.outcome_fixtures import tidy_table


@pytest.fixture
def section():
    # The fixed-order stand-in: these tests exercise the serving path over generated outcomes,
    # whose workers no trained vector scores (the stage's trinity router is covered by the pipeline).
    return {**stage_params(load_params(), "serve_e2e"), "router": "priority", "startup_timeout_s": 60,
            "n_questions": 2, "category": None}


@pytest.fixture
def replay_dir(tmp_path):
    table = tidy_table(n_questions=20)
    table["response"] = "The answer is " + table["reference"]  # every recorded model right, no names in text
    write_outcome_table(table, tmp_path / TABLE_FILE)
    write_splits(assign_splits(table, {"train": 0.5, "validation": 0.25, "test": 0.25}, seed=0), tmp_path / SPLITS_FILE)
    return tmp_path


def build_router(section, workers):
    return e2e.build_router(section, workers, TRAINED_SPEC, ROOT)


def test_recorded_outcomes_are_served_over_the_whole_path_and_graded(replay_dir, section):
    source = e2e.worker_source(section, replay_dir)
    assert source.pool is not None and len(source.questions) == 2
    result = e2e.serve_and_ask(source, build_router(section, source.worker_names), section, ROOT)
    assert [a["kind"] for a in result["answers"]] == ["plain", "stream", "multi_turn"] * 2
    assert all(a["correct"] for a in result["answers"])
    assert result["unauthorized_status"] == 401
    assert result["router"].startswith("priority (stand-in")
    assert e2e.count_leaks(result["surfaces"], source.worker_names) == 0


def test_only_held_out_questions_of_the_asked_benchmark_are_served_and_graded(replay_dir, section):
    source = e2e.worker_source({**section, "category": "gsm8k", "n_questions": 1}, replay_dir)
    test = load_split(replay_dir, "test")
    category = dict(zip(test.question_ids, test.categories))
    assert [category[q.question_id] for q in source.questions] == ["gsm8k"]
    assert source.ungraded is None and source.questions[0].gold is not None


def test_too_few_gradable_questions_are_still_served_ungraded_with_the_reason(replay_dir, section):
    source = e2e.worker_source({**section, "category": "gsm8k", "n_questions": 99}, replay_dir)
    assert "serve_e2e.n_questions asks for 99" in source.ungraded
    assert source.questions and all(q.gold is None for q in source.questions)
    assert set(e2e.not_run_reasons(source)) == set(e2e.GRADED_KEYS)
    result = {"answers": [], "surfaces": ["x"], "router": "r", "unauthorized_status": 401, "served_models": ["m"],
              "stream_chunks": 3}
    metrics = e2e.served_metrics(source, result)
    assert "correct_fraction" not in metrics and metrics["n_requests_sent"] == 3 * len(source.questions)


def test_a_pool_without_references_is_served_for_the_leak_check_but_not_graded(replay_dir, section):
    table = tidy_table(n_questions=20)
    table["response"] = "The answer is " + table["reference"]
    table["reference"] = None
    write_outcome_table(table, replay_dir / TABLE_FILE)
    source = e2e.worker_source({**section, "category": "gsm8k"}, replay_dir)
    result = e2e.serve_and_ask(source, build_router(section, source.worker_names), section, ROOT)
    metrics = e2e.served_metrics(source, result)
    assert metrics["worker_names_leaked"] == 0 and metrics["unauthorized_status"] == 401
    assert result["answers"] == [] and "numeric reference" in e2e.not_run_reasons(source)["correct_fraction"]


def test_recorded_outcomes_without_responses_cannot_be_served_and_say_so(replay_dir, section):
    table = tidy_table(n_questions=20)
    table["response"] = None
    write_outcome_table(table, replay_dir / TABLE_FILE)
    with pytest.raises(e2e.NotApplicable, match="no response text"):
        e2e.worker_source(section, replay_dir)
    assert set(e2e.not_run_reasons(None, "why")) >= {"worker_names_leaked", "correct_fraction"}


def test_without_recorded_outcomes_it_stops_naming_what_to_fetch(tmp_path):
    with pytest.raises(FileNotFoundError, match="dvc repro fetch"):
        e2e.worker_source({"n_questions": 2}, tmp_path / "missing")


def test_an_empty_outcome_table_is_no_recorded_outcomes(replay_dir):
    write_outcome_table(tidy_table(n_questions=20).iloc[:0], replay_dir / TABLE_FILE)
    with pytest.raises(FileNotFoundError, match="is missing or empty"):
        e2e.worker_source({"n_questions": 2}, replay_dir)


def test_real_workers_from_params_are_handed_to_fugu_serve(replay_dir, section):
    spec = {"kind": "litellm", "workers": [{"name": "api-1", "model": "openai/x", "api_base": "http://127.0.0.1:9/v1"}]}
    source = e2e.worker_source({**section, "pool": spec}, replay_dir)
    assert source.pool is None and source.spec == spec and source.worker_names == ["api-1"]
    with pytest.raises(ValueError, match="no workers"):
        e2e.worker_source({**section, "pool": {"kind": "local_hf", "workers": []}}, replay_dir)


def test_leak_count_finds_worker_names_anywhere():
    surfaces = ['{"model": "fugu-mini"}', "x-fugu-worker: model-b", "model-a and model-a"]
    assert e2e.count_leaks(surfaces, ["model-a", "model-b"]) == 3


def test_build_router_points_fugu_serve_at_the_trained_spec(section):
    launch = build_router({**section, "router": "trinity"}, ["w0"])
    assert launch.cli_args[:3] == ["--router", "trinity", "--spec"]
    assert launch.cli_args[3].endswith("artifacts/train_trinity/trinity.json")


def test_build_router_passes_the_priority_order_and_refuses_unknown_routers(section):
    workers = ["w0", "w1", "w2"]
    assert build_router(section, workers).cli_args == ["--router", "priority", "--priority", "w0,w1,w2"]
    launch = build_router({**section, "priority": ["w2"]}, workers)
    assert launch.cli_args == ["--router", "priority", "--priority", "w2"]
    with pytest.raises(ValueError, match="router"):
        build_router({**section, "router": "oracle"}, workers)


def test_the_server_process_is_stopped_when_the_run_fails(section, tmp_path, monkeypatch):
    started = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(worker_server.subprocess, "Popen", lambda *a, **k: started.append(real_popen(*a, **k)) or started[-1])
    spec = e2e.local_worker_spec("http://127.0.0.1:9", ["w0", "w1"], 5.0)
    with pytest.raises(RuntimeError, match="boom"):
        with e2e.fugu_server(spec, build_router(section, ["w0", "w1"]), section, tmp_path, ROOT):
            raise RuntimeError("boom")
    assert started and started[0].poll() is not None


def test_a_server_that_dies_at_start_is_reported_with_its_output(tmp_path):
    command = [sys.executable, "-c", "import sys; print('cannot bind'); sys.exit(3)"]
    with pytest.raises(RuntimeError, match="(?s)code 3.*cannot bind"):
        with worker_server.spawned(command, "http://127.0.0.1:9/health", tmp_path / "log"):
            pass


def test_the_live_request_is_answered_by_a_local_model_through_fugu_serve(section, smollm2_dir):
    """The real SmolLM2 (a random tiny model answers blank lines, which the server rightly refuses)."""
    live = {**section["live"], "workers": [{"name": "smol-local", "path": str(smollm2_dir)}], "max_new_tokens": 6}
    result, timings = e2e.live_request(live, section, ROOT)
    assert timings["latency_s"] > 0
    assert result["live"] is True and result["models"] == ["smol-local"]
    assert 1 <= result["completion_tokens"] <= 6 and result["answer"].strip()
    assert result["worker_names_leaked"] == 0 and result["question"] == section["live"]["question"]


def test_the_stage_serves_trinity_in_fp32_on_every_cpu():
    """serve_e2e's numbers are the audit's: no bf16 on the CPUs that have it (``--router-dtype auto``)."""
    launch = e2e.build_router({"router": "trinity"}, ["w"], TRAINED_SPEC, ROOT)
    flags = launch.cli_args
    assert flags[flags.index("--router-dtype") + 1] == "fp32"
