"""The list of recorded-outcome files a data folder offers, and copying them with their checksums.

The data folder's README carries one markdown table (``file | source | license | questions |
models | sha256``); it is the single record of what each file is and where it came from, so
the data card and the metrics quote it rather than restating it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from fugu.data.checksum import sha256_file

HEADER = ("file", "source", "license", "questions", "models", "sha256")


class ListingError(ValueError):
    """A README table that cannot be read; the message names the line."""


class ChecksumError(ValueError):
    """A copied file whose sha256 is not the one the README records."""


@dataclass(frozen=True)
class ListedFile:
    file: str
    source: str
    license: str
    questions: int | None  # None where the README cell is not a count
    models: int | None
    sha256: str

    def to_dict(self) -> dict:
        return asdict(self)


def read_listing(readme: Path) -> list[ListedFile]:
    """Every file the README's table lists (an empty list when the table has no rows)."""
    lines = Path(readme).read_text().splitlines()
    for start, line in enumerate(lines):
        if tuple(_cells(line)) == HEADER:
            break
    else:
        raise ListingError(f"{readme}: no table with header | {' | '.join(HEADER)} |")
    listed = []
    for number, line in enumerate(lines[start + 1:], start=start + 2):
        if not line.strip().startswith("|"):
            break
        cells = _cells(line)
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue  # the |---|---| separator
        if len(cells) != len(HEADER):
            raise ListingError(f"{readme}:{number}: expected {len(HEADER)} cells, got {len(cells)}: {line!r}")
        listed.append(_listed(dict(zip(HEADER, cells)), f"{readme}:{number}"))
    return listed


def copy_verified(listed: ListedFile, from_dir: Path, to_dir: Path) -> Path:
    """Copy one listed file and check the copy's sha256 against the README's."""
    source = Path(from_dir) / listed.file
    if not source.is_file():
        raise FileNotFoundError(f"{listed.file}: listed in the README but not found at {source}")
    target = Path(to_dir) / listed.file
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    got = sha256_file(target)
    if got != listed.sha256:
        target.unlink()
        raise ChecksumError(f"{listed.file}: sha256 mismatch: expected {listed.sha256}, got {got}")
    return target


def _cells(line: str) -> list[str]:
    line = line.strip()
    if not line.startswith("|"):
        return []
    return [c.strip().strip("`") for c in line.strip("|").split("|")]


def _listed(row: dict[str, str], where: str) -> ListedFile:
    name = row["file"]
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ListingError(f"{where}: file must be a plain file name in the data folder, got {name!r}")
    digest = row["sha256"].lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ListingError(f"{where}: sha256 of {name} must be 64 hex digits, got {row['sha256']!r}")
    return ListedFile(
        file=name, source=row["source"], license=row["license"],
        questions=_count(row["questions"]), models=_count(row["models"]), sha256=digest,
    )


def _count(cell: str) -> int | None:
    cleaned = cell.replace(",", "").replace("_", "").strip()
    return int(cleaned) if cleaned.isdigit() else None
