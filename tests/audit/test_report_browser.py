"""The rendered report opens in real headless Chromium with no console or load errors."""

from __future__ import annotations

import pytest

from tests.audit.test_report import curve, render  # noqa: F401 (curve is a fixture)
from tests.browser import find_chromium, page_errors

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (make test installs it with apt where it can)"
)


@needs_chromium
def test_report_opens_in_chromium_without_errors(tmp_path, curve):  # noqa: F811 (the imported fixture)
    page = tmp_path / "audit.html"
    page.write_text(render([curve]))
    assert page_errors(page, CHROMIUM) == []


@needs_chromium
def test_browser_check_does_catch_errors(tmp_path):
    """The check can fail: a page with a script error and a missing image is reported."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script>undefined_fn()</script><img src="missing.png"></body></html>')
    errors = page_errors(page, CHROMIUM)
    assert any("undefined_fn" in e for e in errors)
    assert any("missing.png" in e or "ERR_FILE_NOT_FOUND" in e for e in errors)
