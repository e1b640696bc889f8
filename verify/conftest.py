"""pytest plumbing for claim checks: where metrics live, and where verdicts are written."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.verdicts import Verdict, write_verdicts

ROOT = Path(__file__).resolve().parent.parent
_COLLECTED: list[Verdict] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fugu-verify")
    group.addoption("--metrics-root", default=str(ROOT), help="directory holding metrics/ (default: repo root)")
    group.addoption("--verdicts-out", default=None, help="write the machine-readable verdicts JSON here")


@pytest.fixture(scope="session")
def metrics_root(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.getoption("--metrics-root"))


@pytest.fixture(scope="session")
def verdict_log() -> list[Verdict]:
    return _COLLECTED


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = session.config.getoption("--verdicts-out", default=None)
    if out and _COLLECTED:
        write_verdicts(sorted(_COLLECTED, key=lambda v: v.claim_id), Path(out))
