"""Small recorded-outcome files shaped like a user's own, for ``fugu data add`` and the pipeline on them.

RouteLLM's wide layout (``prompt``, one True/False column per model, ``<model>_response``; no
category, no reference answers) and a long layout with categories and numeric references. The
outcomes are drawn from a seeded generator, so the files are the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

# One model litellm's bundled cost map prices by its name, one it does not (recorded as cost unknown).
PRICED, UNPRICED = "gpt-4-1106-preview", "mixtral-8x7b-instruct-v0.1"


def routellm_wide(n_questions: int = 60, seed: int = 0) -> pd.DataFrame:
    """RouteLLM's layout: a row per prompt, a True/False column and a ``_response`` column per model."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(2, 99, n_questions), rng.integers(2, 99, n_questions)
    frame = pd.DataFrame({"prompt": [f"What is {x} plus {y}? (item {i})" for i, (x, y) in enumerate(zip(a, b))]})
    for model, skill in ((PRICED, 0.8), (UNPRICED, 0.5)):
        right = rng.random(n_questions) < skill
        frame[model] = right
        frame[f"{model}_response"] = [f"The sum is {x + y if r else x + y + 1}." for x, y, r in zip(a, b, right)]
    return frame


def long_with_references(n_questions: int = 48, seed: int = 1) -> pd.DataFrame:
    """A row per (question, model), three categories, a numeric reference answer per question."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_questions):
        x, y = int(rng.integers(2, 50)), int(rng.integers(2, 50))
        category = ("sums", "products", "differences")[i % 3]
        gold = {"sums": x + y, "products": x * y, "differences": x - y}[category]
        for model, skill in (("model-a", 0.7), ("model-b", 0.6), ("model-c", 0.4)):
            right = bool(rng.random() < skill)
            rows.append({"id": f"q{i}", "category": category, "question": f"Compute {category[:-1]} of {x} and {y}.",
                         "gold": str(gold), "model": model, "correct": int(right),
                         "response": f"The answer is {gold if right else gold + 3}."})
    return pd.DataFrame(rows)


def write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False) if path.suffix == ".csv" else frame.to_json(path, orient="records", lines=True)
    return path
