"""Small recorded-outcome tables and data folders, generated for tests (no real data needed)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

MODELS = ("model-a", "model-b", "model-c")
CATEGORIES = ("gsm8k", "mmlu", "arc")


def long_records(n_questions: int = 30, seed: int = 0, models=MODELS, categories=CATEGORIES) -> pd.DataFrame:
    """A long-layout source: one row per (question, model), common column names."""
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(n_questions):
        category = categories[q % len(categories)]
        for m, model in enumerate(models):
            correct = bool(rng.random() < 0.3 + 0.2 * m)
            rows.append({
                "question_id": f"q{q}", "category": category, "question": f"Question {q} of {category}: what is {q} + 1?",
                "model": model, "correct": correct, "cost": round(0.001 * (m + 1) * (1 + q % 3), 6),
                "response": f"{model} says the answer is {q + m}", "answer": str(q),
            })
    return pd.DataFrame(rows)


def tidy_table(n_questions: int = 30, seed: int = 0) -> pd.DataFrame:
    """An already-tidy table (what the converter produces)."""
    raw = long_records(n_questions, seed)
    return pd.DataFrame({
        "question_id": "src:" + raw["question_id"], "category": raw["category"], "question": raw["question"],
        "model": raw["model"], "score": raw["correct"].astype(float), "cost": raw["cost"],
        "response": raw["response"], "reference": raw["answer"], "source": "src.csv",
    })


def write_data_folder(folder: Path, files: dict[str, pd.DataFrame], license: str = "CC-BY-4.0",
                      counts: bool = True, corrupt: str | None = None) -> Path:
    """A folder like ../shared/data/routing: the files (CSV/JSONL/parquet by suffix) and a README table."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, frame in files.items():
        path = folder / name
        if name.endswith(".csv"):
            frame.to_csv(path, index=False)
        elif name.endswith(".jsonl"):
            frame.to_json(path, orient="records", lines=True)
        else:
            frame.to_parquet(path, index=False)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if name == corrupt:
            digest = "0" * 64
        n_questions = frame["question_id"].nunique() if counts else ""
        n_models = (frame["model"].nunique() if "model" in frame else "") if counts else ""
        rows.append(f"| {name} | https://example.org/{name} | {license} | {n_questions} | {n_models} | {digest} |")
    (folder / "README.md").write_text(
        "# Recorded outcomes\n\nSome prose.\n\n| file | source | license | questions | models | sha256 |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows) + ("\n" if rows else "") + "\nMore prose after the table.\n"
    )
    return folder
