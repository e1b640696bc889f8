"""serve_e2e: boot `fugu serve`, send real requests with the openai client, check answers and hiding.

    openai client → `fugu serve` (subprocess) → LiteLLMPool (litellm) → local worker server → pool

The questions are held-out recorded real ones from ``artifacts/fetch/routing`` (fetch copies
them from ``data/routing``, which ships in the repository), answered by their recorded
outputs behind the local worker server, or, with ``pool`` in the params (the full profile:
local HF models or API models), by those real workers. Whether the pool stays hidden
(``worker_names_leaked``) is measured over everything the client received. ``live``: one more
request answered LIVE by a real local model (fetch's converted SmolLM2) through `fugu serve`.
A pool the stage cannot grade (no numeric references: a user's own data) is still served for the
leak check, and the grading is recorded *not run* with the reason; a pool it cannot serve at all
(no response text) records every served metric *not run*. The live request runs either way.
The code is :mod:`fugu.serving.e2e`.
"""

from __future__ import annotations

import time

from fugu.serving.e2e import (
    NotApplicable,
    build_router,
    live_request,
    not_run_reasons,
    serve_and_ask,
    served_metrics,
    worker_source,
)
from stages.common import checksums, open_stage, stand_in_reasons, write_metrics
from stages.paths import ROOT, ROUTING_DIR, TRAINED_SPEC


def main() -> None:
    _, profile, section = open_stage("serve_e2e")
    started = time.perf_counter()
    try:
        source = worker_source(section, ROUTING_DIR)
    except NotApplicable as why:
        metrics, not_run = {}, not_run_reasons(None, str(why))
        print(f"serve_e2e: the recorded pool is not served: {why}")
    else:
        launch = build_router(section, source.worker_names, TRAINED_SPEC, ROOT)
        metrics = served_metrics(source, serve_and_ask(source, launch, section, ROOT))
        not_run = not_run_reasons(source)
    artifacts, timings = checksums(ROUTING_DIR), {}
    if section.get("live"):
        metrics["live"], timings["live"] = live_request(section["live"], section, ROOT)
        artifacts.update(checksums(*(ROOT / w["path"] for w in section["live"]["workers"])))
    write_metrics("serve_e2e", profile, metrics, artifacts, not_run=not_run,
                  timings={"wall_s": time.perf_counter() - started, **timings}, stand_in=stand_in_reasons(profile))


if __name__ == "__main__":
    main()
