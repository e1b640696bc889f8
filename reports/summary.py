"""The top of the report: the verdict counts, and the one-line answer to the central question.

A reader who reads one line should get the project's answer: does per-question routing beat
the best single model on held-out real questions? :func:`central_answer` words it from the
``llmrouterbench-heldout-gain`` verdict — our router's relative gain over best single judged
against the size held-out routers reach in the largest benchmark (+4–7%), not against a mock
world's +107%, so "yes", "no" and "not decided" are about a gain worth having — and the eval
stage's routing section (the accuracies behind it), so the line and the card can never disagree. :func:`literature_line`
puts our relative gain next to what published router benchmarks found, so a null result is read
against the field rather than against the +107% of a mock world.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verify.verdicts import OUTCOMES, Verdict

QUESTION = "Does per-question routing beat the best single model on held-out real questions?"
CENTRAL_CLAIM = "llmrouterbench-heldout-gain"
ROUTER = "trinity"
# Published held-out router results our number is read against (cited, not measured here).
LLMROUTERBENCH = ("LLMRouterBench (arXiv 2601.07206; 33 models, 21 datasets): held-out routers gain "
                  "+4–7% relative over the best single model")
ROUTING_PLATEAU = ("“The Routing Plateau” (arXiv 2606.07587): 21 routing methods sit on a narrow band "
                   "far below the oracle")


def outcome_counts(verdicts: Sequence[Verdict]) -> dict[str, int]:
    """How many verdicts have each outcome, every outcome present (0 included), in OUTCOMES order."""
    return {o: sum(v.outcome == o for v in verdicts) for o in OUTCOMES}


def central_answer(verdict: Verdict | None, routing: Mapping[str, Any] | None) -> str:
    """The one-line answer from the central claim's verdict and the routing section of eval.json.

    Yes (reproduced), No (contradicted, saying which way), Not decided at this n (inconclusive,
    with what would decide it) or Not answered (not run, error: with the reason). The numbers are
    TRINITY's and the best single worker's accuracy and the relative gain with its interval; when
    the routing section lacks them the verdict's own estimate and interval stand in.
    """
    if verdict is None:
        return f"Not answered — no verdict for {CENTRAL_CLAIM}."
    if verdict.outcome == "not_run":
        return f"Not answered — not run: {verdict.reason}"
    if verdict.outcome == "error":
        return f"Not answered — the check failed with an error: {verdict.reason}"
    numbers = routing_numbers(routing) or _verdict_numbers(verdict)
    if verdict.outcome in ("reproduced", "reproduced_reduced"):
        scale = f" at reduced scale ({verdict.scale})" if verdict.outcome == "reproduced_reduced" else ""
        return (f"Yes — {numbers}; reproduced{scale}: the interval excludes no gain and is consistent with "
                f"{_claim_phrase(verdict)}.")
    if verdict.outcome == "contradicted":
        return f"No — {numbers}; contradicted ({verdict.why}): {_contradiction(verdict)}."
    return f"Not decided at this n — {numbers}; {_inconclusive(verdict)}."


def routing_numbers(routing: Mapping[str, Any] | None) -> str | None:
    """"TRINITY .700 vs best single (gpt-4o) .708 on 120 held-out questions: −1.2% [−10.6%, +9.9%]
    relative", or None when the section lacks any of these numbers."""
    if not routing:
        return None
    routers = routing.get("routers") or {}
    ours, best = routers.get(ROUTER) or {}, routers.get("best_single") or {}
    accuracy, baseline, gain = (_estimate(ours, "accuracy"), _estimate(best, "accuracy"),
                                _estimate(ours, "relative_gain"))
    if accuracy is None or baseline is None or gain is None or "n_test" not in routing:
        return None
    worker = f" ({best['worker']})" if best.get("worker") else ""
    low, high = gain["ci"]
    seeds = gain.get("seeds") or []
    pooled = f", pooled over {len(seeds)} seeds" if len(seeds) > 1 else ""
    return (f"TRINITY {accuracy_text(accuracy['estimate'])} vs best single{worker} "
            f"{accuracy_text(baseline['estimate'])} on {routing['n_test']:,} held-out questions{pooled}: "
            f"{percent(gain['estimate'])} [{percent(low)}, {percent(high)}] relative")


