"""Adding a recorded-outcomes file to a project: ``fugu data add FILE``.

Bringing one's own data used to mean three hand edits guided by one error at a time (a README row
with the file's sha256 and exact counts, a format entry, a price per unknown model). Here the file
is converted first, exactly as ``fetch`` will convert it, and only a file that converts is added:

1. :func:`preview` converts it (the same :func:`fugu.data.convert.convert_file`) and reports what it
   understood: layout, models, questions, categories, the source columns used, references/responses.
2. :func:`plan_addition` computes the new texts of the data README (its row: sha256 and counts
   *measured* from the file and the conversion, never typed), ``params.yaml`` (the file's
   ``fetch.routing.formats`` entry) and ``configs/provenance.yaml`` (a price per model the project
   does not price yet: litellm's bundled cost map by the model's name, else the ``--price`` given,
   else *cost unknown*), and checks each parses back to what was meant.
3. :func:`apply_addition` writes them all, or, on any failure, restores every file as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from fugu.data.checksum import sha256_file
from fugu.data.convert import InputFormat, convert_frame, find_columns, layout_of, read_source
from fugu.data.listing import HEADER, ListingError, read_listing

CALLED = "fugu data add"


class AddError(ValueError):
    """A file that cannot be added as asked; the message names the file and what to change."""


@dataclass(frozen=True)
class Preview:
    """What the converter understood of a file (all measured from it)."""

    file: str
    layout: str
    format_entry: dict[str, Any]  # the params entry that makes fetch read it the same way
    columns: dict[str, str]  # tidy column -> source column used
    models: list[str]
    questions: int
    categories: dict[str, int]
    references: int  # questions with a reference answer
    responses: int  # rows with a response text
    sha256: str

    def describe(self) -> str:
        """The lines the command prints, so a user sees what was understood before trusting it."""
        cats = ", ".join(f"{c} ({n})" for c, n in self.categories.items())
        return "\n".join([
            f"{self.file}: {self.layout} layout, {self.questions} questions × {len(self.models)} models",
            f"  models: {', '.join(self.models)}",
            f"  categories: {cats}",
            f"  columns used: {', '.join(f'{k} ← {v!r}' for k, v in self.columns.items())}",
            f"  reference answers: {self.references} of {self.questions} questions; "
            f"response texts: {self.responses} of {self.questions * len(self.models)} rows",
            f"  sha256: {self.sha256}",
        ])


def preview(path: Path, layout: str = "auto", separator: str | None = None, category: str | None = None,
            models: Sequence[str] = ()) -> Preview:
    """Convert ``path`` as fetch will and describe it; a file that does not convert raises, naming it."""
    path = Path(path)
    if not path.is_file():
        raise AddError(f"{path}: no such file")
    raw = read_source(path)
    entry: dict[str, Any] = {"layout": layout}
    if separator is not None:
        entry["separator"] = separator
    if models:
        entry["models"] = list(models)
    fmt = InputFormat.from_dict(entry)
    found = find_columns(raw, fmt)
    resolved = layout_of(found, fmt)
    if "category" not in found:  # a file without categories: one constant category, the file's stem by default
        entry["category"] = category or path.name.split(".")[0]
    elif category is not None:
        raise AddError(f"{path.name}: --category given, but the file has a category column ({found['category']!r})")
    entry["layout"] = resolved
    table = convert_frame(raw, source=path.name, fmt=InputFormat.from_dict(entry))
    if resolved == "wide" and not models:  # pin the score columns found, so a later column cannot join silently
        entry["models"] = sorted(table["model"].unique())
    used = {k: str(v) for k, v in found.items() if resolved == "long" or k in ("question_id", "category", "question",
                                                                                 "reference")}
    if resolved == "wide":
        used["score"] = f"one column per model: {', '.join(map(str, entry['models']))}"
    per_question = table.drop_duplicates("question_id")
    counts = per_question["category"].value_counts().sort_index()
    return Preview(
        file=path.name, layout=resolved, format_entry=entry, columns=used,
        models=sorted(table["model"].unique()), questions=int(table["question_id"].nunique()),
        categories={str(c): int(n) for c, n in counts.items()},
        references=int(per_question["reference"].notna().sum()), responses=int(table["response"].notna().sum()),
        sha256=sha256_file(path),
    )


def price_entries(models: Sequence[str], known: set[str], price: tuple[float, float] | None) -> dict[str, dict]:
    """A price entry for each model the project does not price yet (``known``): litellm's bundled map
    by the model's name, else the ``--price`` given (USD per million tokens, in and out), else *cost unknown*."""
    import litellm  # local: only pricing needs it (LITELLM_LOCAL_MODEL_COST_MAP keeps it offline)

    entries: dict[str, dict] = {}
    for model in models:
        if model in known:
            continue
        listed = litellm.model_cost.get(model) or {}
        if "input_cost_per_token" in listed and "output_cost_per_token" in listed:
            entries[model] = {"litellm_key": model}
        elif price is not None:
            entries[model] = {"list_price": [float(price[0]), float(price[1])],
                              "source": f"given to `{CALLED} --price` (USD per million tokens, in/out)"}
        else:
            entries[model] = {"cost_unknown": f"not in litellm's cost map and no `{CALLED} --price` given"}
    return entries


@dataclass
class Addition:
    """Every file the addition writes, with its new text (the data file itself is copied)."""

    source: Path
    target: Path
    texts: dict[Path, str] = field(default_factory=dict)


