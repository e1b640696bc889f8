"""The committed jitter bands belong to the metrics the claims read now: a band measured on another
metric (a claim whose check changed since ``make jitter``) is never used as this claim's band."""

from __future__ import annotations

import json

import pytest
import yaml

from claims import load_claims
from verify.jitter import claim_metrics, jitter_entries, jitter_file, jitter_for

PROFILES = [p for p in ("tiny", "medium") if jitter_file(p).exists()]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_committed_band_was_measured_on_the_metric_its_claim_reads(profile):
    claims = {claim.id: claim for claim in load_claims()}
    stale = [f"{claim_id}: measured on {entry['metric']}, the claim reads {sorted(claim_metrics(claims[claim_id]))}"
             for claim_id, entry in jitter_entries(profile).items()
             if claim_id in claims and entry["metric"] not in claim_metrics(claims[claim_id])]
    assert not stale, f"results/{profile}/jitter.yaml is stale: run `make jitter`\n" + "\n".join(stale)


def test_a_band_measured_on_another_metric_is_not_used(tmp_path, monkeypatch):
    claim = next(c for c in load_claims() if c.reduced is not None and c.reduced.metric is not None)
    metric = claim.metric or claim.reduced.metric
    (tmp_path / metric.file).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / metric.file).write_text(json.dumps({"profile": "tiny"}))
    table = tmp_path / "jitter.yaml"
    monkeypatch.setattr("verify.jitter.jitter_file", lambda profile, root=None: table)
    current = sorted(claim_metrics(claim))[0]
    table.write_text(yaml.safe_dump({"claims": {claim.id: {"metric": current, "jitter": 0.05}}}))
    assert jitter_for(tmp_path, claim) == {claim.id: 0.05}
    table.write_text(yaml.safe_dump({"claims": {claim.id: {"metric": "metrics/eval.json:an.old.key", "jitter": 0.05}}}))
    assert jitter_for(tmp_path, claim) == {}
