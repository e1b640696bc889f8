"""Write a profile's committed verdict table from the verdicts a run produced.

``results/<profile>/verdicts.yaml`` holds, per claim, the verdict and every checked number (the
estimate and the interval's bounds) with the tolerance it may move by on another machine: the
band the verdict itself was judged with (the measured cross-CPU jitter, or the seeds' spread,
whichever is larger). ``tests/stages/test_pipeline.py`` compares a fresh run with it; a change
beyond the tolerances, or a verdict that flips, is a reviewed diff of this file.

    python -m tools.verdict_table --profile tiny --verdicts reports/verdicts.json --metrics metrics
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from tools.run_profile import ROOT, commit_of, cpu_description
from verify.verdicts import Verdict, read_verdicts


def table_path(profile: str, root: Path = ROOT) -> Path:
    return root / "results" / profile / "verdicts.yaml"


def row(verdict: Verdict) -> dict[str, Any]:
    entry: dict[str, Any] = {"verdict": verdict.outcome}
    if verdict.borderline:
        entry["borderline"] = True
    if verdict.why:
        entry["why"] = verdict.why
    if verdict.measured is not None:
        entry["estimate"] = round(verdict.measured, 6)
    if verdict.interval is not None:
        entry["interval"] = [round(b, 6) for b in verdict.interval]
    if verdict.measured is not None:
        entry["tolerance"] = round(verdict.jitter or 0.0, 6)
    return entry


def write_table(profile: str, verdicts: list[Verdict], metrics_dir: Path, path: Path) -> None:
    features = json.loads((metrics_dir / "features.json").read_text())["metrics"]
    table = {
        "profile": profile,
        "produced": {"commit": commit_of(), "cpu": cpu_description(),
                     "numeric_fingerprint": (features.get("numerics") or {}).get("fingerprint")},
        "claims": {v.claim_id: row(v) for v in sorted(verdicts, key=lambda v: v.claim_id)},
    }
    header = (f"# The {profile} profile's verdict per claim and its checked numbers, as `dvc repro` produced them\n"
              "# (tools/verdict_table.py). tests/stages/test_pipeline.py compares a fresh run with this table: each\n"
              "# number within its tolerance (the band its verdict was judged with), each verdict equal. A claim\n"
              "# that does not hold is a finding recorded here, never a red build.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(table, sort_keys=False, width=110))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--verdicts", type=Path, default=ROOT / "reports/verdicts.json")
    parser.add_argument("--metrics", type=Path, default=ROOT / "metrics")
    args = parser.parse_args(argv)
    path = table_path(args.profile)
    write_table(args.profile, read_verdicts(args.verdicts), args.metrics, path)
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
