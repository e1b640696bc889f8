"""Matplotlib set up for a headless renderer, and a figure as the base64 PNG the page inlines.

One place for both, so every plot of the report (declared curves, the forest plot) is drawn
without a display and embedded the same way: the page stays one offline file.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # headless: the report is rendered on CI machines without a display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def png_base64(fig: Figure) -> str:
    """The figure as base64 PNG text (for a ``data:`` URI); the figure is closed afterwards."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
