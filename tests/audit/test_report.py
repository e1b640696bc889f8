"""The audit report: the central answer first, counts per profile, a forest plot of every interval,
a card per claim with its interval and why, every verdict kind rendered, nothing linked outside."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from claims import load_claims
from reports.forest import forest_panels, forest_plot, forest_rows
from reports.render import (
    OUTCOME_LABELS,
    Curve,
    Environment,
    ProfileResults,
    claims_markdown,
    declared_curves,
    load_curve,
    render_report,
)
from reports.summary import QUESTION, central_answer, literature_line, outcome_counts
from reports.verdict_text import verdict_label
from tests.report_fixtures import crafted_claims, routing_section, verdict
from verify.verdicts import OUTCOMES, Verdict

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = Environment("abc123", {"python": "3.11"}, {"profile": "tiny"}, {"artifacts/x": "0" * 64})
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tiny_verdicts() -> list[Verdict]:
    """One verdict per crafted claim, every outcome among them, intervals where verify gives one."""
    return [
        verdict("llmrouterbench-heldout-gain", "inconclusive", shape="direction", interval=[-0.106, 0.099], measured=-0.012,
                n_needed=None, meaning="TRINITY against the best single worker on held-out questions"),
        verdict("gain-effect", "contradicted", interval=[0.02, 0.3], why="smaller than claimed"),
        verdict("level-accuracy", "reproduced_reduced", shape="level", interval=[0.6, 0.9], null=0.25,
                claimed=0.8, unit="accuracy"),
        verdict("tie-margin", "inconclusive", shape="tie", interval=[-0.04, 0.06], measured=0.01, borderline=True, why="borderline",
                n_needed=900),
        verdict("sign-only", "reproduced", shape="direction", interval=[0.1, 0.2], scale="full"),
        verdict("count-exact", "error", shape=None, reason="metrics/eval.json: malformed"),
        verdict("needs-api-pool", "not_run", shape=None, reason="checkable only at full scale with the API pool"),
    ]


def medium_verdicts() -> list[Verdict]:
    return [
        verdict("llmrouterbench-heldout-gain", "contradicted", shape="direction", interval=[-0.09, -0.01], measured=-0.05,
                scale="medium", n=1200),
        verdict("gain-effect", "contradicted", interval=[0.05, 0.2], why="smaller than claimed", scale="medium"),
        verdict("count-exact", "reproduced_reduced", shape="exact", measured=3.0, why="holds", scale="medium"),
    ]


def medium_results() -> ProfileResults:
    return ProfileResults("medium", medium_verdicts(), routing_section(0.69, 0.73, (-0.05, -0.09, -0.01), 1200),
                          {"commit": "abc1234", "cpu": "16-core x86", "wall_s": 5400.0, "profile": "medium"})


@pytest.fixture()
def curve(tmp_path) -> Curve:
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots/c.csv").write_text("step,mean_reward\n0,0.1\n1,0.3\n2,0.4\n")
    return load_curve(tmp_path, "train_conductor", "plots/c.csv", "step", "mean_reward")


def render(curves: list[Curve], medium: bool = True) -> str:
    return render_report(crafted_claims(), tiny_verdicts(), curves, ENVIRONMENT, "tiny", routing_section(),
                         medium_results() if medium else None)


def card_of(html: str, claim_id: str) -> str:
    return html.split(f'id="claim-{claim_id}"')[1].split('<div class="card ')[0]


# --- the page as a whole ---------------------------------------------------------------------

def test_report_renders_every_verdict_kind(curve):
    html = render([curve])
    assert set(OUTCOME_LABELS) == set(OUTCOMES)
    for label in OUTCOME_LABELS.values():
        assert label in html
    for claim in crafted_claims():
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
        render_report(crafted_claims(), tiny_verdicts()[1:], [], ENVIRONMENT, "tiny")


def test_medium_results_named_like_the_runs_own_profile_are_an_error():
    with pytest.raises(ValueError, match="like this run's own profile"):
        render_report(crafted_claims(), tiny_verdicts(), [], ENVIRONMENT, "medium", None, medium_results())


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


# --- the summary: counts and the central answer ------------------------------------------------

def test_summary_counts_every_outcome_once_zero_included():
    counts = outcome_counts(tiny_verdicts())
    assert list(counts) == list(OUTCOMES)
    assert counts == {"reproduced": 1, "reproduced_reduced": 1, "contradicted": 1, "inconclusive": 2,
                      "not_run": 1, "error": 1}


def test_summary_table_shows_tiny_and_medium_counts_side_by_side(curve):
    summary = render([curve]).split('<section id="summary">')[1].split("</section>")[0]
    assert "<th>tiny</th><th>medium</th>" in summary
    contradicted = summary.split('<tr class="count contradicted">')[1].split("</tr>")[0]
    assert re.findall(r'<td class="n">(\d+)</td>', contradicted) == ["1", "2"]


def test_the_central_answer_comes_before_the_counts_with_each_profiles_numbers(curve):
    html = render([curve])
    assert html.index(QUESTION) < html.index('<section id="summary">')
    tiny = html.split('id="answer-tiny">')[1].split("</p>")[0]
    medium = html.split('id="answer-medium">')[1].split("</p>")[0]
    assert "Not decided at this n" in tiny and "on 120 held-out questions" in tiny
    assert medium.startswith("<b>medium:</b> No") and "on 1,200 held-out questions" in medium


def test_without_medium_results_the_report_says_the_medium_profile_has_not_run(curve):
    html = render([curve], medium=False)
    assert 'id="medium-not-run"' in html and "has not been run" in html
    assert 'id="answer-medium"' not in html and "<th>medium</th>" not in html


def test_with_medium_results_the_report_says_where_and_when_it_ran(curve):
    html = render([curve])
    assert 'id="medium-not-run"' not in html
    assert "abc1234" in html and "16-core x86" in html and "90 min" in html


@pytest.mark.parametrize("outcome, why, opening", [
    ("reproduced", "holds", "Yes — "),
    ("reproduced_reduced", "holds", "Yes — "),
    ("contradicted", "other sign", "No — "),
    ("contradicted", "smaller than claimed", "No — "),
    ("contradicted", "beyond headroom", "No — "),
    ("inconclusive", "holds 0 and the claim", "Not decided at this n — "),
])
def test_central_answer_opens_with_the_answer_its_verdict_gives(outcome, why, opening):
    answer = central_answer(verdict("llmrouterbench-heldout-gain", outcome, interval=[-0.1, 0.1], why=why, headroom=0.4,
                                    n_needed=2400), routing_section())
    assert answer.startswith(opening)
    assert "TRINITY .700 vs best single (gpt-4o) .708 on 120 held-out questions: −1.2% [−10.6%, +9.9%] relative" in answer


def test_a_contradicted_central_answer_says_which_way():
    other = central_answer(verdict("llmrouterbench-heldout-gain", "contradicted", interval=[-0.2, -0.05]), routing_section())
    smaller = central_answer(verdict("llmrouterbench-heldout-gain", "contradicted", interval=[0.02, 0.3],
                                     why="smaller than claimed", claimed=1.07, expected="1.07 ± 0.1 relative gain"),
                             routing_section())
    beyond = central_answer(verdict("llmrouterbench-heldout-gain", "contradicted", interval=[-0.1, 0.1], why="beyond headroom",
                                    headroom=0.31), routing_section())
    assert "worse than the best single model" in other
    assert "excludes the claimed 1.07 ± 0.1 relative gain" in smaller and "smaller than claimed" in smaller
    assert "beyond the largest gain this pool allows (0.31 relative gain)" in beyond


def test_an_inconclusive_central_answer_says_what_would_decide_it():
    answer = central_answer(verdict("llmrouterbench-heldout-gain", "inconclusive", interval=[-0.1, 0.1], mde=0.14,
                                    n_needed=2400), routing_section())
    assert "holds both no gain and the claimed" in answer
    assert "at n = 120 the smallest effect detectable with 80% power is 0.14 relative gain" in answer
    assert "about 2,400 questions would decide it" in answer


def test_a_borderline_central_answer_says_borderline():
    answer = central_answer(verdict("llmrouterbench-heldout-gain", "inconclusive", interval=[0.001, 0.1], borderline=True,
                                    why="borderline", jitter=0.004), routing_section())
    assert answer.startswith("Not decided at this n") and "inconclusive (borderline)" in answer
    assert "jitter 0.004 relative gain" in answer


@pytest.mark.parametrize("outcome", ["not_run", "error"])
def test_an_unanswered_central_question_says_why(outcome):
    answer = central_answer(verdict("llmrouterbench-heldout-gain", outcome, shape=None, reason="metrics/eval.json is missing"),
                            routing_section())
    assert answer.startswith("Not answered") and "metrics/eval.json is missing" in answer


def test_without_the_routing_section_the_central_answer_uses_the_verdicts_own_numbers():
    answer = central_answer(verdict("llmrouterbench-heldout-gain", "inconclusive", interval=[-0.1, 0.08], measured=-0.01),
                            None)
    assert "-0.01 [-0.1, 0.08] relative gain on 120 held-out questions" in answer


def test_no_verdict_for_the_central_claim_is_not_answered():
    assert central_answer(None, routing_section()).startswith("Not answered — no verdict")


def test_the_literature_line_puts_our_gain_next_to_published_router_benchmarks():
    line = literature_line({"tiny": routing_section(), "medium": None})
    assert "−1.2% [−10.6%, +9.9%] relative at tiny" in line and "−4.0% of the gap to the oracle closed" in line
    assert "LLMRouterBench (arXiv 2601.07206; 33 models, 21 datasets)" in line and "+4–7% relative" in line
    assert "The Routing Plateau" in line and "arXiv 2606.07587" in line and "21 routing methods" in line


# --- the forest plot ---------------------------------------------------------------------------

def test_a_verdict_without_an_interval_has_no_forest_row():
    rows = forest_rows({"tiny": tiny_verdicts()})
    ids = {r.claim_id for r in rows}
    assert "count-exact" not in ids and "needs-api-pool" not in ids
    assert ids == {v.claim_id for v in tiny_verdicts() if v.interval is not None}


def test_forest_rows_are_grouped_in_panels_by_unit():
    panels = forest_panels(forest_rows({"tiny": tiny_verdicts()}))
    assert [p.unit for p in panels] == ["accuracy", "relative gain"]
    assert [r.claim_id for r in panels[0].rows] == ["level-accuracy"]
    assert all(r.unit == p.unit for p in panels for r in p.rows)


def test_a_claims_medium_row_sits_beside_its_tiny_row():
    panel = forest_panels(forest_rows({"tiny": tiny_verdicts(), "medium": medium_verdicts()}))[1]
    rows = list(zip(panel.rows, panel.positions))
    gain = [(r.profile, y) for r, y in rows if r.claim_id == "gain-effect"]
    assert [p for p, _ in gain] == ["tiny", "medium"]
    (_, y_tiny), (_, y_medium) = gain
    assert y_medium < y_tiny and y_tiny - y_medium < 0.5  # tiny above, close: side by side
    others = [y for r, y in rows if r.claim_id != "gain-effect"]
    assert all(not (y_medium < y < y_tiny) for y in others)
    assert len(set(panel.positions)) == len(panel.positions)


def test_the_claimed_effect_is_marked_by_shape():
    rows = {r.claim_id: r for r in forest_rows({"tiny": tiny_verdicts()})}
    assert rows["level-accuracy"].claimed_marker == 0.8 and rows["level-accuracy"].tie_band is None
    assert rows["tie-margin"].claimed_marker is None and rows["tie-margin"].tie_band == (-0.05, 0.05)
    assert rows["sign-only"].claimed_marker is None and rows["sign-only"].tie_band is None


def test_the_forest_plot_draws_a_bar_per_row_borderline_hatched(monkeypatch):
    import matplotlib.axes

    bars = []
    original = matplotlib.axes.Axes.barh
    monkeypatch.setattr(matplotlib.axes.Axes, "barh",
                        lambda self, y, width, **kw: bars.append(kw) or original(self, y, width, **kw))
    rows = forest_rows({"tiny": tiny_verdicts(), "medium": medium_verdicts()})
    plot = forest_plot(rows)
    assert plot is not None and plot.rows == len(rows) == len(bars)
    hatched = [kw.get("hatch") for kw, row in zip(bars, [r for p in forest_panels(rows) for r in p.rows])
               if row.borderline]
    assert hatched == ["////"]


def test_the_forest_plot_is_inlined_as_png(curve):
    html = render([curve])
    forest = html.split('<section id="forest">')[1].split("</section>")[0]
    encoded = re.search(r'src="data:image/png;base64,([^"]+)"', forest).group(1)
    assert base64.b64decode(encoded).startswith(PNG_MAGIC)


def test_no_interval_no_forest_plot():
    assert forest_plot([]) is None
    claims = crafted_claims()
    bare = [verdict(c.id, "not_run", shape=None) for c in claims]
    html = render_report(claims, bare, [], ENVIRONMENT, "tiny")
    assert "nothing to draw" in html


# --- the cards ---------------------------------------------------------------------------------

def test_every_claim_has_one_card_with_source_evidence_verdict_and_meaning(curve):
    html = render([curve])
    claims = crafted_claims()
    assert html.count('<div class="card ') == len(claims)
    for claim in claims:
        card = card_of(html, claim.id)
        assert "<th>source</th>" in card and "<th>their evidence</th>" in card and "<th>our verdict</th>" in card
        assert claim.their_evidence.kind in card


def test_a_reduced_card_shows_what_was_checked_before_the_published_claim(curve):
    card = card_of(render([curve]), "llmrouterbench-heldout-gain")
    assert card.index("What was checked here") < card.index("The published claim")


def test_a_card_shows_interval_claimed_effect_null_and_why(curve):
    card = card_of(render([curve]), "gain-effect")
    assert "0.16 [0.02, 0.3] relative gain (95% interval, n = 120)" in card
    assert "<th>claimed effect</th><td>0.5 relative gain (effect)" in card
    assert "<th>no effect (null)</th><td>0 relative gain" in card
    assert "contradicted (smaller than claimed)" in card


def test_an_inconclusive_card_shows_mde_n_needed_seeds_and_jitter(curve):
    card = card_of(render([curve]), "tie-margin")
    assert "inconclusive (borderline)" in card and 'class="card inconclusive borderline"' in render([curve])
    assert "minimum detectable effect at n = 120 (80% power): 0.15 relative gain" in card
    assert "n needed for 80% power at the claimed size: 900" in card
    assert "seed 0: 0, seed 1: 0.02; spread 0.02" in card
    assert "±0.01 relative gain around every boundary: a bound lies within it" in card


def test_a_card_shows_the_headroom_when_the_verdict_used_it():
    claims = crafted_claims()
    verdicts = [verdict(c.id, "not_run", shape=None) for c in claims[1:]]
    central = verdict("llmrouterbench-heldout-gain", "contradicted", interval=[-0.1, 0.1], why="beyond headroom",
                      headroom=0.31)
    card = card_of(render_report(claims, [central, *verdicts], [], ENVIRONMENT, "tiny"), "llmrouterbench-heldout-gain")
    assert "contradicted (beyond headroom)" in card
    assert "the largest effect this data allows: 0.31 relative gain" in card


def test_a_card_shows_the_medium_verdict_beside_the_tiny_one(curve):
    html = render([curve])
    card = card_of(html, "gain-effect")
    assert card.index("tiny profile") < card.index("medium profile")
    assert "0.125 [0.05, 0.2] relative gain" in card.split("medium profile")[1]
    absent = card_of(html, "level-accuracy")
    assert "No verdict for this claim in the medium profile" in absent


def test_a_card_keeps_source_labels_mechanism_and_control(curve):
    claims = crafted_claims()
    verdicts = tiny_verdicts()
    verdicts[0] = Verdict(**{**verdicts[0].to_json(), "labels": ["reduced scale", "mock",
                                                                 "their number: mock, not held-out"]})
    card = card_of(render_report(claims, verdicts, [curve], ENVIRONMENT, "tiny"), "llmrouterbench-heldout-gain")
    for label in ("reduced scale", "mock", "their number: mock, not held-out"):
        assert f'<span class="tag">{label}</span>' in card
    assert "<th>mechanism</th>" in card and "test_every_named_control_exists" in card


@pytest.mark.parametrize("fields, label", [
    ({"outcome": "contradicted", "why": "smaller than claimed"}, "contradicted (smaller than claimed)"),
    ({"outcome": "contradicted", "why": "fails"}, "contradicted (the exact check fails)"),
    ({"outcome": "inconclusive", "why": "borderline", "borderline": True}, "inconclusive (borderline)"),
    ({"outcome": "inconclusive", "why": "holds 0 and the claim"}, "inconclusive"),
    ({"outcome": "reproduced_reduced", "why": "holds"}, "reproduced at reduced scale"),
])
def test_a_verdict_label_names_the_reason_a_reader_needs(fields, label):
    outcome = fields.pop("outcome")
    assert verdict_label(verdict("x", outcome, interval=[0.0, 1.0], **fields)) == label


# --- docs/claims.md ----------------------------------------------------------------------------

def test_the_claims_table_has_a_medium_column_only_with_medium_verdicts():
    claims = crafted_claims()
    without = claims_markdown(claims, tiny_verdicts(), "tiny profile")
    with_medium = claims_markdown(claims, tiny_verdicts(), "tiny profile", medium_verdicts())
    assert "verdict at medium" not in without
    header, rule, *rows = with_medium.splitlines()
    assert header.endswith("| verdict at medium |") and rule.count("---") == 7
    gain = next(r for r in rows if r.startswith("| gain-effect"))
    assert gain.endswith("| contradicted (smaller than claimed) (0.125 [0.05, 0.2]) |")
    level = next(r for r in rows if r.startswith("| level-accuracy"))
    assert level.endswith("| — |")


def test_the_claims_doc_lists_every_record():
    doc = (ROOT / "docs/claims.md").read_text()
    for claim in load_claims():
        assert f"| {claim.id}" in doc, f"docs/claims.md has no row for {claim.id}: regenerate it (see its header)"
