"""fetch: obtain every artifact with a recorded checksum.

Two independent parts, each writing its own outs and its own section of metrics/fetch.json:
- TRINITY backbone, parameter vector, self-test fixture. Tiny profile: the real
  pretrained SmolLM2-135M-Instruct from its installed PyPI package (a GGUF file, sha256
  pinned in configs/provenance.yaml, converted once to a transformers directory) and a synthetic
  fixture in the reference format (no released vector exists for this backbone; self_test
  plants one). The random tiny Qwen3 builder is only a unit-test fixture now. Full profile:
  Qwen3-0.6B, the released vector, the 37-case fixture and the port's logits snapshot from
  their sources, or from local paths; anything missing stops the stage with a message naming each artifact. The
  reference parameter count is arithmetic from the shipped Qwen3-0.6B config in both.
- recorded routing outcomes: read from the shipped data/routing folder, sha256-checked,
  converted to one checked table, priced, split, and described by a data card.

The knobs come from params.yaml's ``fetch`` section; where each artifact comes from (sources,
sha256s, licences, prices) from configs/provenance.yaml, merged in per artifact.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any, Sequence

from fugu.data.build import prepare_outcomes
from fugu.data.listing import read_listing
from fugu.data.pool import PoolError, resolve_pool
from fugu.data.sources import Source, obtain_all
from fugu.models.backbone import meta_model
from fugu.models.gguf import PackagedGGUF, convert_gguf, locate, verify_sha256
from fugu.trinity.coordinator import layout_for
from fugu.trinity.fixture import load_fixture, save_fixture, tiny_fixture
from fugu.trinity.logits_snapshot import load_snapshot
from fugu.trinity.svf import svf_target_keys
from fugu.trinity.vector import load_vector
from stages.builders import vector_file
from stages.common import (
    checksums,
    is_reduced,
    load_provenance,
    open_stage,
    resolve,
    stand_in_reasons,
    write_metrics,
)
from stages.paths import (
    BACKBONE_DIR,
    CONDUCTOR_FETCH_DIR,
    CONDUCTOR_FETCHED_POLICY,
    FIXTURE_DIR,
    FIXTURE_FILE,
    LOGITS_SNAPSHOT_FILE,
    REFERENCE_CONFIG,
    ROUTING_DATA_DIR,
    ROUTING_DIR,
    TOOLSCALE_DIR,
    VECTOR_DIR,
    WORKER_MODELS_DIR,
    relative,
)


def main() -> None:
    params, profile, knobs = open_stage("fetch")
    section = with_sources(knobs, load_provenance(profile))
    started = time.perf_counter()
    metrics: dict[str, Any] = {}
    produced = []

    # --- backbone, released vector, fixture -----------------------------------
    metrics["param_count"], metrics["backbone"] = fetch_trinity(section, params["trinity"], profile)
    produced += [BACKBONE_DIR, FIXTURE_DIR, VECTOR_DIR, CONDUCTOR_FETCH_DIR]
    metrics["worker_models"] = fetch_worker_models(section.get("worker_models") or [])
    produced.append(WORKER_MODELS_DIR)

    # --- recorded routing outcomes --------------------------------------------
    metrics["routing"] = fetch_routing_data(section["routing"], section.get("routing_subset"))
    produced.append(ROUTING_DIR)

    write_metrics("fetch", profile, metrics, checksums(*produced),
                  metric_scale={"param_count.reference": "full"}, timings={"wall_s": time.perf_counter() - started},
                  stand_in=stand_in_reasons(profile))


def with_sources(knobs: dict[str, Any], sources: dict[str, Any]) -> dict[str, Any]:
    """The fetch knobs with each artifact's provenance merged in (an artifact's local ``path`` is a
    knob, its source a fact); a key set in both files is an error naming it."""
    merged = dict(knobs)
    for name, source in sources.items():
        mine = knobs.get(name) or {}
        if isinstance(source, dict) and isinstance(mine, dict):
            if both := sorted(set(source) & set(mine)):
                raise ValueError(f"fetch.{name}: {', '.join(both)} set both in params.yaml and configs/provenance.yaml")
            merged[name] = {**source, **mine}
        elif name in knobs:
            raise ValueError(f"fetch.{name} is set both in params.yaml and configs/provenance.yaml")
        else:
            merged[name] = source
    return merged


def fetch_trinity(section: dict[str, Any], trinity: dict[str, Any],
                  profile: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build or obtain backbone, fixture and vector; (parameter counts and layout, backbone provenance)."""
    for out in (BACKBONE_DIR, FIXTURE_DIR, VECTOR_DIR, CONDUCTOR_FETCH_DIR):
        shutil.rmtree(out, ignore_errors=True)
    active = resolve(trinity, profile, "trinity")
    if is_reduced(profile):
        provenance = build_tiny_artifacts(section, active)
    else:
        fetch_full_artifacts(section)
        provenance = {"source": "fetch.full.backbone (see checksums)"}
    # The count is arithmetic on shapes: the reference from the shipped Qwen3-0.6B config,
    # this profile's from the config of the backbone just fetched. No weights are read.
    full = resolve(trinity, "full", "trinity")
    reference = layout_for(meta_model(REFERENCE_CONFIG), len(full["workers"]),
                           len(full["roles"]), full["svf_layers"])
    this = layout_for(meta_model(BACKBONE_DIR), len(active["workers"]), len(active["roles"]), active["svf_layers"])
    if profile == "full":
        load_vector(vector_file(VECTOR_DIR), this)  # refuses a vector that does not fit, naming the file
    return {
        "reference": reference.size, "reference_svf": reference.n_svf, "reference_head": reference.head_size,
        profile: this.size, f"{profile}_svf": this.n_svf, f"{profile}_head": this.head_size,
        f"{profile}_svf_targets": svf_target_shapes(BACKBONE_DIR, active["svf_layers"]),
    }, provenance


