"""The forest plot: every interval verdict on one page, against its claim and its null.

A verdict with an interval says more than its outcome word: how wide the interval is, where the
claimed effect sits, how far from no effect. A forest plot (one row per claim, the interval a
bar, the estimate a dot) shows all of it at once, as replication studies report it. Rows are
grouped in panels by ``unit``: numbers in different units share no axis. Where a claim has a
verdict in more than one profile (tiny, medium), its rows sit side by side, so a reader sees
the interval narrow (or the verdict change) with n.

:func:`forest_rows` and :func:`forest_panels` are pure (what is drawn where); :func:`forest_plot`
only draws them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from reports.figure import plt, png_base64
from verify.verdicts import Verdict

NO_UNIT = "(no unit)"
# reproduced in greens, contradicted red, inconclusive amber: the same colours as the cards
OUTCOME_COLOURS = {
    "reproduced": "#1a7f37",
    "reproduced_reduced": "#4c9f70",
    "contradicted": "#cf222e",
    "inconclusive": "#bf8700",
}
OTHER_COLOUR = "#8c959f"
# the estimate's marker tells the profiles apart (colour already carries the outcome)
PROFILE_MARKERS = {"tiny": "o", "medium": "s", "full": "^"}
ROW_SPACING = 0.36  # y distance between a claim's profile rows (claims are 1 apart)
DPI = 100


@dataclass(frozen=True)
class ForestRow:
    """One bar of the plot: a claim's interval in one profile, with what it is judged against."""

    claim_id: str
    profile: str
    unit: str
    low: float
    high: float
    estimate: float | None
    null: float | None
    shape: str | None
    claimed: float | None   # effect/level: the claimed value; tie: the margin around the null
    outcome: str
    borderline: bool

    @property
    def claimed_marker(self) -> float | None:
        """Where the claimed effect is marked (effect, level); None for a tie (a band) or a direction."""
        return self.claimed if self.shape in ("effect", "level") else None

    @property
    def tie_band(self) -> tuple[float, float] | None:
        """null ± margin for a tie claim, the band its interval must lie inside."""
        if self.shape != "tie" or self.claimed is None:
            return None
        centre = self.null or 0.0
        return centre - self.claimed, centre + self.claimed


@dataclass(frozen=True)
class ForestPanel:
    """The rows sharing one unit, hence one x axis; ``positions`` are their y values."""

    unit: str
    rows: list[ForestRow]
    positions: list[float]


@dataclass(frozen=True)
class ForestPlot:
    png_base64: str
    width: int
    height: int
    rows: int


def forest_rows(profiles: Mapping[str, Sequence[Verdict]]) -> list[ForestRow]:
    """A row per verdict that has an interval, in every profile given (``{"tiny": [...], ...}``).

    Order: by unit, then claim id, then the profiles' order in ``profiles``, so a claim's rows
    in different profiles are adjacent. A verdict without an interval (an exact check, not run,
    an error) has no row: there is nothing to draw.
    """
    order = {name: i for i, name in enumerate(profiles)}
    rows = [
        ForestRow(v.claim_id, profile, v.unit or NO_UNIT, v.interval[0], v.interval[1], v.measured, v.null,
                  v.shape, v.claimed, v.outcome, v.borderline)
        for profile, verdicts in profiles.items() for v in verdicts if v.interval is not None
    ]
    return sorted(rows, key=lambda r: (r.unit, r.claim_id, order[r.profile]))


def forest_panels(rows: Sequence[ForestRow]) -> list[ForestPanel]:
    """Rows grouped by unit, each with the y position of its bar.

    Claims are one unit apart, top to bottom (y decreasing); a claim's profile rows are spread
    ``ROW_SPACING`` apart around its slot, in the order given: side by side, not on top of
    each other.
    """
    panels: list[ForestPanel] = []
    for unit in dict.fromkeys(r.unit for r in rows):
        in_unit = [r for r in rows if r.unit == unit]
        claims = list(dict.fromkeys(r.claim_id for r in in_unit))
        positions = []
        for row in in_unit:
            siblings = [r for r in in_unit if r.claim_id == row.claim_id]
            k = siblings.index(row)
            offset = (k - (len(siblings) - 1) / 2) * ROW_SPACING
            positions.append(-claims.index(row.claim_id) - offset)
        panels.append(ForestPanel(unit, in_unit, positions))
    return panels


