"""The data card: what the recorded outcomes are, and the ceiling they leave for routing.

Numbers are computed from the table and the splits (never typed in). The best single worker
is chosen on the *train* split and then scored on every split, as a deployed baseline would
be; the oracle picks each question's best worker and bounds what any router can reach.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from fugu.data.listing import ListedFile
from fugu.data.matrix import best_single_index, outcomes_from_table
from fugu.data.splits import SPLITS, split_ids


def card_metrics(table: pd.DataFrame, splits: pd.DataFrame) -> dict[str, Any]:
    """Counts and per-split baselines of a (complete) table; JSON-ready."""
    workers = tuple(sorted(table["model"].unique()))
    metrics: dict[str, Any] = {
        "rows": int(len(table)),
        "questions": int(table["question_id"].nunique()),
        "models": list(workers),
        "n_models": len(workers),
        "categories": {c: int(n) for c, n in table.drop_duplicates("question_id")["category"].value_counts().sort_index().items()},
        "splits": {},
    }
    if not len(table):
        return metrics
    train = outcomes_from_table(table, split_ids(splits, "train"), workers)
    best = train.workers[best_single_index(train)] if len(train) else None
    metrics["best_single_worker"] = best
    for split in SPLITS:
        part = outcomes_from_table(table, split_ids(splits, split), workers)
        entry: dict[str, Any] = {
            "questions": len(part),
            "categories": {c: int(n) for c, n in pd.Series(part.categories, dtype=str).value_counts().sort_index().items()},
        }
        if len(part):
            entry["random_accuracy"] = part.random_accuracy()
            entry["oracle_accuracy"] = part.oracle_accuracy()
            if best is not None:
                entry["best_single_accuracy"] = part.worker_accuracy()[best]
            entry["worker_accuracy"] = part.worker_accuracy()
        metrics["splits"][split] = entry
    return metrics


def render_data_card(listed: Sequence[ListedFile], metrics: dict[str, Any], data_dir: str) -> str:
    """Markdown data card from the README listing and :func:`card_metrics`."""
    lines = ["# Data card: recorded routing outcomes", ""]
    lines += [f"Source folder: `{data_dir}` (its README lists each file with source, license and sha256).", ""]
    lines += ["## Files", "", "| file | source | license | questions (listed) | models (listed) | sha256 |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {f.file} | {f.source} | {f.license} | {f.questions} | {f.models} | `{f.sha256[:12]}…` |" for f in listed]
    if not metrics.get("rows"):
        return "\n".join(lines) + "\n"
    lines += ["", "## Contents", "",
              f"{metrics['questions']} questions × {metrics['n_models']} models = {metrics['rows']} recorded outcomes.", "",
              "Models: " + ", ".join(f"`{m}`" for m in metrics["models"]), "",
              "| category | " + " | ".join(SPLITS) + " | all |", "|---" * (len(SPLITS) + 2) + "|"]
    for category, total in metrics["categories"].items():
        per = [str(metrics["splits"][s]["categories"].get(category, 0)) for s in SPLITS]
        lines.append(f"| {category} | " + " | ".join(per) + f" | {total} |")
    lines += ["", "## Ceiling for routing", "",
              f"Best single worker (chosen on train): `{metrics.get('best_single_worker')}`.", "",
              "| split | questions | random | best single | oracle |", "|---|---|---|---|---|"]
    for split in SPLITS:
        entry = metrics["splits"][split]
        cells = [_fmt(entry.get(k)) for k in ("random_accuracy", "best_single_accuracy", "oracle_accuracy")]
        lines.append(f"| {split} | {entry['questions']} | " + " | ".join(cells) + " |")
    lines += ["", "The oracle routes each question to its best worker: no router can score higher on",
              "these records. The gap between best single and oracle is what routing can win."]
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"
