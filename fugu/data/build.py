"""From a data folder of recorded outcomes to the checked table, splits and data card.

The one function the ``fetch`` stage calls. Steps: read the README listing; copy each listed
file and verify its sha256; convert it to the tidy table; check the counts the README
states; keep the models every file records and the questions every kept model answered (a
routing comparison needs every worker's outcome on every question); split; write.

The recorded outcomes ship with the project (data/routing), so a folder without its README,
or a README that lists no file, is an error naming the folder: there is no "no data" path.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fugu.data.card import card_metrics, render_data_card
from fugu.data.convert import ConversionError, InputFormat, convert_file
from fugu.data.listing import ListedFile, ListingError, copy_verified, read_listing
from fugu.data.pricing import cost_summary, estimate_costs, resolve_prices
from fugu.data.splits import SPLITS, SPLITS_FILE, assign_splits, write_splits
from fugu.data.subset import stratified_subset
from fugu.data.table import TABLE_FILE, validate_outcome_table, write_outcome_table

README = "README.md"
SOURCES_DIR = "sources"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "data_card.md"


@dataclass
class PreparedOutcomes:
    """What was built: the summary metrics and the files it was built from."""

    metrics: dict[str, Any]
    listed: list[ListedFile] = field(default_factory=list)


def prepare_outcomes(
    data_dir: Path,
    out_dir: Path,
    fractions: dict[str, float],
    seed: int,
    formats: dict[str, dict] | None = None,
    models: list[str] | None = None,
    data_dir_label: str | None = None,
    pool_name: str | None = None,
    subset: dict[str, int] | None = None,
    prices: dict[str, dict] | None = None,
    tokenizer_model: str = "gpt-4o",
    pool_file: str | None = None,
) -> PreparedOutcomes:
    """Build ``out_dir/{outcomes.parquet, splits.csv, manifest.json, data_card.md, sources/}``.

    ``formats`` maps a listed file name to its :class:`InputFormat` fields; ``models`` fixes
    the pool (default: the models every file records), ``pool_name`` names it in metrics.
    ``subset`` (questions per split, stratified by category; None = all) picks the questions
    kept after the split is drawn over every question, so a question's split never depends on
    the subset; a split smaller than its count is kept whole (a user's small file), and the
    metrics say so. ``pool_file`` (a pool named by its file, :mod:`fugu.data.pool`): every model of
    that file, on that file's questions only. With ``prices`` (see :mod:`fugu.data.pricing`) each kept row's ``cost`` is the
    estimated USD of that answer; a pool model without a price is an error naming it. A folder without a README
    raises FileNotFoundError, a README listing no file ListingError; a listed file that is missing,
    fails its checksum or cannot be converted raises too.
    """
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    label = data_dir_label or str(data_dir)
    readme = data_dir / README
    if not readme.is_file():
        raise FileNotFoundError(f"no {README} in the recorded-outcomes folder {label} (resolved to {data_dir.resolve()})")
    listed = read_listing(readme)
    if not listed:
        raise ListingError(f"{label}/{README} lists no recorded-outcomes file")
    shutil.rmtree(out_dir / SOURCES_DIR, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)

    tables = [_convert_listed(item, data_dir, out_dir / SOURCES_DIR, (formats or {}).get(item.file)) for item in listed]
    table = pd.concat(tables, ignore_index=True)
    if pool_file is not None:
        table = _of_file(table, pool_file, [i.file for i in listed])
        models = sorted(table["model"].unique())
    table, counts = _complete(table, tables, models, [i.file for i in listed])
    counts["files"] = len(listed)

    all_splits = assign_splits(table, fractions, seed)
    subset, capped = _capped(subset, all_splits)
    splits = stratified_subset(all_splits, subset, seed)
    counts["pool"] = {"name": pool_name or "all shared models", "models": sorted(table["model"].unique().tolist())}
    counts["subset"] = {
        "per_split": dict(subset) if subset is not None else "all",
        "stratified_by": "category",
        "questions_before_subset": {s: int((all_splits["split"] == s).sum()) for s in SPLITS},
    }
    if capped:
        counts["subset"]["kept_whole"] = capped
    table = table[table["question_id"].isin(set(splits["question_id"]))].reset_index(drop=True)
    if prices is not None and len(table):
        resolved = resolve_prices(counts["pool"]["models"], prices)
        priced = estimate_costs(table, resolved, tokenizer_model)
        counts["estimated_cost"] = cost_summary(priced, resolved, tokenizer_model)
        table = priced.drop(columns=["prompt_tokens", "response_tokens"])
    write_outcome_table(table, out_dir / TABLE_FILE)
    write_splits(splits, out_dir / SPLITS_FILE)
    metrics = {**counts, **card_metrics(table, splits)}
    (out_dir / CARD_FILE).write_text(render_data_card(listed, metrics, label))
    # "not_run" is always null now; kept so the manifest (a fetch out every later stage hashes) keeps its bytes
    manifest = {"data_dir": label, "listed": [f.to_dict() for f in listed], "sha256_verified": True,
                "split_seed": seed, "fractions": fractions, "not_run": None, "metrics": metrics}
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return PreparedOutcomes(metrics, listed)


def _of_file(table: pd.DataFrame, file: str, files: list[str]) -> pd.DataFrame:
    """The rows a pool named by its file routes over: that file's, whatever other files record."""
    if file not in files:
        raise ConversionError(f"the pool names file {file!r}, which the README does not list ({', '.join(files)})")
    return table[table["source"] == file].reset_index(drop=True)


def _capped(subset: dict[str, int] | None, splits: pd.DataFrame) -> tuple[dict[str, int] | None, list[str]]:
    """The subset with each count at most what its split holds, and the splits kept whole because of it."""
    if subset is None:
        return None, []
    held = {s: int((splits["split"] == s).sum()) for s in SPLITS}
    capped = [s for s, n in subset.items() if s in held and int(n) > held[s]]
    return {s: min(int(n), held.get(s, int(n))) for s, n in subset.items()}, capped


def _convert_listed(item: ListedFile, data_dir: Path, sources: Path, fmt: dict | None) -> pd.DataFrame:
    copy = copy_verified(item, data_dir, sources)
    table = convert_file(copy, InputFormat.from_dict(fmt))
    for what, listed, got in (("questions", item.questions, table["question_id"].nunique()),
                              ("models", item.models, table["model"].nunique())):
        if listed is not None and listed != got:
            raise ConversionError(f"{item.file}: README lists {listed} {what}, the converted file has {got} "
                                  "(wrong format settings for this file, or a wrong README row)")
    return table


def _complete(table: pd.DataFrame, per_file: list[pd.DataFrame], models: list[str] | None,
              files: list[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """Keep the pool's models, then only questions every one of them answered."""
    if models:
        unknown = sorted(set(models) - set(table["model"]))
        if unknown:
            raise ConversionError(f"pool models {unknown} are not recorded in any listed file "
                                  f"({', '.join(files or [])}; recorded: {sorted(table['model'].unique())})")
        pool = sorted(models)
    else:
        common = set.intersection(*(set(t["model"]) for t in per_file))
        if not common:
            raise ConversionError("the listed files share no model; name the pool with `models`")
        pool = sorted(common)
    kept = table[table["model"].isin(pool)]
    answered = kept.groupby("question_id")["model"].nunique()
    complete = answered.index[answered == len(pool)]
    result = validate_outcome_table(kept[kept["question_id"].isin(complete)])
    return result, {
        "rows_dropped_other_models": int(len(table) - len(kept)),
        "questions_dropped_incomplete": int(table["question_id"].nunique() - len(complete)),
    }