def forest_plot(rows: Sequence[ForestRow]) -> ForestPlot | None:
    """Draw the panels as one PNG (None when no verdict has an interval)."""
    panels = forest_panels(rows)
    if not panels:
        return None
    claim_counts = [len({r.claim_id for r in p.rows}) for p in panels]
    heights = [0.45 * n + 0.8 for n in claim_counts]
    legend_height = 0.55
    width_in, height_in = 10.0, sum(heights) + legend_height
    fig, axes = plt.subplots(len(panels), 1, figsize=(width_in, height_in), dpi=DPI, squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, panel in zip(axes[:, 0], panels):
        _draw_panel(ax, panel)
    profiles = list(dict.fromkeys(r.profile for r in rows))
    fig.legend(handles=_legend(profiles), loc="upper center", ncol=5, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - legend_height / height_in))
    return ForestPlot(png_base64(fig), int(width_in * DPI), int(height_in * DPI), len(rows))


def _draw_panel(ax, panel: ForestPanel) -> None:
    half = ROW_SPACING / 2
    labels = []
    for row, y in zip(panel.rows, panel.positions):
        colour = OUTCOME_COLOURS.get(row.outcome, OTHER_COLOUR)
        band = row.tie_band
        if band is not None:
            ax.fill_betweenx([y - half, y + half], *band, color=OTHER_COLOUR, alpha=0.25, linewidth=0, zorder=0)
        if row.null is not None:
            ax.vlines(row.null, y - half, y + half, colors="#57606a", linestyles="--", linewidth=1, zorder=1)
        # borderline: lighter and hatched, so it never reads as a decided colour
        ax.barh(y, max(row.high - row.low, 1e-12), left=row.low, height=ROW_SPACING * 0.7, color=colour,
                alpha=0.4 if row.borderline else 0.85, hatch="////" if row.borderline else None,
                edgecolor=colour, linewidth=0.8, zorder=2)
        if row.estimate is not None:
            ax.plot([row.estimate], [y], marker=PROFILE_MARKERS.get(row.profile, "o"), color="black",
                    markersize=5, linestyle="none", zorder=4)
        if row.claimed_marker is not None:
            ax.plot([row.claimed_marker], [y], marker="D", markerfacecolor="none", markeredgecolor="black",
                    markersize=7, linestyle="none", zorder=3)
        first_of_claim = not labels or labels[-1][1] != row.claim_id
        labels.append((f"{row.claim_id} · {row.profile}" if first_of_claim else row.profile, row.claim_id))
    ax.set_yticks(panel.positions, [text for text, _ in labels], fontsize=8)
    ax.set_ylim(min(panel.positions) - 0.6, max(panel.positions) + 0.6)
    ax.set_xlabel(panel.unit, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="x", labelsize=8)


def _legend(profiles: Sequence[str]) -> list:
    handles: list = [
        Patch(color=OUTCOME_COLOURS["reproduced"], label="reproduced"),
        Patch(color=OUTCOME_COLOURS["reproduced_reduced"], label="reproduced (reduced scale)"),
        Patch(color=OUTCOME_COLOURS["contradicted"], label="contradicted"),
        Patch(color=OUTCOME_COLOURS["inconclusive"], label="inconclusive"),
        Patch(facecolor=OUTCOME_COLOURS["inconclusive"], alpha=0.4, hatch="////",
              edgecolor=OUTCOME_COLOURS["inconclusive"], label="inconclusive (borderline)"),
    ]
    handles += [Line2D([], [], marker=PROFILE_MARKERS.get(p, "o"), color="black", linestyle="none",
                       label=f"estimate ({p})") for p in profiles]
    handles += [
        Line2D([], [], marker="D", markerfacecolor="none", markeredgecolor="black", linestyle="none",
               label="claimed effect"),
        Patch(color=OTHER_COLOUR, alpha=0.25, label="tie: null ± margin"),
        Line2D([], [], color="#57606a", linestyle="--", label="no effect (null)"),
    ]
    return handles
