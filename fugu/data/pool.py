"""Which recorded models a run routes among: the one meaning of ``fetch.routing.pool``.

A user sets the pool from the command line (``dvc exp run -S fetch.routing.pool=...``) in one of
three ways, so bringing one's own data never needs a params edit beyond the file's format entry:

- a name of ``fetch.routing.pools`` (``mixed-5``): that list of models;
- a list of models (``[gpt-4o, my-model]``): exactly those, from whichever listed files record them;
- a listed file's name (``mine.csv``): every model that file records, on that file's questions only
  (another file recording a model of the same name does not add questions to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence


class PoolError(ValueError):
    """A pool setting that names no pool, no file and no list; the message lists what exists."""


@dataclass(frozen=True)
class PoolChoice:
    """The resolved pool: its name for metrics, and either its models or the file that defines them."""

    name: str
    models: tuple[str, ...] | None = None  # None: every model of ``file``
    file: str | None = None  # restrict the questions to this listed file

    @property
    def describes(self) -> str:
        return f"every model of {self.file}" if self.file else ", ".join(self.models or ())


def resolve_pool(pool: Any, pools: Mapping[str, Sequence[str]], files: Sequence[str]) -> PoolChoice:
    """The pool ``pool`` names (see the module doc); a setting that fits none is a :class:`PoolError`."""
    if isinstance(pool, (list, tuple)):
        models = tuple(str(m) for m in pool)
        if len(models) < 2 or len(set(models)) != len(models):
            raise PoolError(f"fetch.routing.pool lists {list(models)}: a pool needs at least two distinct models")
        return PoolChoice(name="[" + ", ".join(models) + "]", models=models)
    if isinstance(pool, str) and pool in pools:
        return PoolChoice(name=pool, models=tuple(pools[pool]))
    if isinstance(pool, str) and pool in files:
        return PoolChoice(name=pool, file=pool)
    raise PoolError(f"fetch.routing.pool is {pool!r}: not a pool of fetch.routing.pools ({sorted(pools)}), "
                    f"not a file listed in data/routing/README.md ({sorted(files)}), and not a list of models")
