"""Write a profile's committed verdict table from the verdicts a run produced.

``results/<profile>/results.json`` holds the numbers the README quotes (the central answer, the
counts, every router's accuracy and gains with intervals, cost, per category and per seed), and
``results/<profile>/verdicts.yaml``, per claim, the verdict and every checked number (the
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

from claims import CLAIMS_DIR, record_digest
from reports.summary import CENTRAL_CLAIM, QUESTION, central_answer, outcome_counts
from tools.run_profile import ROOT, commit_of, cpu_description
from verify.verdicts import Verdict, read_verdicts


def table_path(profile: str, root: Path = ROOT) -> Path:
    return root / "results" / profile / "verdicts.yaml"


def row(verdict: Verdict, claims_dir: Path = CLAIMS_DIR) -> dict[str, Any]:
    """The verdict, its checked numbers and tolerance, and the digest of the claim record it judged
    (when that record is in ``claims_dir``)."""
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
    digest = record_digest(verdict.claim_id, claims_dir)
    if digest is not None:
        entry["record"] = digest
    return entry


# eval's experiments beside the router comparison whose headline numbers the docs quote
EXPERIMENTS = {
    "adaptive_pool": ("pool", "headline_sizes", "accuracy", "vs_unaware", "vs_blind", "vs_best_single_available",
                      "gain_over_blind", "oracle_gain_over_blind", "fraction_of_oracle", "n_test_questions", "seeds"),
    "recursion_real": ("round0_accuracy", "round1_accuracy", "accuracy_delta", "revised_fraction", "fixed", "broken",
                       "responses_cut", "responses_missing", "n_questions", "seeds"),
}


def results_summary(profile: str, verdicts: list[Verdict], metrics_dir: Path, produced: dict[str, Any]) -> dict[str, Any]:
    """The numbers the README quotes for a profile: the central answer, the verdict counts, and
    every router's accuracy, gain over best single (relative and in points, with intervals),
    gap closed, estimated cost, per category and per seed — from the eval stage's routing section — and
    the headline numbers of eval's other experiments on real outcomes (``EXPERIMENTS``)."""
    evaluated = json.loads((metrics_dir / "eval.json").read_text())["metrics"]
    routing = evaluated["routing"]
    by_id = {v.claim_id: v for v in verdicts}
    keep = ("accuracy", "relative_gain", "gain", "gap_closed", "estimated_usd_per_1k", "per_category", "worker")
    return {
        "profile": profile, "produced": produced, "question": QUESTION,
        "central_answer": central_answer(by_id.get(CENTRAL_CLAIM), routing),
        "counts": outcome_counts(verdicts),
        "routing": {"pool": routing.get("pool"), "subset": routing.get("subset"), "seeds": routing.get("seeds"),
                    "n_train": routing["n_train"], "n_validation": routing["n_validation"], "n_test": routing["n_test"],
                    "routers": {name: {k: entry[k] for k in keep if k in entry}
                                for name, entry in routing["routers"].items()},
                    "cost_note": routing.get("cost_note")},
        "experiments": {name: {k: evaluated[name][k] for k in keys if k in evaluated[name]}
                        for name, keys in EXPERIMENTS.items() if name in evaluated},
    }


SLACK = 1e-6  # the table rounds numbers to 6 decimals


def table_differences(expected: dict, produced: dict) -> list[str]:
    """Every claim whose verdict differs, or whose estimate or bound moved beyond its tolerance.

    ``borderline`` qualifies an inconclusive verdict (a bound near a boundary) and is not compared:
    a bound that moves within its tolerance may leave the band while the verdict stays the same."""
    problems = [f"{c}: in the table but not produced" for c in sorted(set(expected) - set(produced))]
    problems += [f"{c}: produced but not in the table" for c in sorted(set(produced) - set(expected))]
    for claim in sorted(set(expected) & set(produced)):
        row, verdict = expected[claim], produced[claim]
        if row["verdict"] != verdict.outcome:
            problems.append(f"{claim}: {row['verdict']}{' (borderline)' if row.get('borderline') else ''} -> "
                            f"{verdict.outcome}{' (borderline)' if verdict.borderline else ''}: {verdict.reason}")
        tolerance = row.get("tolerance", 0.0) + SLACK
        numbers = [("estimate", row.get("estimate"), verdict.measured)]
        if row.get("interval") is not None:
            numbers += list(zip(("low", "high"), row["interval"], verdict.interval or [None, None]))
        for name, want, got in numbers:
            if want is not None and (got is None or abs(got - want) > tolerance):
                problems.append(f"{claim}: {name} {got} is not within {tolerance:g} of the committed {want}")
    return problems


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
    run = metrics_dir.parent / "run.json"
    produced = {**table["produced"], **({"wall_s": json.loads(run.read_text()).get("wall_s")} if run.exists() else {})}
    summary = results_summary(profile, verdicts, metrics_dir, produced)
    (path.parent / "results.json").write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


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
