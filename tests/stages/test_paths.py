"""One paths module: dvc.yaml names the paths stages/paths.py defines, and the ``fugu`` command's
defaults are the stages' outputs (both built on fugu.pipeline_paths)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fugu import pipeline_paths
from fugu.cli import build_parser
from stages import paths
from stages.paths import ROOT, relative

DVC = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def declared(kind: str) -> set[str]:
    """Every path dvc.yaml lists under ``kind`` (outs, metrics, plots, deps) in any stage."""
    found = set()
    for stage in DVC.values():
        for entry in stage.get(kind, []):
            found.add(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return found


def under(path: str, listed: set[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in listed)


OUTPUTS = {name: getattr(paths, name) for name in (
    "ROUTING_DIR", "BACKBONE_DIR", "FIXTURE_DIR", "VECTOR_DIR", "WORKER_MODELS_DIR", "FEATURES_DIR", "SELF_TEST_DIR",
    "SELF_TEST_SPEC", "TRAINED_DIR", "TRAINED_SPEC", "TRINITY_FITNESS_PLOT", "CONDUCTOR_POLICY_DIR",
    "CONDUCTOR_REWARD_PLOT", "COST_QUALITY_PLOT", "REPORT_HTML", "VERDICTS", "CLAIMS_TABLE")}
INPUTS = {name: getattr(paths, name) for name in ("PROVENANCE_FILE", "REFERENCE_CONFIG", "ROUTING_DATA_DIR")}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_every_stage_output_path_is_a_dvc_output(name: str):
    outputs = declared("outs") | declared("metrics") | declared("plots")
    assert under(relative(OUTPUTS[name]), outputs), f"stages.paths.{name} is not under any dvc.yaml out"


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_every_input_path_is_a_dvc_dependency(name: str):
    assert relative(INPUTS[name]) in declared("deps"), f"stages.paths.{name} is no dvc.yaml dep"


def defaults(command: str) -> dict[str, str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {a.dest: a.default for a in sub._actions}


def test_the_fugu_command_reads_by_default_what_the_stages_write():
    assert defaults("route")["spec"] is None  # the trained spec when train_trinity has run, else the planted one
    assert ROOT / pipeline_paths.SELF_TEST_SPEC == paths.SELF_TEST_SPEC
    assert ROOT / defaults("route")["policy"] == paths.CONDUCTOR_POLICY_DIR
    assert ROOT / defaults("serve")["spec"] == paths.TRAINED_SPEC
    assert ROOT / defaults("serve")["policy"] == paths.CONDUCTOR_POLICY_DIR
    assert ROOT / defaults("audit")["verdicts"] == paths.VERDICTS
    assert ROOT / defaults("audit")["report"] == paths.REPORT_HTML


def test_the_shared_defaults_lie_inside_their_stages_output_folders():
    assert paths.SELF_TEST_SPEC.parent == paths.SELF_TEST_DIR and paths.TRAINED_SPEC.parent == paths.TRAINED_DIR
    shared = [value for name, value in vars(pipeline_paths).items() if name.isupper()]
    assert shared and not any(Path(p).is_absolute() for p in shared)  # relative to the project root
