"""A committed verdict judged a claim record as it read then: once the record is edited, the other
profile's verdict is shown as stale (not run, saying why), never as a verdict on the claim as it reads now."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from claims import CLAIMS_DIR, record_digest
from reports.verdict_text import verdict_label
from stages.report import medium_results
from tests.report_fixtures import verdict
from verify.verdicts import still_standing, write_verdicts


def copy_claim(tmp_path: Path, claim_id: str) -> Path:
    shutil.copy(CLAIMS_DIR / f"{claim_id}.yaml", tmp_path / f"{claim_id}.yaml")
    return tmp_path / f"{claim_id}.yaml"


def test_a_verdict_stands_while_its_record_is_unchanged_and_is_stale_after_an_edit(tmp_path):
    path = copy_claim(tmp_path, "conductor-grpo")
    judged = {"conductor-grpo": record_digest("conductor-grpo", tmp_path)}
    before = verdict("conductor-grpo", "reproduced_reduced", interval=[0.05, 0.1])
    assert still_standing([before], judged, "medium", tmp_path) == [before]
    path.write_text(path.read_text().replace("statement:", "statement: (edited)", 1))
    [after] = still_standing([before], judged, "the medium profile (`make medium`)", tmp_path)
    assert after.outcome == "not_run" and after.why == "stale" and "reproduced_reduced" in after.reason
    assert "make medium" in after.reason and verdict_label(after) == "not run (stale: its claim record changed)"


def test_a_verdict_without_a_recorded_digest_or_record_is_stale(tmp_path):
    copy_claim(tmp_path, "conductor-grpo")
    old = verdict("conductor-grpo", "contradicted", interval=[0.0, 0.01])
    gone = verdict("no-longer-a-claim", "inconclusive", interval=[-0.1, 0.1])
    assert [v.why for v in still_standing([old, gone], {}, "medium", tmp_path)] == ["stale", "stale"]


def test_the_report_reads_the_medium_tables_digests(tmp_path):
    standing = verdict("conductor-grpo", "reproduced_reduced", interval=[0.05, 0.1])
    edited = verdict("recursion-real", "not_run")
    write_verdicts([standing, edited], tmp_path / "verdicts.json")
    table = {"claims": {"conductor-grpo": {"verdict": "reproduced_reduced", "record": record_digest("conductor-grpo")},
                        "recursion-real": {"verdict": "not_run", "record": "0" * 16}}}
    (tmp_path / "verdicts.yaml").write_text(yaml.safe_dump(table))
    medium = medium_results("tiny", tmp_path / "verdicts.json", tmp_path / "none.json", tmp_path / "none.json",
                            tmp_path / "verdicts.yaml")
    assert [(v.claim_id, v.outcome, v.why) for v in medium.verdicts] == [
        ("conductor-grpo", "reproduced_reduced", standing.why), ("recursion-real", "not_run", "stale")]


def test_the_committed_medium_table_names_the_record_of_every_verdict():
    rows = yaml.safe_load((CLAIMS_DIR.parent / "results/medium/verdicts.yaml").read_text())["claims"]
    assert rows and all(len(row.get("record", "")) == 16 for row in rows.values())
