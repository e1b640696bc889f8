"""Where a full-profile artifact comes from, and getting it: a local path, a hub repo, or a URL.

A user-supplied ``path`` always wins (air-gapped machines, licences that need a manual
download). Otherwise the hub (``huggingface_hub``) or a plain HTTPS URL. Every artifact that
cannot be obtained is collected, so one run names *all* that is missing and, for each, the
params key that supplies it by path; nothing falls back silently.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from fugu.data.checksum import sha256_file
from fugu.data.listing import ChecksumError


@dataclass(frozen=True)
class Source:
    name: str  # what it is, for messages: "backbone", "vector", "fixture"
    supply_key: str  # the params key that supplies it by path, for messages
    path: str | None = None
    repo_id: str | None = None
    repo_type: str = "model"
    revision: str | None = None
    filenames: tuple[str, ...] = ()  # candidates inside the repo, tried in order; () = whole snapshot
    url: str | None = None
    note: str = ""  # what is known (or not) about this source, repeated in the error
    sha256: str | None = None  # pin for a single-file artifact: a different file is refused, named


class MissingArtifacts(RuntimeError):
    """One or more artifacts could not be obtained; the message names each and how to supply it."""


def obtain(source: Source, dest: Path) -> Path:
    """Put the artifact at ``dest`` (a file, or a directory for a snapshot), checked against its
    pinned sha256 if it has one; raise OSError/RuntimeError/ChecksumError why not."""
    dest = _fetch(source, Path(dest))
    if source.sha256 and dest.is_file():
        got = sha256_file(dest)
        if got != source.sha256.lower():
            dest.unlink()  # a corrupt or substituted file must not stay where later stages read
            raise ChecksumError(f"{source.name}: {dest} has sha256 {got}, expected {source.sha256} "
                                f"(from {source.path or source.url or source.repo_id})")
    return dest


def _fetch(source: Source, dest: Path) -> Path:
    if source.path:
        local = Path(source.path).expanduser()
        if not local.exists():
            raise FileNotFoundError(f"{source.supply_key}={source.path} does not exist")
        _copy(local, dest)
        return dest
    if source.repo_id and not source.filenames:
        from huggingface_hub import snapshot_download

        snapshot_download(repo_id=source.repo_id, repo_type=source.repo_type, revision=source.revision, local_dir=dest)
        return dest
    if source.repo_id:
        from huggingface_hub import hf_hub_download

        reasons = []
        for filename in source.filenames:
            try:
                got = hf_hub_download(repo_id=source.repo_id, filename=filename, repo_type=source.repo_type,
                                      revision=source.revision)
            except Exception as exc:  # every hub failure (offline, 401, 404) is a reason to report
                reasons.append(f"{filename}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                continue
            _copy(Path(got), dest)
            return dest
        raise RuntimeError(f"not found in {source.repo_type} repo {source.repo_id}: " + "; ".join(reasons))
    if source.url:
        import httpx

        response = httpx.get(source.url, follow_redirects=True, timeout=60)
        response.raise_for_status()
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(response.content)
        return dest
    raise RuntimeError("no source configured")


def obtain_all(wanted: list[tuple[Source, Path]]) -> dict[str, Path]:
    """Obtain every artifact, or raise MissingArtifacts naming each one that failed."""
    got: dict[str, Path] = {}
    failures: list[str] = []
    for source, dest in wanted:
        try:
            got[source.name] = obtain(source, dest)
        except Exception as exc:  # collected and reported together, never swallowed
            where = source.path or source.url or source.repo_id or "nowhere"
            note = f" ({source.note})" if source.note else ""
            failures.append(
                f"- {source.name}: could not get it from {where}: {type(exc).__name__}: {exc}{note}\n"
                f"  supply it by path: set {source.supply_key} in params.yaml, e.g. "
                f"`dvc exp run -S profile=full -S '{source.supply_key}=/path/to/{source.name}'`"
            )
    if failures:
        raise MissingArtifacts("the full profile needs these artifacts, which could not be obtained:\n"
                               + "\n".join(failures))
    return got


def _copy(src: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dest)
    else:
        shutil.copyfile(src, dest)
