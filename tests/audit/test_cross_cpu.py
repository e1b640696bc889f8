"""The committed verdicts hold on every perturbed computation that was measured.

`make jitter` reran the whole tiny pipeline in fresh copies on other computations — 1 thread
instead of 2, the CPU's native AVX-512/AMX kernels instead of the pinned AVX2 path — and kept each
run's verdicts (results/tiny/jitter_runs/). Re-judged with the committed bands, every run must give
the committed table's verdicts, every number within its tolerance: what another CPU's bits do to
the verdicts, shown on the computation itself, never on the final metrics.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from claims import load_claims
from tools.verdict_table import table_differences
from verify.decision import Claimed, Interval, decide
from verify.jitter import load_jitter
from verify.verdicts import Verdict, read_verdicts, seed_jitter

ROOT = Path(__file__).resolve().parents[2]
RUNS = sorted((ROOT / "results/tiny/jitter_runs").glob("*/verdicts.json"))


def rejudged(verdict: Verdict, band: dict[str, float]) -> Verdict:
    """A run's verdict decided again from its own interval with the committed band."""
    if verdict.interval is None:
        return verdict
    check = {c.id: c for c in load_claims()}[verdict.claim_id].check_at("reduced")
    claimed = Claimed(check.effect.shape, check.assertion.direction or 1, check.assertion.value, check.effect.value,
                      check.effect.tolerance, verdict.headroom)
    jitter = max(band.get(verdict.claim_id, 0.0), seed_jitter({"per_seed": verdict.per_seed}))
    decision = decide(claimed, Interval(verdict.measured, *verdict.interval, verdict.n, verdict.level), jitter)
    outcome = "reproduced_reduced" if decision.outcome == "reproduced" else decision.outcome
    return replace(verdict, outcome=outcome, borderline=decision.borderline, jitter=jitter)


def test_the_perturbation_runs_are_committed():
    assert {p.parent.name for p in RUNS} >= {"committed", "one-thread", "native-isa"}


@pytest.mark.parametrize("run", RUNS, ids=lambda p: p.parent.name)
def test_a_perturbed_computation_gives_the_committed_verdicts(run: Path):
    band = load_jitter("tiny")
    produced = {v.claim_id: rejudged(v, band) for v in read_verdicts(run)}
    expected = yaml.safe_load((ROOT / "results/tiny/verdicts.yaml").read_text())["claims"]
    assert not table_differences(expected, produced)
