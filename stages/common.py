"""What every stage shares: reading its params, offline set-up, checksums, and the metrics envelope.

Each stage reads its section of ``params.yaml`` (shared keys and the active profile's
sub-section, each key in one of the two), calls the library, and writes one
``metrics/<stage>.json`` in the envelope that ``verify/schemas.py`` validates: ``profile``,
``scale``, package versions and the sha256 of every artifact it used, so a number can always
be traced to its inputs.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import json
import math
import os
import platform
import sys
from pathlib import Path
from typing import Any, Sequence

import yaml

from fugu import HUB_OFFLINE, OFFLINE_ENV
from fugu.data.checksum import sha256_file
from stages.paths import (
    BACKBONE_DIR,
    METRICS_DIR,
    PARAMS_FILE,
    PROVENANCE_FILE,
    REFERENCE_CONFIG,
    TIMINGS_DIR,
    metrics_file,
    relative,
)

PROFILES = ("tiny", "medium", "full")
# A profile may build on another: medium is tiny's set-up (real small models, offline, CPU) at a
# larger subset of the recorded questions; its own keys override tiny's.
PROFILE_BASE = {"medium": "tiny"}
# Packages whose versions are recorded in every metrics file (the ones that change numbers).
RECORDED_PACKAGES = ("torch", "transformers", "trl", "cma", "litellm", "numpy", "dvc", "openfugu-audit")


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    with open(path) as fh:
        params = yaml.safe_load(fh)
    if params.get("profile") not in PROFILES:
        raise ValueError(f"{path}: profile must be one of {PROFILES}, got {params.get('profile')!r}")
    return params


def load_provenance(profile: str, path: Path = PROVENANCE_FILE) -> dict[str, Any]:
    """Where the artifacts of ``profile`` come from (sources, sha256s, licences, prices), resolved
    like a params section: shared keys and the profile's own."""
    return resolve(yaml.safe_load(path.read_text()) or {}, profile, "provenance")


def stage_params(params: dict[str, Any], stage: str) -> dict[str, Any]:
    """A stage's knobs: its shared keys and those of the active profile's sub-section."""
    return resolve(params.get(stage) or {}, params["profile"], stage)


def resolve(section: dict[str, Any], profile: str, name: str) -> dict[str, Any]:
    """One params section (``name``) for ``profile``: shared keys, the base profile's, then its own.

    A key lives in one place per profile: set both shared and in a sub-section that applies, the
    sub-section would silently win (and ``dvc exp run -S name.key=...`` would do nothing), so that
    is an error naming both places. The profile's own keys may override its base profile's.
    """
    section = dict(section)
    per_profile = {p: section.pop(p, None) or {} for p in PROFILES}
    applied = [p for p in (PROFILE_BASE.get(profile), profile) if p]
    for p in applied:
        if twice := sorted(set(section) & set(per_profile[p])):
            raise ValueError(f"{', '.join(f'{name}.{k}' for k in twice)} is set both shared "
                             f"and for the {p} profile ({', '.join(f'{name}.{p}.{k}' for k in twice)}): "
                             "keep one of the two")
    return {**section, **{k: v for p in applied for k, v in per_profile[p].items()}}


def is_reduced(profile: str) -> bool:
    """tiny and medium run at reduced scale (small real models, CPU); only full is the reference scale."""
    return profile != "full"


