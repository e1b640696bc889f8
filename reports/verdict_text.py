"""How one verdict reads in words: its label, its interval, what would decide it, its seeds.

The card, the summary table and docs/claims.md all word a verdict; one module words it, so a
verdict never reads "contradicted" in one place and "not reproduced" in another.
"""

from __future__ import annotations

from verify.verdicts import STALE, Verdict

OUTCOME_LABELS = {
    "reproduced": "reproduced (full scale)",
    "reproduced_reduced": "reproduced at reduced scale",
    "contradicted": "contradicted",
    "inconclusive": "inconclusive",
    "not_run": "not run",
    "error": "error",
}


def verdict_label(verdict: Verdict) -> str:
    """The outcome with the reason that matters to a reader: "contradicted (smaller than claimed)",
    "inconclusive (borderline)". A reproduced or plainly inconclusive verdict needs no qualifier."""
    label = OUTCOME_LABELS[verdict.outcome]
    if verdict.borderline:
        return f"{label} (borderline)"
    if verdict.outcome == "not_run" and verdict.why == STALE:
        return f"{label} (stale: its claim record changed)"
    if verdict.outcome == "contradicted" and verdict.why:
        return f"{label} ({'the exact check fails' if verdict.why == 'fails' else verdict.why})"
    return label


def number(x: float | None) -> str:
    """Four significant digits, the precision every card uses ("—" for no number)."""
    return "—" if x is None else f"{x:.4g}"


def with_unit(x: float | None, verdict: Verdict) -> str:
    return number(x) + (f" {verdict.unit}" if verdict.unit and x is not None else "")


def measured_text(verdict: Verdict) -> str:
    """"0.7 [0.62, 0.78] accuracy (95% interval, n = 120)", or the bare number of an exact check."""
    if verdict.interval is None:
        return with_unit(verdict.measured, verdict)
    low, high = verdict.interval
    level = f"{verdict.level:.0%} interval" if verdict.level is not None else "interval"
    n = f", n = {verdict.n:,}" if verdict.n else ""
    unit = f" {verdict.unit}" if verdict.unit else ""
    return f"{number(verdict.measured)} [{number(low)}, {number(high)}]{unit} ({level}{n})"


def decide_text(verdict: Verdict) -> str:
    """What an inconclusive verdict lacks: the smallest effect this n detects, and the n that decides."""
    parts = []
    if verdict.mde is not None:
        at = f" at n = {verdict.n:,}" if verdict.n else ""
        parts.append(f"minimum detectable effect{at} (80% power): {with_unit(verdict.mde, verdict)}")
    if verdict.n_needed is not None:
        parts.append(f"n needed for 80% power at the claimed size: {verdict.n_needed:,}")
    return "; ".join(parts)


def seeds_text(verdict: Verdict) -> str:
    """Each seed's own number and their spread (max − min): how much the run itself moves."""
    per_seed = verdict.per_seed or []
    seeds = verdict.seeds or list(range(len(per_seed)))
    shown = ", ".join(f"seed {s}: {number(x)}" for s, x in zip(seeds, per_seed))
    values = [x for x in per_seed if x is not None]
    spread = f"; spread {number(max(values) - min(values))}" if len(values) > 1 else " (one seed: no spread)"
    return shown + spread


def card_labels(labels_by_profile: list[list[str]]) -> list[str]:
    """Every label any profile's verdict carries (mock, parity, in-sample, reduced scale), once each."""
    return list(dict.fromkeys(label for labels in labels_by_profile for label in labels))
