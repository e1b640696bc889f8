"""One offline environment: the Makefile exports what fugu.OFFLINE_ENV defines for the Python side."""

import os
import re
from pathlib import Path

from fugu import HUB_OFFLINE, OFFLINE_ENV

ROOT = Path(__file__).resolve().parent.parent


def test_the_makefile_exports_exactly_the_offline_environment():
    exported = dict(re.findall(r"^export (\w+) := (\S+)$", (ROOT / "Makefile").read_text(), flags=re.M))
    exported.pop("PATH", None)
    assert exported == OFFLINE_ENV


def test_a_reduced_profile_is_cut_off_from_the_hub_and_the_full_one_is_not(monkeypatch):
    from stages.common import enter_profile

    for var in OFFLINE_ENV:
        monkeypatch.delenv(var, raising=False)
    enter_profile("full")
    assert not any(var in os.environ for var in HUB_OFFLINE)
    enter_profile("tiny")
    assert {var: os.environ[var] for var in OFFLINE_ENV} == OFFLINE_ENV