def svf_target_shapes(backbone_dir: Path, svf_layers: Sequence[int] | None) -> dict[str, list[int]]:
    """The SVF target matrices of a fetched backbone and their shapes: the vector layout, in order."""
    model = meta_model(backbone_dir)
    state = model.state_dict(keep_vars=True)
    return {key: list(state[key].shape) for key in svf_target_keys(model, svf_layers)}


def build_tiny_artifacts(section: dict[str, Any], trinity: dict[str, Any]) -> dict[str, Any]:
    """The tiny fixture, then the real backbone: packaged GGUF → sha256 check → transformers dir."""
    fixture = tiny_fixture(trinity["workers"], trinity["roles"], **section["fixture"])
    save_fixture(FIXTURE_FILE, fixture, "tiny synthetic fixture (fugu/trinity/fixture.py): topic → worker, "
                 "exchange state → role; tags say train / held_out")
    provenance = obtain_packaged_backbone(PackagedGGUF.from_dict(section["backbone"]), BACKBONE_DIR)
    VECTOR_DIR.mkdir(parents=True)
    (VECTOR_DIR / "README.md").write_text(
        "Tiny profile: no released vector exists for the tiny backbone. self_test plants one by\n"
        "least squares on the fixture's training cases (artifacts/self_test/planted_vector.npy).\n")
    CONDUCTOR_FETCH_DIR.mkdir(parents=True)
    (CONDUCTOR_FETCH_DIR / "README.md").write_text(
        "Tiny profile: the Conductor trains SmolLM2 (artifacts/fetch/backbone) on the recorded pool;\n"
        "profile: full fetches its 3B policy (policy/) and nvidia/ToolScale (toolscale/) here.\n")
    return provenance


def obtain_packaged_backbone(packaged: PackagedGGUF, out_dir: Path) -> dict[str, Any]:
    """Locate the GGUF in its installed package, verify its pinned sha256, convert it once."""
    gguf_path = locate(packaged)
    digest = verify_sha256(gguf_path, packaged.sha256)
    conversion = convert_gguf(gguf_path, out_dir)
    return {"name": packaged.name, "source": f"PyPI package module {packaged.module} ({packaged.install})",
            "file": gguf_path.name, "bytes": gguf_path.stat().st_size, "sha256": digest,
            "license": packaged.license, "converted_to": relative(out_dir), **conversion}


