"""Run the whole pipeline once in a fresh copy of the project and keep what it produced.

The tiny profile lives in the working tree (``metrics/``, one ``dvc.lock``); another profile, or the
same profile on a perturbed computation, must not overwrite it. So this copies the project as a
fresh clone would hold it, sets params there (``--set profile=medium``, ``--set numerics.threads=1``),
runs ``dvc repro`` offline, and collects into ``--out``: every metrics file, the verdicts, the
report, and ``run.json`` (the commit the copy was made from, the CPU, the numeric fingerprint the
run computed, wall time per stage and in all). Used for the medium profile (committed under
``results/medium/``) and for the jitter runs (``tools/measure_jitter.py``).

    python -m tools.run_profile --set profile=medium --out results/medium
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from fugu import OFFLINE_ENV

ROOT = Path(__file__).resolve().parent.parent
COLLECTED = ("metrics", "reports/verdicts.json", "reports/audit.html", "reports/claims.md", "dvc.lock")


def project_files(root: Path = ROOT) -> list[str]:
    """Tracked and untracked-but-not-ignored files: what a fresh clone of this work would hold."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return [f for f in listed if (root / f).is_file()]


def copy_project(dest: Path, root: Path = ROOT) -> Path:
    for file in project_files(root):
        target = dest / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / file, target)
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        subprocess.run(command, cwd=dest, check=True)
    return dest


def parse_value(text: str) -> Any:
    """A --set value as YAML reads it (numbers, booleans, lists), so `threads=1` is an int."""
    return yaml.safe_load(text)


def set_params(params_file: Path, overrides: dict[str, Any]) -> None:
    """Apply dotted-key overrides to a params.yaml (``numerics.threads=1``); an unknown section is an error."""
    params = yaml.safe_load(params_file.read_text())
    for dotted, value in overrides.items():
        node = params
        *parents, leaf = dotted.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise SystemExit(f"--set {dotted}: params.yaml has no section {part!r} there")
            node = node[part]
        node[leaf] = value
    params_file.write_text(yaml.safe_dump(params, sort_keys=False, width=120))


def cpu_description() -> dict[str, Any]:
    """What CPU computed the run: model name and the instruction-set flags that change float bits."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                 platform.processor() or platform.machine())
    flags = set(info.split())
    return {"model": model, "cores": os.cpu_count(), "machine": platform.machine(),
            "isa": [f for f in ("avx2", "avx512f", "amx_bf16", "avx512_bf16") if f in flags]}


def commit_of(root: Path = ROOT) -> str:
    """The code a run ran: HEAD, marked when tracked files outside ``results/`` differ from it. The
    results files are what these tools write (a jitter measurement's first run makes the tree differ
    before its second starts), not code that could change a number."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"],
                             cwd=root, capture_output=True, text=True).stdout.strip()
    return head + ("+uncommitted changes" if changed else "")


def run_pipeline(copy: Path, env: dict[str, str]) -> float:
    """``dvc repro`` in ``copy``, its output streamed (each stage shows its own progress bar)."""
    bin_dir = str(Path(sys.executable).parent)
    full_env = {**os.environ, **OFFLINE_ENV, **env, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    full_env.pop("PYTHONPATH", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=copy, env=full_env, check=True)
    return time.perf_counter() - started


def collect(copy: Path, out: Path, meta: dict[str, Any]) -> None:
    """Copy what the run produced into ``out`` (replacing an earlier collection; other files, such
    as a README, stay) and write run.json."""
    out.mkdir(parents=True, exist_ok=True)
    for item in COLLECTED:
        target = out / Path(item).name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        source = copy / item
        if source.is_dir():
            shutil.copytree(source, out / Path(item).name)
        elif source.exists():
            shutil.copy2(source, out / Path(item).name)
    features = json.loads((copy / "metrics/features.json").read_text())["metrics"]
    timings = {p.stem: json.loads(p.read_text()) for p in sorted((copy / "metrics/timings").glob("*.json"))}
    run = {**meta, "numerics": features.get("numerics"), "stage_timings": timings}
    (out / "run.json").write_text(json.dumps(run, indent=2, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="where the run's metrics, verdicts and run.json go")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a params.yaml override, dotted (repeatable): profile=medium, numerics.threads=1")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="an environment variable")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.overrides)
    env = dict(item.split("=", 1) for item in args.env)
    scratch = Path(tempfile.mkdtemp(prefix="fugu-run-"))
    try:
        copy = copy_project(scratch / "project")
        set_params(copy / "params.yaml", {k: parse_value(v) for k, v in overrides.items()})
        print(f"running dvc repro in {copy} with {overrides or 'committed params'} {env or ''}", flush=True)
        wall = run_pipeline(copy, env)
        profile = yaml.safe_load((copy / "params.yaml").read_text())["profile"]
        collect(copy, args.out, {"profile": profile, "commit": commit_of(), "overrides": overrides, "env": env,
                                 "cpu": cpu_description(), "wall_s": round(wall, 1),
                                 "date": time.strftime("%Y-%m-%d", time.gmtime())})
        print(f"collected into {args.out} ({wall / 60:.1f} min)")
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
