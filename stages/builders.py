"""Objects several stages build the same way: the simulated pool's world and the coordinator spec.

Kept apart from :mod:`stages.common` so a stage that needs neither (report) does not depend on
the simulated pool or the TRINITY code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from fugu.pools.simulated import SimulatedPool, split_question_ids
from fugu.trinity.spec import TrinitySpec
from stages.paths import BACKBONE_DIR, ROOT


def simulated_world(params: dict[str, Any]) -> tuple[SimulatedPool, list[str], list[str]]:
    """The simulated pool (a MOCK) and its one (train, held-out) split, the same in every stage,
    so no stage trains or selects on the questions another stage reports on."""
    pool = SimulatedPool.generate(**params["simulated_pool"])
    split = params["simulated_split"]
    train_ids, held_ids = split_question_ids(pool, float(split["held_out_fraction"]), int(split["seed"]))
    return pool, train_ids, held_ids


def coordinator_spec(coordinator: dict[str, Any], workers: Sequence[str], vector: Path,
                     **provenance: Any) -> TrinitySpec:
    """A spec over the fetched backbone from the `trinity` params: how self_test and train_trinity
    build their coordinator and what they save beside its vector (for eval, `fugu route`, `fugu serve`)."""
    return TrinitySpec(
        backbone_dir=str(BACKBONE_DIR.relative_to(ROOT)), vector=str(Path(vector).resolve().relative_to(ROOT)),
        workers=list(workers), roles=list(coordinator["roles"]), svf_layers=coordinator["svf_layers"],
        prompt_format=coordinator["prompt_format"], padding_side=coordinator["padding_side"],
        batch_size=int(coordinator["batch_size"]), max_prompt_tokens=coordinator["max_prompt_tokens"],
        pad_tolerance=float(coordinator["pad_tolerance"]),
        tied_embeddings=coordinator["tied_embeddings"], **provenance,
    )


def vector_file(directory: Path) -> Path:
    """The fetched vector in ``directory``, whichever format it came in."""
    found = sorted(directory.glob("vector.*"))
    if not found:
        raise FileNotFoundError(f"no vector under {directory}: run the fetch stage in the full profile")
    return found[0]
