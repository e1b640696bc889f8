"""Render ``reports/audit.html`` from claim records, verdicts, declared curves and the environment.

The page is self-contained: inline CSS, plots inlined as base64 PNG, no scripts and no
external URL, so it opens offline and archives as one file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from claims import Claim
from reports.figure import plt, png_base64
from reports.forest import ForestPlot, forest_plot, forest_rows
from reports.summary import CENTRAL_CLAIM, QUESTION, central_answer, literature_line, outcome_counts
from reports.verdict_text import (
    OUTCOME_LABELS,
    card_labels,
    decide_text,
    measured_text,
    number,
    seeds_text,
    verdict_label,
)
from verify.verdicts import Verdict

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class ProfileResults:
    """What one profile's run produced: its verdicts, the eval stage's routing section (the central
    answer's numbers; None when absent) and, for a committed run, its record (commit, cpu, wall_s)."""

    name: str
    verdicts: list[Verdict]
    routing: Mapping[str, Any] | None = None
    run: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Curve:
    """A declared DVC plot: its file, axes, and the rendered image (None when it has no rows)."""

    file: str
    stage: str
    x: str
    y: str
    png_base64: str | None
    rows: int


@dataclass(frozen=True)
class Environment:
    evidence_digest: str  # sha256 of the metrics + params rendered
    versions: dict[str, str]
    params: dict[str, Any]
    artifacts: dict[str, str]


def declared_curves(dvc_file: Path) -> list[tuple[str, str, str, str, str]]:
    """(stage, file, x, y, template) for every plot a stage declares in dvc.yaml.

    ``template`` is DVC's own plot template name: ``scatter`` draws unconnected points (one
    per row, labelled by the row's first text column), anything else a line.
    """
    stages = yaml.safe_load(Path(dvc_file).read_text())["stages"]
    curves = []
    for name, stage in stages.items():
        for entry in stage.get("plots", []):
            file, spec = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
            curves.append((name, file, spec.get("x", "step"), spec.get("y", "value"), spec.get("template", "linear")))
    return curves


def load_curve(root: Path, stage: str, file: str, x: str, y: str, template: str = "linear") -> Curve:
    """A declared plot, rendered. A ``data`` column (what the numbers come from, e.g. the
    simulated pool, a mock) is shown in the title, so a mock curve cannot pass for a real one."""
    path = Path(root) / file
    rows = _read_rows(path)
    if not rows:
        return Curve(file, stage, x, y, None, 0)
    sources = sorted({r["data"] for r in rows if r.get("data")})
    title = f"{stage}: {Path(file).stem}" + (f"\n{', '.join(sources)}" if sources else "")
    return Curve(file, stage, x, y, _plot_png(rows, x, y, title, scatter=template == "scatter"), len(rows))


def render_report(
    claims: list[Claim],
    verdicts: list[Verdict],
    curves: list[Curve],
    environment: Environment,
    profile: str,
    routing: Mapping[str, Any] | None = None,
    medium: ProfileResults | None = None,
) -> str:
    """The page: the central answer and counts per profile, the forest plot, a card per claim.

    ``verdicts`` and ``routing`` are this run's (``profile``, rendered from metrics/); ``medium``
    the committed medium-profile run (results/medium/), or None when it has not been run, which
    the page then says.
    """
    by_id = {v.claim_id: v for v in verdicts}
    missing = [c.id for c in claims if c.id not in by_id]
    if missing:
        raise ValueError(f"no verdict for claims: {missing}")
    profiles = [ProfileResults(profile, [by_id[c.id] for c in claims], routing)]
    if medium is not None:
        if medium.name == profile:
            raise ValueError(f"the extra results are named {medium.name!r}, like this run's own profile")
        profiles.append(medium)
    per_profile = {p.name: {v.claim_id: v for v in p.verdicts} for p in profiles}
    cards = [{"claim": c, "verdict": by_id[c.id],
              "by_profile": [(p.name, per_profile[p.name].get(c.id)) for p in profiles]} for c in claims]
    answers = [(p.name, central_answer(per_profile[p.name].get(CENTRAL_CLAIM), p.routing)) for p in profiles]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = number
    env.globals.update(verdict_label=verdict_label, measured_text=measured_text, decide_text=decide_text,
                       seeds_text=seeds_text,
                       card_labels=lambda card: card_labels([v.labels for _, v in card["by_profile"] if v]))
    template = env.get_template("audit.html.j2")
    return template.render(
        cards=cards,
        profiles=profiles,
        counts={p.name: outcome_counts(p.verdicts) for p in profiles},
        question=QUESTION,
        answers=answers,
        literature=literature_line({p.name: p.routing for p in profiles}),
        forest=_forest(profiles),
        medium_run=medium is not None,
        outcome_labels=OUTCOME_LABELS,
        curves=curves,
        environment=environment,
        params_yaml=yaml.safe_dump(environment.params, sort_keys=False),
        profile=profile,
    )


def _forest(profiles: list[ProfileResults]) -> ForestPlot | None:
    return forest_plot(forest_rows({p.name: p.verdicts for p in profiles}))


def _read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _plot_png(rows: list[dict[str, str]], x: str, y: str, title: str, scatter: bool = False) -> str:
    """Plot y against x (a category per row when x is not numeric) as an inline PNG."""
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ys = [float(r[y]) for r in rows]
    xs_raw = [r[x] for r in rows]
    try:
        xs = [float(v) for v in xs_raw]
    except ValueError:
        ax.bar(xs_raw, ys)
    else:
        if scatter and "kind" in rows[0]:
            # RouterBench's figure: rows of kind "router" joined into one curve per router, the rest points
            label = next(k for k in rows[0] if k not in (x, y, "data"))
            for name in sorted({r[label] for r in rows if r["kind"] == "router"}):
                pts = sorted((px, py) for r, px, py in zip(rows, xs, ys) if r["kind"] == "router" and r[label] == name)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, label=name)
            for row, px, py in zip(rows, xs, ys):
                if row["kind"] != "router":
                    ax.scatter([px], [py], color="black", s=12)
                    ax.annotate(row[label], (px, py), textcoords="offset points", xytext=(4, 4), fontsize=7)
            ax.legend(fontsize=7)
        elif scatter:
            ax.scatter(xs, ys)
            label = next((k for k in rows[0] if k not in (x, y, "data")), None)
            for row, px, py in zip(rows, xs, ys):
                if label:
                    ax.annotate(row[label], (px, py), textcoords="offset points", xytext=(4, 4), fontsize=8)
        else:
            ax.plot(xs, ys, marker="o", markersize=3)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return png_base64(fig)


