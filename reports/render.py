"""Render ``reports/audit.html`` from claim records, verdicts, declared curves and the environment.

The page is self-contained: inline CSS, plots inlined as base64 PNG, no scripts and no
external URL, so it opens offline and archives as one file.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import matplotlib

matplotlib.use("Agg")  # headless: the report is rendered on CI machines without a display
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from claims import Claim  # noqa: E402
from verify.verdicts import OUTCOMES, Verdict  # noqa: E402

TEMPLATES = Path(__file__).resolve().parent / "templates"
OUTCOME_LABELS = {
    "reproduced": "reproduced (full scale)",
    "reproduced_reduced": "reproduced at reduced scale",
    "not_reproduced": "not reproduced",
    "not_run": "not run",
    "error": "error",
}


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
) -> str:
    by_id = {v.claim_id: v for v in verdicts}
    missing = [c.id for c in claims if c.id not in by_id]
    if missing:
        raise ValueError(f"no verdict for claims: {missing}")
    cards = [{"claim": c, "verdict": by_id[c.id]} for c in claims]
    counts = {o: sum(by_id[c.id].outcome == o for c in claims) for o in OUTCOMES}
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("audit.html.j2")
    return template.render(
        cards=cards,
        counts=counts,
        outcome_labels=OUTCOME_LABELS,
        curves=curves,
        environment=environment,
        params_yaml=yaml.safe_dump(environment.params, sort_keys=False),
        profile=profile,
    )


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
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def artifacts_from_metrics(root: Path, files: list[str]) -> dict[str, str]:
    """Union of the artifact checksums every produced metrics file recorded."""
    found: dict[str, str] = {}
    for file in files:
        path = Path(root) / file
        if path.exists():
            payload = json.loads(path.read_text())
            found.update(payload.get("artifacts", {}))
    return dict(sorted(found.items()))


def claims_markdown(claims: list[Claim], verdicts: list[Verdict], run: str) -> str:
    """The docs table of every audited claim: source, what the source measured, where it is
    checkable, what the tiny profile checks, and the verdict ``run`` (e.g. a git revision) gave."""
    by_id = {v.claim_id: v for v in verdicts}
    lines = [
        f"| claim | source | their evidence | checkable at | tiny-scale check | verdict at tiny ({run}) |",
        "|---|---|---|---|---|---|",
    ]
    for c in claims:
        v = by_id.get(c.id)
        if c.reduced:
            tiny = f"reduced: `{(c.reduced.metric or c.metric).key}` {c.reduced.assert_.describe()}"  # type: ignore[union-attr]
        elif "tiny" in c.scale and c.metric and c.assert_:
            tiny = f"`{c.metric.key}` {c.assert_.describe()}"
        else:
            tiny = "none"
        verdict = f"{OUTCOME_LABELS[v.outcome]}" + (f" ({v.measured:.4g})" if v and v.measured is not None else "") if v else "—"
        cells = [c.id + (f" (part of {c.part_of})" if c.part_of else ""), c.source,
                 c.their_evidence.kind + (f", n = {c.their_evidence.n}" if c.their_evidence.n else ""),
                 " / ".join(c.scale), tiny, verdict]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
