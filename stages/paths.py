"""Every artifact, metrics and plot path of the pipeline, once.

Stages import their inputs and outputs from here, never from another stage. ``dvc.yaml``
must name the same paths (DVC reads only its own file); ``tests/stages/test_paths.py``
checks that it does. What the ``fugu`` command reads by default is defined in
:mod:`fugu.pipeline_paths` (the library never imports the pipeline) and built on here.
"""

from __future__ import annotations

from pathlib import Path

from fugu import pipeline_paths

ROOT = Path(__file__).resolve().parent.parent
PARAMS_FILE = ROOT / pipeline_paths.PARAMS_FILE  # the knobs
PROVENANCE_FILE = ROOT / pipeline_paths.PROVENANCE_FILE  # where each artifact comes from: sources, sha256s, licences, prices
ROUTING_DATA_DIR = ROOT / pipeline_paths.ROUTING_DATA_DIR  # the recorded outcomes, shipped with the project (its README lists the files)
REFERENCE_CONFIG = ROOT / "configs/qwen3-0.6b"  # Qwen3-0.6B's config: the reference parameter count (no weights)
METRICS_DIR = ROOT / "metrics"
TIMINGS_DIR = METRICS_DIR / "timings"  # machine-dependent, never a DVC out
PLOTS_DIR = ROOT / "plots"

# fetch
ROUTING_DIR = ROOT / "artifacts/fetch/routing"
BACKBONE_DIR = ROOT / "artifacts/fetch/backbone"
FIXTURE_DIR = ROOT / "artifacts/fetch/fixture"
FIXTURE_FILE = FIXTURE_DIR / "fixture.json"
LOGITS_SNAPSHOT_FILE = FIXTURE_DIR / "logits_snapshot.json"  # full profile only: the port's per-case logits
VECTOR_DIR = ROOT / "artifacts/fetch/vector"
CONDUCTOR_FETCH_DIR = ROOT / "artifacts/fetch/conductor"  # full profile: the Conductor's policy and ToolScale
CONDUCTOR_FETCHED_POLICY = CONDUCTOR_FETCH_DIR / "policy"     # the base model GRPO starts from
TOOLSCALE_DIR = CONDUCTOR_FETCH_DIR / "toolscale"             # nvidia/ToolScale records (a hub snapshot)
WORKER_MODELS_DIR = ROOT / "artifacts/fetch/worker_models"  # packaged GGUF workers (Gemma-3-270M), sha256-checked

# features: the backbone's hidden states per question, computed once (fugu/trinity/features.py)
FEATURES_DIR = ROOT / "artifacts/features"
REAL_FEATURES = "features.npz"          # recorded real questions: question_id, penultimate, last
FEATURES_FILE = FEATURES_DIR / REAL_FEATURES
SIMULATED_FEATURES = "simulated.npz"    # the simulated pool's questions (mock claims)
EMBEDDINGS = "embeddings.npz"           # all-MiniLM-L6-v2 of the recorded real questions: question_id, embedding

# self_test
SELF_TEST_DIR = ROOT / "artifacts/self_test"
PLANTED_VECTOR = SELF_TEST_DIR / "planted_vector.npy"
SELF_TEST_CASES = SELF_TEST_DIR / "cases.csv"
SELF_TEST_SPEC = ROOT / pipeline_paths.SELF_TEST_SPEC  # what `fugu route` loads by default

# train_trinity
TRAINED_DIR = ROOT / "artifacts/train_trinity"
TRAINED_VECTOR = TRAINED_DIR / "vector.npy"
TRAINED_SPEC = ROOT / pipeline_paths.TRAINED_SPEC  # what eval and `fugu serve --router trinity` rebuild it from
TRAINED_HEAD_SVF = TRAINED_DIR / "head_svf.npy"  # full profile: the head+svf search's vector (not served)
TRAINED_SWEEP = TRAINED_DIR / "sweep"         # one vector + spec per cost weight λ (lambda_<i>.npy/.json)
TRAINED_SWEEP_INDEX = TRAINED_SWEEP / "index.json"
TRAINED_SEEDS = TRAINED_DIR / "seeds"         # the head trained once per seed (seed_<s>.npy): what eval judges
TRAINED_SEEDS_INDEX = TRAINED_SEEDS / "index.json"
TRINITY_FITNESS_PLOT = PLOTS_DIR / "train_trinity_fitness.csv"

# train_conductor
CONDUCTOR_POLICY_DIR = ROOT / pipeline_paths.CONDUCTOR_POLICY_DIR
CONDUCTOR_REWARD_PLOT = PLOTS_DIR / "train_conductor_reward.csv"
CONDUCTOR_SEEDS = ROOT / "artifacts/train_conductor/seeds"  # each seed's trained tensors: what eval judges
CONDUCTOR_SEEDS_INDEX = CONDUCTOR_SEEDS / "index.json"

# eval
COST_QUALITY_PLOT = PLOTS_DIR / "eval_cost_quality.csv"

# report
REPORT_HTML = ROOT / pipeline_paths.REPORT_HTML
VERDICTS = ROOT / pipeline_paths.VERDICTS
CLAIMS_TABLE = ROOT / "reports/claims.md"  # every claim, source, their evidence, verdict (docs/claims.md is a snapshot)

# the medium profile: run once (too slow for every `dvc repro`), its outputs committed; report reads them
MEDIUM_RESULTS_DIR = ROOT / "results/medium"
MEDIUM_VERDICTS = MEDIUM_RESULTS_DIR / "verdicts.json"       # same format as reports/verdicts.json
MEDIUM_TABLE = MEDIUM_RESULTS_DIR / "verdicts.yaml"          # tools/verdict_table.py: per claim, the record judged
MEDIUM_EVAL_METRICS = MEDIUM_RESULTS_DIR / "metrics/eval.json"  # same format as metrics/eval.json
MEDIUM_RUN = MEDIUM_RESULTS_DIR / "run.json"                 # commit, cpu, wall_s, profile


def metrics_file(stage: str) -> Path:
    """The metrics file every stage writes (stages.common) and the report reads."""
    return METRICS_DIR / f"{stage}.json"


def relative(path: Path) -> str:
    """A path as the repo-relative string metrics and specs record."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
