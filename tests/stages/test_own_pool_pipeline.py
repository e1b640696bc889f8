"""A user's own pool, end to end: ``fugu data add`` into a fresh copy of the project, then ``dvc repro``.

The pool is RouteLLM-shaped (two models, True/False outcomes, responses, no category, no reference
answers, one model without a litellm price): every stage must cope, the report must be written, and
what cannot apply (grading served answers without references) must be *not run* with its reason.
A long-layout file with categories and references is added beside it. The copy's knobs are made
small (one seed, few generations, a smaller simulated pool) so this measures coping, not numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.own_pool_fixtures import UNPRICED, long_with_references, routellm_wide, write
from tests.stages.test_pipeline import dvc_repro
from tools.run_profile import copy_project, set_params
from verify.verdicts import read_verdicts

pytestmark = pytest.mark.slow  # a whole (shrunk) pipeline: minutes

# Knobs that size the run, not what it checks (every key exists in params.yaml).
SMALL = {
    "seeds": [0], "bootstrap.resamples": 200,
    "simulated_pool.n_questions": 80,
    "train_trinity.generations_grid": [3, 5], "train_trinity.population_size": 8, "train_trinity.mock_generations": 10,
    "train_conductor.tiny.reward_window": 2, "train_conductor.tiny.warm_start.steps": 10,
    "train_conductor.tiny.grpo.steps": 4,
    "eval.mock_twin.generations": 5, "eval.adaptive_pool.generations": 5, "eval.adaptive_pool_mock.generations": 5,
    "eval.perstep_subset.generations": 3,
    "compare_optimisers.generations": 5, "serve_e2e.n_questions": 4,
}


def data_add(project: Path, file: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fugu.cli", "data", "add", str(file), "--project", str(project), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def own_pool_run(tmp_path_factory):
    copy = copy_project(tmp_path_factory.mktemp("own-pool") / "project")
    inputs = tmp_path_factory.mktemp("inputs")
    wide = data_add(copy, write(routellm_wide(), inputs / "routellm_pairs.csv"), "--separator", "_",
                    "--source", "synthetic (tests/own_pool_fixtures.py)", "--license", "CC0-1.0")
    long = data_add(copy, write(long_with_references(), inputs / "graded.jsonl"))
    set_params(copy / "params.yaml", {**SMALL, "fetch.routing.pool": "routellm_pairs.csv"})
    return copy, wide, long, dvc_repro(copy)


def test_both_files_are_added_by_the_command(own_pool_run):
    copy, wide, long, _ = own_pool_run
    assert wide.returncode == 0 and long.returncode == 0, wide.stderr + long.stderr
    assert "fetch.routing.pool=routellm_pairs.csv" in wide.stdout
    readme = (copy / "data/routing/README.md").read_text()
    assert "| routellm_pairs.csv |" in readme and "| graded.jsonl |" in readme


def test_the_pipeline_writes_the_report_on_a_pool_without_references(own_pool_run):
    copy, *_, run = own_pool_run
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    assert (copy / "reports/audit.html").stat().st_size > 0
    verdicts = {v.claim_id: v for v in read_verdicts(copy / "reports/verdicts.json")}
    assert verdicts["serve-e2e"].outcome == "not_run" and "numeric reference" in verdicts["serve-e2e"].reason
    assert verdicts["pool-hidden"].outcome != "not_run"  # the leak check still ran over the served requests


def test_the_pool_is_the_files_models_and_an_unpriced_model_is_cost_unknown(own_pool_run):
    copy, *_, run = own_pool_run
    assert run.returncode == 0
    routing = json.loads((copy / "metrics/fetch.json").read_text())["metrics"]["routing"]
    assert routing["pool"]["name"] == "routellm_pairs.csv" and len(routing["pool"]["models"]) == 2
    assert routing["estimated_cost"]["cost_unknown"] == [UNPRICED]
    prices = yaml.safe_load((copy / "configs/provenance.yaml").read_text())["routing"]["prices"]
    assert "cost_unknown" in prices[UNPRICED]
