"""fetch: obtain every artifact with a recorded checksum.

Two independent parts, each writing its own outs and its own section of metrics/fetch.json:
- backbone, released vector, self-test fixture (issue #3): not built yet here, so its
  metrics are recorded *not run*;
- recorded routing outcomes (issue #4): copied from the shared data folder, sha256-checked,
  converted to one checked table, split, and described by a data card.
"""

from __future__ import annotations

from typing import Any

from fugu.outcomes import prepare_outcomes
from stages.common import ROOT, checksums, enter_profile, load_params, stage_params, write_metrics

ROUTING_DIR = ROOT / "artifacts/fetch/routing"


def main() -> None:
    params = load_params()
    profile = params["profile"]
    section = stage_params(params, "fetch")
    enter_profile(profile)
    metrics: dict[str, Any] = {}
    not_run: dict[str, str] = {}
    produced = []

    # --- backbone, released vector, fixture (issue #3) -----------------------------------
    not_run["param_count"] = "backbone fetch not built yet (issue #3)"

    # --- recorded routing outcomes (issue #4) --------------------------------------------
    metrics["routing"], reason = fetch_routing_data(section["routing"], profile)
    if reason:
        not_run["routing"] = reason
    produced.append(ROUTING_DIR)

    write_metrics("fetch", profile, metrics, checksums(*produced), not_run=not_run)


def fetch_routing_data(cfg: dict[str, Any], profile: str) -> tuple[dict[str, Any], str | None]:
    """Build artifacts/fetch/routing from the shared folder; (metrics, not-run reason or None).

    No folder at all is fatal in the full profile (its claims need real outcomes) and recorded
    as not run in the tiny one (a fresh clone may have no shared data beside it).
    """
    prepared = prepare_outcomes(
        (ROOT / cfg["data_dir"]).resolve(), ROUTING_DIR, dict(cfg["fractions"]), int(cfg["split_seed"]),
        formats=cfg.get("formats") or {}, models=cfg.get("models") or None,
        data_dir_label=cfg["data_dir"], missing_ok=profile == "tiny",
    )
    return prepared.metrics, prepared.not_run


if __name__ == "__main__":
    main()