def literature_line(routing_by_profile: Mapping[str, Mapping[str, Any] | None]) -> str:
    """Our relative gain per profile, next to LLMRouterBench's and the Routing Plateau's findings."""
    ours = []
    for profile, routing in routing_by_profile.items():
        gain = _estimate(((routing or {}).get("routers") or {}).get(ROUTER) or {}, "relative_gain")
        if gain is not None:
            low, high = gain["ci"]
            closed = _estimate(((routing or {}).get("routers") or {}).get(ROUTER) or {}, "gap_closed")
            gap = f", {percent(closed['estimate'], sign=False)} of the gap to the oracle closed" if closed else ""
            ours.append(f"{percent(gain['estimate'])} [{percent(low)}, {percent(high)}] relative at {profile}{gap}")
    measured = "; ".join(ours) if ours else "not measured (the routing section is missing)"
    return f"In the literature: ours {measured}. {LLMROUTERBENCH}; {ROUTING_PLATEAU}."


def accuracy_text(x: float) -> str:
    """An accuracy as the papers print it: .708 (1.000 for a perfect score)."""
    text = f"{x:.3f}"
    return text[1:] if text.startswith("0.") else text


def percent(fraction: float, sign: bool = True) -> str:
    """A fraction as a percentage with a true minus sign: −0.012 → "−1.2%"."""
    return (f"{fraction * 100:+.1f}%" if sign else f"{fraction * 100:.1f}%").replace("-", "−")


def _estimate(section: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """An estimate record at ``key``, or None when absent or not a record."""
    record = section.get(key)
    if isinstance(record, dict) and "estimate" in record and "ci" in record:
        return record
    return None


def _verdict_numbers(verdict: Verdict) -> str:
    unit = f" {verdict.unit}" if verdict.unit else ""
    n = f" on {verdict.n:,} held-out questions" if verdict.n else ""
    if verdict.interval is None or verdict.measured is None:
        return f"measured {verdict.measured:.4g}{unit}{n}" if verdict.measured is not None else "no number measured"
    low, high = verdict.interval
    return f"{verdict.measured:.4g} [{low:.4g}, {high:.4g}]{unit}{n}"


def _claim_phrase(verdict: Verdict) -> str:
    if verdict.shape == "direction":
        return "a gain"
    if verdict.shape == "tie":
        return f"a tie within ±{verdict.claimed:g} {verdict.unit or ''}".rstrip()
    return f"the claimed {verdict.expected}"


def _contradiction(verdict: Verdict) -> str:
    if verdict.why == "other sign":
        return "routing is worse than the best single model, the whole interval below no gain"
    if verdict.why == "smaller than claimed":
        above = False
        if verdict.interval is not None and verdict.null is not None and verdict.claimed is not None:
            side = 1.0 if verdict.claimed >= verdict.null else -1.0  # the claimed direction
            above = min(side * (b - verdict.null) for b in verdict.interval) > 0
        return (f"the interval excludes {_claim_phrase(verdict)}"
                + (" (it does exclude no gain: a gain, smaller than claimed)" if above else ""))
    if verdict.why == "beyond headroom":
        room = f" ({verdict.headroom:.4g} {verdict.unit or ''})".rstrip() if verdict.headroom is not None else ""
        return f"{_claim_phrase(verdict)} is beyond the largest gain this pool allows{room}"
    return verdict.reason


def _inconclusive(verdict: Verdict) -> str:
    unit = f" {verdict.unit}" if verdict.unit else ""
    if verdict.borderline:
        jitter = f" {verdict.jitter:.3g}{unit}" if verdict.jitter is not None else ""
        head = f"inconclusive (borderline): a bound lies within the measured jitter{jitter} of a decision boundary"
    else:
        head = f"inconclusive: the interval holds both no gain and {_claim_phrase(verdict)}"
    detail = []
    if verdict.mde is not None and verdict.n:
        detail.append(f"at n = {verdict.n:,} the smallest effect detectable with 80% power is {verdict.mde:.3g}{unit}")
    if verdict.n_needed is not None:
        detail.append(f"about {verdict.n_needed:,} questions would decide it")
    return head + ("; " + ", and ".join(detail) if detail else "")