def artifacts_from_metrics(root: Path, files: list[str]) -> dict[str, str]:
    """Union of the artifact checksums every produced metrics file recorded."""
    found: dict[str, str] = {}
    for file in files:
        path = Path(root) / file
        if path.exists():
            payload = json.loads(path.read_text())
            found.update(payload.get("artifacts", {}))
    return dict(sorted(found.items()))


def claims_markdown(claims: list[Claim], verdicts: list[Verdict], run: str,
                    medium: list[Verdict] | None = None) -> str:
    """The docs table of every audited claim: source, what the source measured, where it is
    checkable, what the reduced profiles check, the verdict ``run`` (e.g. a git revision) gave,
    and, when the medium profile's verdicts are given, the medium verdict beside it."""
    by_id = {v.claim_id: v for v in verdicts}
    medium_by_id = {v.claim_id: v for v in medium} if medium is not None else None
    header = ["claim", "source", "their evidence", "checkable at", "reduced-scale check", f"verdict at tiny ({run})"]
    if medium_by_id is not None:
        header.append("verdict at medium")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for c in claims:
        if c.reduced:
            reduced = f"reduced: `{(c.reduced.metric or c.metric).key}` {c.reduced.effect.describe()}"  # type: ignore[union-attr]
        elif "reduced" in c.scale and c.metric and c.effect:
            reduced = f"`{c.metric.key}` {c.effect.describe()}"
        else:
            reduced = "none"
        cells = [c.id + (f" (part of {c.part_of})" if c.part_of else "") + (f" (mock twin of {c.twin_of})" if c.twin_of else ""),
                 c.source,
                 c.their_evidence.kind + (f", n = {c.their_evidence.n}" if c.their_evidence.n else ""),
                 " / ".join(c.scale), reduced, _verdict_cell(by_id.get(c.id))]
        if medium_by_id is not None:
            cells.append(_verdict_cell(medium_by_id.get(c.id)))
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _verdict_cell(verdict: Verdict | None) -> str:
    """The verdict and its estimate (with the interval when there is one), e.g.
    "inconclusive (-0.012 [-0.106, 0.099])"."""
    if verdict is None:
        return "—"
    if verdict.measured is None:
        return verdict_label(verdict)
    ci = f" [{verdict.interval[0]:.3g}, {verdict.interval[1]:.3g}]" if verdict.interval else ""
    return f"{verdict_label(verdict)} ({verdict.measured:.4g}{ci})"
