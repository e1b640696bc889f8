"""report: run the claim checks (``pytest verify``) and render the evidence-graded HTML report.

A claim that is contradicted is a finding, not a pipeline failure: pytest's exit code 1
(some checks failed) is accepted; any other non-zero code (collection error, usage error)
stops the stage. The medium profile is run once and committed under ``results/medium/``; its
verdicts and routing numbers are shown beside this run's when present, and the report says it
has not been run when absent.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from claims import load_claims
from fugu.data.checksum import sha256_file
from reports.render import (
    Environment,
    ProfileResults,
    artifacts_from_metrics,
    claims_markdown,
    declared_curves,
    load_curve,
    render_report,
)
from stages.common import open_stage, package_versions, write_metrics
from stages.paths import (
    CLAIMS_TABLE,
    MEDIUM_EVAL_METRICS,
    MEDIUM_RUN,
    MEDIUM_TABLE,
    MEDIUM_VERDICTS,
    PARAMS_FILE,
    REPORT_HTML,
    ROOT,
    VERDICTS,
    metrics_file,
    relative,
)
from verify.schemas import declared_metrics_files
from verify.verdicts import OUTCOMES, judged_records, read_verdicts, still_standing

PYTEST_TESTS_FAILED = 1


def run_verify(verdicts_out: Path) -> None:
    command = [
        sys.executable, "-m", "pytest", "verify/test_claims.py", "-q", "-rs",
        "-p", "no:cacheprovider", f"--verdicts-out={verdicts_out}",
    ]
    code = subprocess.run(command, cwd=ROOT).returncode
    if code not in (0, PYTEST_TESTS_FAILED):
        raise SystemExit(f"pytest verify exited with {code}: the claim checks could not run")


def evidence_digest(files: list[Path]) -> str:
    """sha256 over the metrics files and params the report renders (not the git revision: the
    report is a DVC out, so it must be a function of its inputs alone; dvc.lock ties those to code)."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{relative(file)}\0{sha256_file(file)}\0".encode())
    return digest.hexdigest()[:16]


def routing_section(eval_metrics: Path) -> dict[str, Any] | None:
    """``metrics.routing`` of an eval metrics file (the central answer's numbers), None when absent."""
    if not eval_metrics.exists():
        return None
    routing = json.loads(eval_metrics.read_text()).get("metrics", {}).get("routing")
    return routing if isinstance(routing, dict) else None


def medium_results(profile: str, verdicts: Path = MEDIUM_VERDICTS, eval_metrics: Path = MEDIUM_EVAL_METRICS,
                   run: Path = MEDIUM_RUN, table: Path = MEDIUM_TABLE) -> ProfileResults | None:
    """The committed medium run, or None when it has not been run (or this run is the medium one:
    its verdicts are then this run's own). A verdict on a claim record edited since the run is shown
    as stale, never as a verdict on the claim as it now reads."""
    if profile == "medium" or not verdicts.exists():
        return None
    record = json.loads(run.read_text()) if run.exists() else None
    standing = still_standing(read_verdicts(verdicts), judged_records(table), "the medium profile (`make medium`)")
    return ProfileResults("medium", standing, routing_section(eval_metrics), record)


def main() -> None:
    params, _, _ = open_stage("report")
    run_verify(VERDICTS)

    claims = load_claims()
    verdicts = read_verdicts(VERDICTS)
    curves = [load_curve(ROOT, *spec) for spec in declared_curves(ROOT / "dvc.yaml")]
    metrics_files = [f for f in declared_metrics_files() if Path(f).stem != "report"]
    medium = medium_results(params["profile"])
    medium_files = [f for f in (MEDIUM_VERDICTS, MEDIUM_EVAL_METRICS, MEDIUM_RUN, MEDIUM_TABLE) if medium and f.exists()]
    environment = Environment(
        evidence_digest=evidence_digest([ROOT / f for f in metrics_files] + [PARAMS_FILE] + medium_files),
        versions=package_versions(),
        params=params,
        artifacts=artifacts_from_metrics(ROOT, metrics_files),
    )
    html = render_report(claims, verdicts, curves, environment, params["profile"],
                         routing_section(metrics_file("eval")), medium)
    REPORT_HTML.parent.mkdir(parents=True, exist_ok=True)
    REPORT_HTML.write_text(html)
    CLAIMS_TABLE.write_text(claims_markdown(claims, verdicts, f"{params['profile']} profile, evidence digest {environment.evidence_digest}",
                                     medium.verdicts if medium else None))

    counts = {o: sum(v.outcome == o for v in verdicts) for o in OUTCOMES}
    write_metrics("report", params["profile"], {"verdicts": counts, "claims": len(claims)}, artifacts={})
    print(f"wrote {relative(REPORT_HTML)}: " + ", ".join(f"{n} {o}" for o, n in counts.items()))


if __name__ == "__main__":
    main()
