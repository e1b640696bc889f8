"""One test per claim record: pass when reproduced, fail when contradicted, skip (with why) when
inconclusive or not run, fail loudly on an error.

Also validates every metrics file present, so a malformed one fails loudly by name even
when no claim reads it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claims import Claim, load_claims
from verify.jitter import jitter_for
from verify.schemas import declared_metrics_files, load_metrics
from verify.verdicts import Verdict, judge

CLAIMS = load_claims()
METRICS_FILES = declared_metrics_files()


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim(claim: Claim, metrics_root: Path, verdict_log: list[Verdict]) -> None:
    verdict = judge(claim, metrics_root, jitter_for(metrics_root, claim))
    verdict_log.append(verdict)
    if verdict.outcome == "not_run":
        pytest.skip(f"not run: {verdict.reason}")
    if verdict.outcome == "inconclusive":
        pytest.skip(f"inconclusive{' (borderline)' if verdict.borderline else ''}: {verdict.reason}")
    if verdict.outcome == "error":
        pytest.fail(f"error: {verdict.reason}", pytrace=False)
    if verdict.outcome == "contradicted":
        pytest.fail(f"{claim.id} contradicted ({verdict.why}): {verdict.reason}", pytrace=False)


@pytest.mark.parametrize("file", METRICS_FILES)
def test_metrics_file_matches_schema(file: str, metrics_root: Path) -> None:
    path = metrics_root / file
    if not path.exists():
        pytest.skip(f"{path} not produced yet (run `dvc repro`)")
    load_metrics(path)
