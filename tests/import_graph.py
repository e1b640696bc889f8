"""The project's own import graph, read statically (AST), for the architecture and DVC-deps tests.

Every ``import`` / ``from … import`` anywhere in a module counts, function-level ones too:
a lazy import is still code that produces the stage's numbers.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("fugu", "stages", "claims", "verify", "reports", "benchmarks")


def module_file(module: str) -> Path | None:
    """The project file defining ``module`` (a package's ``__init__.py``), or None if not ours."""
    if module.split(".")[0] not in PROJECT_PACKAGES:
        return None
    base = ROOT / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = list(path.resolve().relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=None)
def imported_modules(path: Path) -> frozenset[str]:
    """Project modules ``path`` imports directly (``from pkg import mod`` resolves to ``pkg.mod``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(m for m in found if module_file(m) is not None)


def parents(module: str) -> list[str]:
    """``a.b.c`` → ``[a, a.b]``: importing a module runs its packages' ``__init__`` first."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_closure(path: Path) -> set[Path]:
    """Every project file that runs when ``path`` runs (itself included)."""
    seen: set[Path] = set()
    todo = [path.resolve()]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        name = module_name(current)
        for module in [*imported_modules(current), *parents(name)]:
            file = module_file(module)
            if file is not None and file.resolve() not in seen:
                todo.append(file.resolve())
    return seen