def plan_addition(view: Preview, source: Path, data_dir: Path, params_file: Path, provenance_file: Path,
                  license: str, origin: str, price: tuple[float, float] | None) -> Addition:
    """The new README, params and provenance texts for adding ``source``; nothing is written yet."""
    data_dir = Path(data_dir)
    readme = data_dir / "README.md"
    listed = {item.file for item in read_listing(readme)}
    target = data_dir / view.file
    if view.file in listed or target.exists():
        raise AddError(f"{view.file}: {data_dir} already holds a file of that name (rename yours, or remove the "
                       "old one and its README row)")
    params = yaml.safe_load(Path(params_file).read_text())
    if view.file in (params["fetch"]["routing"].get("formats") or {}):
        raise AddError(f"{view.file}: params.yaml already has a fetch.routing.formats entry for it")
    provenance = yaml.safe_load(Path(provenance_file).read_text())
    prices = price_entries(view.models, set(provenance["routing"]["prices"]), price)
    row = _cells([view.file, origin, license, str(view.questions), str(len(view.models)), view.sha256])
    texts = {
        readme: _with_table_row(readme.read_text(), row),
        Path(params_file): _with_child(Path(params_file).read_text(), "formats", {view.file: view.format_entry}),
        Path(provenance_file): _with_child(Path(provenance_file).read_text(), "prices", prices)
        if prices else Path(provenance_file).read_text(),
    }
    _check_plan(texts, readme, Path(params_file), Path(provenance_file), view, prices)
    return Addition(Path(source), target, texts)


def apply_addition(addition: Addition) -> None:
    """Copy the file in and write every text; on any failure every file is as it was before."""
    before = {path: path.read_text() for path in addition.texts}
    try:
        shutil.copyfile(addition.source, addition.target)
        if sha256_file(addition.target) != sha256_file(addition.source):
            raise AddError(f"{addition.target}: the copy differs from {addition.source}")
        for path, text in addition.texts.items():
            path.write_text(text)
    except BaseException:
        addition.target.unlink(missing_ok=True)
        for path, text in before.items():
            path.write_text(text)
        raise


def pool_line(view: Preview) -> str:
    """The command that routes over the new file's models."""
    return f"dvc exp run -S 'fetch.routing.pool={view.file}'"


def _cells(values: Sequence[str]) -> str:
    for value in values:
        if "|" in value or "\n" in value:
            raise AddError(f"README cell {value!r} must not hold '|' or a line break")
    return "| " + " | ".join(values) + " |"


def _with_table_row(text: str, row: str) -> str:
    """The README with ``row`` after the last row of its ``file | source | ...`` table."""
    lines = text.splitlines(keepends=True)
    header = next((i for i, line in enumerate(lines)
                   if [c.strip() for c in line.strip().strip("|").split("|")] == list(HEADER)), None)
    if header is None:
        raise ListingError(f"the data README has no table with header | {' | '.join(HEADER)} |")
    end = header + 1
    while end < len(lines) and lines[end].strip().startswith("|"):
        end += 1
    return "".join(lines[:end] + [row + "\n"] + lines[end:])


def _with_child(text: str, key: str, entries: dict[str, Any]) -> str:
    """The YAML text with ``entries`` added under the one mapping named ``key`` (comments kept: a
    text edit, checked by parsing the result)."""
    lines = text.splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.lstrip().startswith(f"{key}:")]
    if len(at) != 1:
        raise AddError(f"expected one `{key}:` mapping in the YAML file, found {len(at)}")
    i = at[0]
    indent = len(lines[i]) - len(lines[i].lstrip())
    head, _, comment = lines[i].rstrip("\n").partition("#")
    if head.split(":", 1)[1].strip() == "{}":  # an empty flow mapping becomes a block one
        lines[i] = " " * indent + f"{key}:" + (f"  #{comment}" if comment else "") + "\n"
    end = i + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
        end += 1
    while end > i + 1 and not lines[end - 1].strip():
        end -= 1
    child = " " * (indent + 2)
    new = [f"{child}{_yaml_key(name)}: {_flow(value)}\n" for name, value in entries.items()]
    return "".join(lines[:end] + new + lines[end:])


def _yaml_key(name: str) -> str:
    return yaml.safe_dump(name, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000).strip()


def _check_plan(texts: dict[Path, str], readme: Path, params_file: Path, provenance_file: Path, view: Preview,
                prices: dict[str, dict]) -> None:
    """Each new text parses back to what was meant (a text edit must not corrupt what it edits)."""
    params = yaml.safe_load(texts[params_file])
    if params["fetch"]["routing"]["formats"].get(view.file) != view.format_entry:
        raise AddError(f"{params_file}: the format entry for {view.file} did not read back as written")
    provenance = yaml.safe_load(texts[provenance_file])
    if any(provenance["routing"]["prices"].get(m) != e for m, e in prices.items()):
        raise AddError(f"{provenance_file}: a price entry did not read back as written")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "README.md").write_text(texts[readme])
        rows = {item.file: item for item in read_listing(Path(tmp) / "README.md")}
    got = rows.get(view.file)
    if got is None or (got.sha256, got.questions, got.models) != (view.sha256, view.questions, len(view.models)):
        raise AddError(f"{readme}: the row for {view.file} did not read back as written")
