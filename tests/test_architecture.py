"""The architecture as a test: imports point one way, and no stage reaches into another.

    types, pipeline_paths → data, models, stats → routing, pools → trinity, conductor → training → evaluation, serving → cli

A module may import its own package and any package of a *lower* layer, never a peer or a
higher one. ``fugu`` never imports the pipeline (stages, verify, reports, claims, benchmarks).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_graph import ROOT, imported_modules, module_name

LAYERS = {
    "fugu.types": 0, "fugu.pipeline_paths": 0,
    "fugu.data": 1, "fugu.models": 1, "fugu.stats": 1,
    "fugu.routing": 2, "fugu.pools": 2,
    "fugu.trinity": 3, "fugu.conductor": 3,
    "fugu.training": 4,
    "fugu.evaluation": 5, "fugu.serving": 5,
    "fugu.cli": 6,
}
STAGE_SHARED = {"stages.builders", "stages.common", "stages.numeric_path", "stages.paths"}


def unit(module: str) -> str:
    """The layer unit a module belongs to: ``fugu.trinity.svf`` → ``fugu.trinity``."""
    parts = module.split(".")
    return module if module == "fugu" else ".".join(parts[:2])


def library_files() -> list[Path]:
    return sorted((ROOT / "fugu").rglob("*.py"))


def test_every_library_unit_has_a_layer():
    units = {unit(module_name(p)) for p in library_files()} - {"fugu"}
    assert units <= set(LAYERS), f"packages without a layer: {sorted(units - set(LAYERS))}"


@pytest.mark.parametrize("path", library_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_library_imports_point_down(path: Path):
    source = unit(module_name(path))
    wrong = []
    for target in imported_modules(path):
        if not target.startswith("fugu"):
            wrong.append(f"{target} (the library never imports the pipeline)")
            continue
        target_unit = unit(target)
        if target_unit in ("fugu", source):
            continue
        if LAYERS[target_unit] >= LAYERS.get(source, -1):
            wrong.append(f"{target} (layer {LAYERS[target_unit]} ≥ {LAYERS.get(source)})")
    assert not wrong, f"{module_name(path)} imports upward or sideways: {wrong}"


@pytest.mark.parametrize("path", sorted((ROOT / "stages").glob("*.py")), ids=lambda p: p.name)
def test_no_stage_imports_another_stage(path: Path):
    name = module_name(path)
    allowed = {"stages.paths"} if name in STAGE_SHARED else STAGE_SHARED
    reached = {m for m in imported_modules(path) if m.startswith("stages.")}
    assert reached <= allowed, f"{name} imports {sorted(reached - allowed)}"
