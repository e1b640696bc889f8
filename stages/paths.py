"""Every artifact, metrics and plot path of the pipeline, once.

Stages import their inputs and outputs from here, never from another stage. ``dvc.yaml``
must name the same paths (DVC reads only its own file); ``tests/stages/test_paths.py``
checks that it does, and that the ``fugu`` command's defaults point at the same files.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAMS_FILE = ROOT / "params.yaml"
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
SELF_TEST_SPEC = SELF_TEST_DIR / "trinity.json"  # what `fugu route` loads by default

# train_trinity
TRAINED_DIR = ROOT / "artifacts/train_trinity"
TRAINED_VECTOR = TRAINED_DIR / "vector.npy"
TRAINED_SPEC = TRAINED_DIR / "trinity.json"  # what eval and `fugu serve --router trinity` rebuild it from
TRAINED_SWEEP = TRAINED_DIR / "sweep"         # one vector + spec per cost weight λ (lambda_<i>.npy/.json)
TRAINED_SWEEP_INDEX = TRAINED_SWEEP / "index.json"
TRAINED_SEEDS = TRAINED_DIR / "seeds"         # the head trained once per seed (seed_<s>.npy): what eval judges
TRAINED_SEEDS_INDEX = TRAINED_SEEDS / "index.json"
TRINITY_FITNESS_PLOT = PLOTS_DIR / "train_trinity_fitness.csv"

# train_conductor
CONDUCTOR_POLICY_DIR = ROOT / "artifacts/train_conductor/policy"
CONDUCTOR_REWARD_PLOT = PLOTS_DIR / "train_conductor_reward.csv"

# eval
COST_QUALITY_PLOT = PLOTS_DIR / "eval_cost_quality.csv"

# the medium profile: run once (too slow for every `dvc repro`), its outputs committed; report reads them
MEDIUM_RESULTS_DIR = ROOT / "results/medium"
MEDIUM_VERDICTS = MEDIUM_RESULTS_DIR / "verdicts.json"       # same format as reports/verdicts.json
MEDIUM_EVAL_METRICS = MEDIUM_RESULTS_DIR / "metrics/eval.json"  # same format as metrics/eval.json
MEDIUM_RUN = MEDIUM_RESULTS_DIR / "run.json"                 # commit, cpu, wall_s, profile


def metrics_file(stage: str) -> Path:
    return METRICS_DIR / f"{stage}.json"


def relative(path: Path) -> str:
    """A path as the repo-relative string metrics and specs record."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