def fetch_worker_models(models: list[dict[str, Any]]) -> dict[str, Any]:
    """Packaged GGUF worker models (e.g. Gemma-3-270M from its chunk packages), assembled into
    WORKER_MODELS_DIR and sha256-checked; a LocalHFPool worker loads the .gguf path directly."""
    shutil.rmtree(WORKER_MODELS_DIR, ignore_errors=True)
    WORKER_MODELS_DIR.mkdir(parents=True)
    out = {}
    for cfg in models:
        packaged = PackagedGGUF.from_dict(cfg)
        path = locate(packaged, assemble_into=WORKER_MODELS_DIR)
        if path.parent != WORKER_MODELS_DIR:  # a single-file package: copy it beside the others
            path = Path(shutil.copy2(path, WORKER_MODELS_DIR / packaged.filename))
        out[packaged.name] = {"file": relative(path), "bytes": path.stat().st_size,
                              "sha256": verify_sha256(path, packaged.sha256), "license": packaged.license,
                              "source": f"PyPI package module {packaged.module} ({packaged.install})",
                              "chunks": len(packaged.parts)}
    return out


def fetch_full_artifacts(section: dict[str, Any]) -> None:
    """Backbone, released vector, fixture, logits snapshot, the Conductor's policy and ToolScale from their
    sources (or local paths), all or nothing: every one missing is named with its params key."""
    wanted = []
    for name in FULL_ARTIFACTS:
        cfg = dict(section[name])
        cfg["filenames"] = tuple(cfg.get("filenames") or ())
        wanted.append((Source(name=name, supply_key=f"fetch.full.{name}.path", **cfg), _destination(name, cfg)))
    obtain_all(wanted)
    load_fixture(FIXTURE_FILE)  # refuses a file not in the reference format, naming it
    load_snapshot(LOGITS_SNAPSHOT_FILE)  # likewise for the logits snapshot


FULL_ARTIFACTS = ("backbone", "vector", "fixture", "logits_snapshot", "conductor_policy", "toolscale")


def _destination(name: str, cfg: dict[str, Any]) -> Path:
    if name == "backbone":
        return BACKBONE_DIR
    if name == "conductor_policy":
        return CONDUCTOR_FETCHED_POLICY
    if name == "toolscale":
        return TOOLSCALE_DIR
    if name == "fixture":
        return FIXTURE_FILE
    if name == "logits_snapshot":
        return LOGITS_SNAPSHOT_FILE
    # The vector keeps its format's suffix (.npy, or the port's .safetensors); both load.
    suffix = Path(cfg.get("path") or (cfg["filenames"] or ("vector.npy",))[0]).suffix or ".npy"
    return VECTOR_DIR / f"vector{suffix}"


def fetch_routing_data(cfg: dict[str, Any], subset: dict[str, int] | None, out_dir: Path = ROUTING_DIR) -> dict[str, Any]:
    """Build artifacts/fetch/routing (or ``out_dir``: a benchmark's scratch copy) from the data folder
    in the repo (data/routing); its metrics.

    The pool is ``cfg["pool"]``: a name of ``cfg["pools"]``, a list of models, or a listed file's
    name (fugu/data/pool.py); ``subset`` is questions per split (None: all). A missing folder, file,
    column, price or pool model stops the stage naming it.
    """
    files = [item.file for item in read_listing(ROUTING_DATA_DIR / "README.md")]
    try:
        pool = resolve_pool(cfg["pool"], cfg.get("pools") or {}, files)
    except PoolError as exc:
        raise SystemExit(f"fetch: {exc}") from None
    prepared = prepare_outcomes(
        ROUTING_DATA_DIR, out_dir, dict(cfg["fractions"]), int(cfg["split_seed"]),
        formats=cfg.get("formats") or {}, models=list(pool.models) if pool.models else None,
        data_dir_label=relative(ROUTING_DATA_DIR), pool_name=pool.name, subset=subset,
        prices=cfg.get("prices") or {}, tokenizer_model=cfg["tokenizer"], pool_file=pool.file,
    )
    return prepared.metrics


if __name__ == "__main__":
    main()
