"""DVC deps that cannot go stale: every stage depends on all the project code it runs.

A stage's import closure (static, :mod:`tests.import_graph`), with that of the runner that starts
it (``stages/__main__.py``), must be covered by its ``deps`` in ``dvc.yaml``: a file, or a package
folder holding it. Every Python file listed on its own must be in that closure, and every folder of
code must hold at least one file of it, so touching a file a stage runs always reruns it; a folder
dep may also rerun it for a sibling it does not import (a safe over-approximation, taken where the
stage imports most of a package). Its params must be the sections its code (and the runner's) reads.
Run this file as a script to print the files each stage imports.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.import_graph import ROOT, import_closure

DVC = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
# Code a stage runs in a subprocess, not by import: (what the code it imports names, its entry files).
SUBPROCESS_ENTRIES = {
    "serve_e2e": ('"fugu.cli"', ["fugu/cli.py"]),
    "report": ('"verify/test_claims.py"', ["verify/test_claims.py", "verify/conftest.py"]),
}


RUNNER = ROOT / "stages/__main__.py"  # every stage's entry point: the numeric path, then the stage


def stage_module(stage: dict) -> Path:
    match = re.fullmatch(r"python -m stages (\w+)", stage["cmd"])
    assert match, f"stage command {stage['cmd']!r} is not `python -m stages <name>`"
    return ROOT / "stages" / f"{match.group(1)}.py"


def code_closure(name: str) -> set[str]:
    """The stage module's closure and the runner's, which starts it by name (runpy), not by import."""
    closure = {p for entry in (stage_module(DVC[name]), RUNNER) for p in import_closure(entry)}
    if name in SUBPROCESS_ENTRIES:
        named, files = SUBPROCESS_ENTRIES[name]
        assert any(named in p.read_text() for p in closure), f"stage {name} no longer launches {named}"
        closure |= {p for f in files for p in import_closure(ROOT / f)}
    return {str(p.relative_to(ROOT)) for p in closure}


def deps(stage: dict) -> list[str]:
    return [str(d) for d in stage.get("deps", [])]


def covered(file: str, listed: list[str]) -> bool:
    return any(file == d or file.startswith(d.rstrip("/") + "/") for d in listed)


@pytest.mark.parametrize("name", sorted(DVC))
def test_stage_deps_cover_every_file_it_imports(name: str):
    missing = sorted(f for f in code_closure(name) if not covered(f, deps(DVC[name])))
    assert not missing, f"dvc.yaml stage {name} does not depend on code it runs: {missing}"


@pytest.mark.parametrize("name", sorted(DVC))
def test_stage_lists_no_python_it_does_not_import(name: str):
    closure = code_closure(name)
    extra = [d for d in deps(DVC[name]) if d.endswith(".py") and d not in closure]
    assert not extra, f"dvc.yaml stage {name} depends on Python it never imports: {extra}"


@pytest.mark.parametrize("name", sorted(DVC))
def test_a_folder_of_code_is_a_dep_only_where_the_stage_imports_some_of_it(name: str):
    closure = code_closure(name)
    folders = [d for d in deps(DVC[name]) if (ROOT / d).is_dir() and any((ROOT / d).rglob("*.py"))]
    unused = [d for d in folders if not any(covered(f, [d]) for f in closure)]
    assert not unused, f"dvc.yaml stage {name} depends on code folders it imports nothing from: {unused}"


def read_sections(path: Path) -> set[str]:
    """Top-level params sections a stage reads: ``params["x"]``, ``stage_params(params, "x")``, ``open_stage("x")``
    (a stage's own section is optional: ``open_stage`` reads it only where params.yaml has one)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "params"
                and isinstance(node.slice, ast.Constant)):
            found.add(node.slice.value)
        if (isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("stage_params", "simulated_world", "open_stage")):
            if node.func.id == "open_stage":  # the preamble reads the profile, the threads and the stage's own section
                found.update({"profile", "numerics"} | ({node.args[0].value} & set(PARAMS)))
            elif node.func.id == "simulated_world":
                found.update({"simulated_pool", "simulated_split"})
            elif len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                found.add(node.args[1].value)
    return found


