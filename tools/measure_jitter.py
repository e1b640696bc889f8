"""Measure how far every checked bound moves when the computation changes, and write the jitter table.

A verdict must not depend on which CPU produced it. Float results differ by instruction set and
thread count, and training runs amplify the difference, so each interval moves a little from one
machine to another. This measures how far, on perturbations of the *computation* — never of the
final metrics: the whole pipeline is rerun in fresh copies (``tools/run_profile.py``) on the
committed numeric path and on each perturbation (another thread count; the CPU's native
instruction set instead of the pinned AVX2 path), and for every claim the largest shift of a
bound between the runs, times ``verify.jitter.SAFETY_FACTOR``, becomes its jitter in
``results/<profile>/jitter.yaml``. Each run's verdicts and run record are kept beside it as the
evidence (``results/<profile>/jitter_runs/<name>/``).

    python -m tools.measure_jitter --profile tiny
    python -m tools.measure_jitter --profile tiny --from-kept   # rewrite the table from the kept runs only
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from tools.run_profile import ROOT, commit_of, cpu_description
from tools.run_profile import main as run_profile
from verify.jitter import SAFETY_FACTOR, jitter_file, jitter_table
from verify.verdicts import read_verdicts

# name → params overrides: the committed path, then each perturbation of the computation
PERTURBATIONS = {
    "committed": {},
    "one-thread": {"numerics.threads": "1"},
    "native-isa": {"numerics.pin": "false"},
}


def reusable(run_dir: Path, commit: str) -> bool:
    """A kept run may stand in for a new one only if it ran this commit's code on a clean tree: a run of
    other code measures other numbers, and the table would name a commit its runs never ran (resuming an
    interrupted measurement is what reuse is for)."""
    if not (run_dir / "verdicts.json").exists() or not (run_dir / "run.json").exists():
        return False
    ran = json.loads((run_dir / "run.json").read_text()).get("commit", "")
    return ran == commit and "uncommitted" not in commit


def measure(profile: str, runs_dir: Path, from_kept: bool = False) -> dict[str, object]:
    """Run every perturbation (or reuse a run already collected in ``runs_dir`` at this very commit) and
    tabulate. ``from_kept``: run nothing, tabulate the kept runs (they must all have run one commit,
    which the table then names): for a change in how the table is written, not in what it measures."""
    collected = {}
    for name, overrides in PERTURBATIONS.items():
        out = runs_dir / name
        if from_kept:
            if not (out / "verdicts.json").exists():
                raise SystemExit(f"--from-kept: no kept run {out}; run without --from-kept")
        elif not reusable(out, commit_of()):
            sets = [f"profile={profile}", *(f"{k}={v}" for k, v in overrides.items())]
            scratch = Path(tempfile.mkdtemp(prefix=f"jitter-{name}-"))
            run_profile(["--out", str(scratch), *sum((["--set", s] for s in sets), [])])
            out.mkdir(parents=True, exist_ok=True)
            for keep in ("verdicts.json", "run.json"):
                shutil.copy2(scratch / keep, out / keep)
            shutil.rmtree(scratch, ignore_errors=True)
        collected[name] = read_verdicts(out / "verdicts.json")
    runs = {name: json.loads((runs_dir / name / "run.json").read_text()) for name in PERTURBATIONS}
    commits = {run.get("commit") for run in runs.values()}
    if from_kept and len(commits) != 1:
        raise SystemExit(f"--from-kept: the kept runs ran different commits {sorted(map(str, commits))}")
    return {
        "profile": profile,
        "measured": {"commit": commits.pop() if from_kept else commit_of(), "cpu": cpu_description(),
                     "date": time.strftime("%Y-%m-%d", time.gmtime())},
        "how": ("the whole pipeline rerun in fresh copies on each perturbation of the computation; per claim the "
                "largest shift of an interval bound (or exact number) between runs; jitter = shift × safety_factor"),
        "safety_factor": SAFETY_FACTOR,
        "runs": {name: {"overrides": PERTURBATIONS[name], "fingerprint": (runs[name].get("numerics") or {}).get("fingerprint"),
                        "wall_s": runs[name].get("wall_s")} for name in PERTURBATIONS},
        "claims": jitter_table(list(collected.values())),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--from-kept", action="store_true", help="tabulate the kept runs in jitter_runs/, run nothing")
    args = parser.parse_args(argv)
    runs_dir = ROOT / "results" / args.profile / "jitter_runs"
    table = measure(args.profile, runs_dir, args.from_kept)
    path = jitter_file(args.profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Measured cross-CPU jitter of every checked number (tools/measure_jitter.py): the borderline band\n"
              "# verify/decision.py uses. Rewritten by `make jitter`; the runs it comes from are in jitter_runs/.\n")
    path.write_text(header + yaml.safe_dump(table, sort_keys=False, width=110))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
