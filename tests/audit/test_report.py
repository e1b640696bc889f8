"""The audit report renders every verdict kind, inlines its plots, and links to nothing outside."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from claims import load_claims
from reports.render import Curve, Environment, declared_curves, load_curve, render_report
from verify.verdicts import OUTCOMES, Verdict

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = Environment("abc123", {"python": "3.11"}, {"profile": "tiny"}, {"artifacts/x": "0" * 64})


def verdicts_cycling_outcomes() -> list[Verdict]:
    """One verdict per claim, cycling through every outcome so each kind is rendered."""
    claims = load_claims()
    verdicts = []
    for i, claim in enumerate(claims):
        outcome = OUTCOMES[i % len(OUTCOMES)]
        measured = None if outcome in ("not_run", "error") else 0.5
        verdicts.append(Verdict(claim.id, outcome, f"reason for {outcome}", "metrics/eval.json:k", ">= 1",
                                measured, "tiny", "what it shows", ["reduced scale"]))
    return verdicts


@pytest.fixture()
def curve(tmp_path) -> Curve:
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots/c.csv").write_text("step,mean_reward\n0,0.1\n1,0.3\n2,0.4\n")
    return load_curve(tmp_path, "train_conductor", "plots/c.csv", "step", "mean_reward")


def render(curves: list[Curve]) -> str:
    return render_report(load_claims(), verdicts_cycling_outcomes(), curves, ENVIRONMENT, "tiny")


def test_report_renders_every_verdict_kind(curve):
    html = render([curve])
    for label in ("reproduced (full scale)", "reproduced at reduced scale", "not reproduced", "not run", "error"):
        assert label in html
    for claim in load_claims():
        assert f'id="claim-{claim.id}"' in html


def test_report_has_no_external_url(curve):
    html = render([curve])
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE)
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert all(s.startswith("data:") or s.startswith("#") for s in sources)
    assert "<script" not in html and "<link" not in html


def test_curve_is_inlined_as_png(curve):
    assert curve.rows == 3
    assert f"data:image/png;base64,{curve.png_base64}" in render([curve])


def test_empty_curve_says_no_data(tmp_path):
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots/e.csv").write_text("step,mean_reward\n")
    empty = load_curve(tmp_path, "train_conductor", "plots/e.csv", "step", "mean_reward")
    assert empty.png_base64 is None
    assert "No data" in render([empty])


def test_every_declared_curve_is_found_in_dvc_yaml():
    files = [file for _, file, *_ in declared_curves(ROOT / "dvc.yaml")]
    assert "plots/train_trinity_fitness.csv" in files and "plots/train_conductor_reward.csv" in files


def test_missing_verdict_is_an_error():
    with pytest.raises(ValueError, match="no verdict"):
        render_report(load_claims(), verdicts_cycling_outcomes()[1:], [], ENVIRONMENT, "tiny")


def test_report_shows_environment(curve):
    html = render([curve])
    assert "abc123" in html and "artifacts/x" in html and "profile: tiny" in html


def test_a_scatter_curve_from_a_mock_says_so_in_its_title(tmp_path, monkeypatch):
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots/s.csv").write_text("router,cost,accuracy,data\nrandom,0.5,0.3,simulated pool (mock)\n"
                                          "oracle,0.4,0.9,simulated pool (mock)\n")
    titles, labels = [], []
    monkeypatch.setattr("matplotlib.axes.Axes.set_title", lambda self, t, **kw: titles.append(t))
    monkeypatch.setattr("matplotlib.axes.Axes.annotate", lambda self, text, *a, **kw: labels.append(text))
    curve = load_curve(tmp_path, "eval", "plots/s.csv", "cost", "accuracy", template="scatter")
    assert curve.rows == 2 and curve.png_base64
    assert titles == ["eval: s\nsimulated pool (mock)"]
    assert labels == ["random", "oracle"]


def test_every_record_has_one_card_with_source_evidence_verdict_and_meaning(curve):
    html = render([curve])
    claims = load_claims()
    assert html.count('<div class="card ') == len(claims)
    for claim in claims:
        card = html.split(f'id="claim-{claim.id}"')[1].split('<div class="card ')[0]
        assert "<th>source</th>" in card and "<th>their evidence</th>" in card and "<th>our verdict</th>" in card
        assert claim.their_evidence.kind in card


def test_a_reduced_card_shows_what_was_checked_before_the_published_claim(curve):
    html = render([curve])
    card = html.split('id="claim-selftest-agent"')[1].split('<div class="card ')[0]
    assert card.index("What was checked here") < card.index("The published claim")


def test_the_claims_doc_lists_every_record():
    doc = (ROOT / "docs/claims.md").read_text()
    for claim in load_claims():
        assert f"| {claim.id}" in doc, f"docs/claims.md has no row for {claim.id}: regenerate it (see its header)"