def open_stage(stage: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Every stage's preamble: (all params, the active profile, this stage's section), with the
    process set up for the profile (offline in the tiny one) and torch on ``numerics.threads``."""
    params = load_params()
    enter_profile(params["profile"])
    set_torch_threads(int(params["numerics"]["threads"]))
    return params, params["profile"], stage_params(params, stage)


TRINITY_DEVICE_KEY = "trinity.full.device"  # where the stages that run TRINITY's backbone read their device


def stage_device(stage: str, profile: str, configured: str, argv: Sequence[str] | None = None) -> str:
    """Where a stage's forward passes run: CPU in a reduced profile; in the full one ``configured``
    (params' ``trinity.full.device``) unless ``--device`` overrides it, which only the tests'
    stand-in run does.

    A CUDA device with no GPU visible stops the stage here, naming both ways out, before anything loads.
    """
    if is_reduced(profile):
        return "cpu"  # tiny and medium never read the command line: dvc and tests run them as they are
    device = device_override(stage, TRINITY_DEVICE_KEY, argv) or configured
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SystemExit(f"{stage}: profile: full computes on a CUDA GPU ({TRINITY_DEVICE_KEY}: cuda) and none "
                             "is visible; run it on a GPU machine, or use profile: tiny on CPU")
    return device


def device_override(stage: str, key: str, argv: Sequence[str] | None = None) -> str | None:
    """The ``--device`` a full-profile stage was started with (None: use params' ``key``)."""
    parser = argparse.ArgumentParser(prog=f"python -m stages {stage}")
    parser.add_argument("--device", choices=["cuda", "cpu"], default=None,
                        help=f"override {key}; cpu is for the stand-in test run only")
    return parser.parse_args(list(sys.argv[1:] if argv is None else argv)).device


def stand_in_reasons(profile: str, device: str | None = None) -> list[str]:
    """Why a full-profile run is not the reference's, read from the run itself: the device it computed on
    and the backbone it loaded (its config's shape against the shipped Qwen3-0.6B config). Empty otherwise."""
    if is_reduced(profile):
        return []
    reasons = []
    if device == "cpu":
        reasons.append("computed on CPU (the --device cpu override, the tests' stand-in run); "
                       "the full profile computes on GPUs")
    if (BACKBONE_DIR / "config.json").is_file() and (diff := differences_from(BACKBONE_DIR, REFERENCE_CONFIG)):
        reasons.append(f"the backbone at {relative(BACKBONE_DIR)} is not the reference Qwen3-0.6B ({'; '.join(diff)})")
    return reasons


# The shape of a model: what makes a backbone the reference's or a stand-in for it
SHAPE_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "intermediate_size", "vocab_size")


def differences_from(config_dir: Path, reference_dir: Path) -> list[str]:
    """How the model at ``config_dir`` differs in shape from the reference's config ("key: got vs reference");
    empty for the reference model itself. Read from the model a run loaded, never from a flag."""
    got = json.loads((Path(config_dir) / "config.json").read_text())
    want = json.loads((Path(reference_dir) / "config.json").read_text())
    return [f"{key}: {got.get(key)} vs {want.get(key)}" for key in SHAPE_KEYS if got.get(key) != want.get(key)]


def set_torch_threads(threads: int) -> None:
    """torch's intra-op threads, if the stage uses torch (a stage that does not stays free of it).

    ``python -m stages`` already set OMP_NUM_THREADS, which torch reads when it loads; this
    also holds a stage started another way (a test calling ``main()``) to the same count.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def enter_profile(profile: str) -> None:
    """Process-wide settings a profile implies (fugu.OFFLINE_ENV): a reduced profile never touches a hub."""
    for var, value in OFFLINE_ENV.items():
        if var not in HUB_OFFLINE:
            os.environ.setdefault(var, value)
        elif is_reduced(profile):
            os.environ[var] = value


def checksums(*paths: Path) -> dict[str, str]:
    """sha256 of every file under the given files/directories, keyed by repo-relative path."""
    found: dict[str, str] = {}
    for root in paths:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for file in files:
            found[relative(file)] = sha256_file(file)
    return found


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_metrics(
    stage: str,
    profile: str,
    metrics: dict[str, Any],
    artifacts: dict[str, str],
    not_run: dict[str, str] | None = None,
    metric_scale: dict[str, str] | None = None,
    timings: dict[str, Any] | None = None,
    stand_in: list[str] | None = None,
) -> Path:
    """Write ``metrics/<stage>.json`` in the envelope every stage shares.

    ``not_run`` names metrics the stage could not produce, each with its reason, so a claim
    reading one is reported *not run* with that reason rather than silently missing.
    ``metric_scale`` marks keys (dotted prefixes) whose numbers are at another scale than the
    profile's, e.g. the reference parameter count computed from the full config in a tiny run.
    ``timings`` (wall-clock seconds, rates, the CPU) go to ``metrics/timings/<stage>.json`` instead: they
    depend on the machine and its load, and a DVC out must be a function of its inputs alone,
    or a fresh clone's ``dvc repro`` would rewrite ``dvc.lock``.
    ``stand_in`` lists why a run's numbers are not the profile's real ones (a CPU run of the full
    path with a tiny policy and synthetic data); verify then judges no claim on the file.
    """
    _reject_non_finite(metrics, stage)
    if timings:
        TIMINGS_DIR.mkdir(parents=True, exist_ok=True)
        (TIMINGS_DIR / f"{stage}.json").write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n")
    envelope = {
        "stage": stage,
        "status": "ok",
        "profile": profile,
        "scale": profile,  # tiny and medium are reduced scale by construction (verify reads them so)
        "versions": package_versions(),
        "artifacts": artifacts,
        "metrics": metrics,
        "not_run": not_run or {},
    }
    if metric_scale:
        envelope["metric_scale"] = metric_scale
    if stand_in:
        envelope["stand_in"] = list(stand_in)
    return _dump(stage, envelope)


def write_curve(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    """One plot's data as CSV (``columns`` in order; floats to 6 decimals, None as empty), the
    format every DVC plot of the pipeline reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else f"{row[c]:.6f}" if isinstance(row[c], float) else row[c]
                             for c in columns])
    return path


def _dump(stage: str, payload: dict[str, Any]) -> Path:
    METRICS_DIR.mkdir(exist_ok=True)
    path = metrics_file(stage)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n")
    return path


def _reject_non_finite(value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: metric value {value!r} is not finite")
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_non_finite(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _reject_non_finite(item, f"{where}[{i}]")
