"""Recorded real questions for benchmarks, built from the shipped ``data/routing`` (no pipeline run needed).

A benchmark that needs real questions or a split (the precision check's held-out questions, the
GRPO step's prompts) builds it here exactly as ``fetch`` would for ``profile``, in a scratch folder,
so it runs on a fresh clone as well as after ``dvc repro``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import yaml

from fugu.data.matrix import Outcomes, load_split
from stages.common import load_provenance, stage_params
from stages.fetch import fetch_routing_data, with_sources
from stages.paths import PARAMS_FILE


def recorded_split(profile: str, split: str, n: int | None = None) -> Outcomes:
    """The first ``n`` questions (all: None) of ``split`` as ``fetch`` builds it for ``profile``."""
    params = {**yaml.safe_load(PARAMS_FILE.read_text()), "profile": profile}
    section = with_sources(stage_params(params, "fetch"), load_provenance(profile))  # what fetch reads
    with tempfile.TemporaryDirectory() as out:
        fetch_routing_data(section["routing"], section.get("routing_subset"), Path(out))
        outcomes = load_split(Path(out), split)
    return outcomes if n is None else outcomes.take(np.arange(min(n, len(outcomes.question_ids))))