@pytest.mark.parametrize("name", sorted(DVC))
def test_stage_params_are_the_sections_it_reads(name: str):
    declared = {str(p).split(".")[0] for p in DVC[name].get("params", [])}
    assert declared == read_sections(stage_module(DVC[name])) | read_sections(RUNNER), name


def reads_provenance(path: Path) -> bool:
    """Whether a stage reads configs/provenance.yaml (``load_provenance`` or ``PROVENANCE_FILE``)."""
    return any(isinstance(node, ast.Name) and node.id in ("load_provenance", "PROVENANCE_FILE")
               for node in ast.walk(ast.parse(path.read_text())))


@pytest.mark.parametrize("name", sorted(DVC))
def test_a_stage_depends_on_the_provenance_file_exactly_when_it_reads_it(name: str):
    from stages.paths import PROVENANCE_FILE, relative

    listed = relative(PROVENANCE_FILE) in deps(DVC[name])
    assert listed == reads_provenance(stage_module(DVC[name])), name


def test_the_runner_runs_exactly_the_dvc_stages():
    from stages.__main__ import stage_names

    assert stage_names() == sorted(DVC)


def placeholder_outputs(project: Path) -> None:
    """An empty file or folder at every out, so ``dvc commit`` can record the deps as they are."""
    for stage in DVC.values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []):
                path = project / (next(iter(entry)) if isinstance(entry, dict) else entry)
                if path.suffix:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text("{}\n")
                else:
                    path.mkdir(parents=True, exist_ok=True)
                    (path / "placeholder").write_text("")


def test_touching_an_imported_file_marks_every_stage_that_imports_it(tmp_path: Path):
    """`dvc status` itself (not our model of it): after a copy's lock records the deps as they are, a
    touched library file changes the deps of every stage that imports it. A folder dep may also flag a
    stage that imports only the file's siblings (a safe over-approximation); no other stage is flagged."""
    from tools.run_profile import project_files

    dvc = shutil.which("dvc", path=str(Path(sys.executable).parent))
    assert dvc, "dvc is installed with the project"
    copy = tmp_path / "copy"
    for file in project_files(ROOT):
        (copy / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / file, copy / file)
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    placeholder_outputs(copy)
    subprocess.run([dvc, "commit", "--force", "--quiet"], cwd=copy, check=True)
    touched = "fugu/data/graders.py"
    with open(copy / touched, "a") as fh:
        fh.write("\n# touched\n")
    status = subprocess.run([dvc, "status", "--json"], cwd=copy, capture_output=True, text=True, check=True)
    import json

    report = json.loads(status.stdout or "{}")
    flagged = {
        stage for stage, changes in report.items()
        if any(covered(touched, [*c.get("changed deps", {})]) for c in changes if isinstance(c, dict))
    }
    importing = {name for name in DVC if touched in code_closure(name)}
    assert importing, f"no stage imports {touched}; pick another file for this test"
    assert importing <= flagged
    assert flagged == {name for name, stage in DVC.items() if covered(touched, deps(stage))}


def test_the_committed_lock_records_the_code_and_params_as_committed():
    """The fast lane's guard for what only the slow pipeline test would catch: a commit that edits code
    or params a stage depends on must re-run that stage (``make repro``) and commit ``dvc.lock``. Only
    git-tracked deps are judged (a checkout without the pipeline's outputs lacks the rest)."""
    import json

    dvc = shutil.which("dvc", path=str(Path(sys.executable).parent))
    assert dvc, "dvc is installed with the project"
    tracked = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.split())
    status = subprocess.run([dvc, "status", "--json"], cwd=ROOT, capture_output=True, text=True, check=True)
    stale = sorted(
        f"{stage}: {kind} {path}"
        for stage, changes in json.loads(status.stdout or "{}").items()
        for change in changes if isinstance(change, dict)
        for kind in ("changed deps", "changed params")
        for path, state in change.get(kind, {}).items()
        if kind == "changed params" or (state == "modified" and (path in tracked or any(
            f.startswith(path.rstrip("/") + "/") for f in tracked)))
    )
    assert not stale, "dvc.lock is stale: run `make repro` and commit dvc.lock\n" + "\n".join(stale)


if __name__ == "__main__":
    for stage_name in DVC:
        print(stage_name)
        for file in sorted(code_closure(stage_name)):
            print(f"      - {file}")
