"""A number the README or docs/ quotes in prose is the number of the file it comes from, rounded as printed.

The tables are generated (the README's results block: ``tools/readme_results.py``; the performance
tables: ``tools/docs_tables.py``). The numbers quoted in sentences are checked here, each against
the committed file that holds it: a results file (``results/``, ``benchmarks/results/``), a claim
record (a source's number), ``params.yaml`` (a setting), the shipped data, or the code's default.
A quote is the sentence as printed with ``{}`` for each number; line breaks count as spaces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@cache
def load(path: str) -> Any:
    text = (ROOT / path).read_text()
    return json.loads(text) if path.endswith(".json") else yaml.safe_load(text)


def results(profile: str) -> dict:
    return load(f"results/{profile}/results.json")


def run(name: str) -> dict:
    """A committed run record: the medium run, or one of the tiny jitter runs (`committed` is tiny's own)."""
    return load("results/medium/run.json" if name == "medium" else f"results/tiny/jitter_runs/{name}/run.json")


def experiment(profile: str, name: str) -> dict:
    """Headline numbers of one of eval's experiments on real outcomes, as the profile's results file holds them."""
    return results(profile)["experiments"][name]


def verdict(profile: str, claim: str) -> dict:
    return load(f"results/{profile}/verdicts.yaml")["claims"][claim]


def metrics(stage: str) -> dict:
    return load(f"results/medium/metrics/{stage}.json")["metrics"]


def claimed(claim: str) -> dict:
    """The claimed effect of a claim record: its reduced check's where it has one."""
    record = load(f"claims/{claim}.yaml")
    return (record.get("reduced") or record)["effect"]


def params() -> dict:
    return load("params.yaml")


def bench(name: str) -> dict:
    return load(f"benchmarks/results/{name}.json")


def qwen3() -> dict:
    return load("configs/qwen3-0.6b/config.json")


@cache
def shipped(name: str) -> pd.DataFrame:
    """One shipped data file of data/routing/, without the text columns."""
    return pd.read_parquet(ROOT / "data/routing" / f"{name}.parquet",
                           columns=["question_id", "benchmark", "category", "model"])


@cache
def pool_questions(pool: str) -> int:
    """Questions of the shipped data every model of the pool answered."""
    table = pd.concat([shipped("zeroeval"), shipped("mmlu_pro")])
    models = params()["fetch"]["routing"]["pools"][pool]
    answered = table[table.model.isin(models)].groupby("question_id").model.nunique()
    return int((answered == len(models)).sum())


def about_tens(values: list[float]) -> int:
    """The multiple of ten every value rounds to (an "about +20%" must hold for each)."""
    tens = {int(round(v / 10)) * 10 for v in values}
    assert len(tens) == 1, f"{values} do not round to one multiple of ten"
    return tens.pop()


def half_width_points(record: dict) -> float:
    low, high = record["ci"]
    return (high - low) / 2 * 100


@dataclass(frozen=True)
class Quote:
    doc: str
    text: str                          # as printed, {} (with a format spec) where each number goes
    numbers: Callable[[], tuple]       # the numbers, read from the committed file


def subset(profile: str) -> tuple:
    found = params()["fetch"][profile]["routing_subset"]
    return found["train"], found["validation"], found["test"]


def medium_n() -> tuple:
    routing = results("medium")["routing"]
    return routing["n_train"], routing["n_validation"], routing["n_test"]


def tiny_svf_offsets() -> int:
    return metrics("fetch")["param_count"]["medium_svf"]  # the same backbone and SVF targets as tiny


QUOTES = [
    # --- README: what the audit found (the paragraph after the generated block) -------------------
    Quote("README.md", "offline, {} CPU cores, real mechanisms", lambda: (params()["numerics"]["threads"],)),
    Quote("README.md", "mixed-5 pool; {:.0%} intervals pooled over questions and seeds",
          lambda: (params()["bootstrap"]["confidence"],)),
    Quote("README.md", "about {:.0f} minutes of pipeline on the Xeon kind once installed",
          lambda: (run("committed")["wall_s"] / 60,)),
    Quote("README.md", "held-out routers reach in the largest router benchmark (+{:.0f}–{:.0f}% relative, LLMRouterBench)",
          lambda: ((claimed("llmrouterbench-heldout-gain")["value"] - claimed("llmrouterbench-heldout-gain")["tolerance"]) * 100,
                   (claimed("llmrouterbench-heldout-gain")["value"] + claimed("llmrouterbench-heldout-gain")["tolerance"]) * 100)),
    Quote("README.md", "At tiny ({} test questions) the interval is about ±{:.0f} points wide",
          lambda: (results("tiny")["routing"]["n_test"],
                   half_width_points(results("tiny")["routing"]["routers"]["trinity"]["relative_gain"]))),
    Quote("README.md", "At medium ({:,} held-out questions, {} seeds)",
          lambda: (results("medium")["routing"]["n_test"], len(results("medium")["routing"]["seeds"]))),
    Quote("README.md", "The published +{:.0f}% (`orchestration-gain`)", lambda: (claimed("orchestration-gain")["value"] * 100,)),
    Quote("README.md", "the oracle gains only about +{}%", lambda: (about_tens(
        [results(p)["routing"]["routers"]["oracle"]["relative_gain"]["estimate"] * 100 for p in ("tiny", "medium")]),)),
    Quote("README.md", "(the interval lies within ±{:.0f} points)", lambda: (claimed("openfugu-fork-gsm8k")["value"] * 100,)),
    Quote("README.md", "trained by GRPO on the recorded outcomes, {} seeds",
          lambda: (len(metrics("train_conductor")["reward_gain"]["seeds"]),)),
    Quote("README.md", "The medium run took {:.0f} minutes on the Xeon kind", lambda: (run("medium")["wall_s"] / 60,)),
    Quote("README.md", "make medium # the medium CPU profile: {:,} held-out test questions",
          lambda: (results("medium")["routing"]["n_test"],)),
    # --- docs/trinity.md ------------------------------------------------------------------------------
    Quote("docs/trinity.md", "adaptive − unaware is {:+.3f} [{:+.3f}, {:+.3f}] accuracy points",
          lambda: (verdict("tiny", "adaptive-pool")["estimate"], *verdict("tiny", "adaptive-pool")["interval"])),
    Quote("docs/trinity.md", "the gain over blind is {:+.3f} [{:+.3f}, {:+.3f}] relative",
          lambda: (verdict("tiny", "adaptive-pool-blind")["estimate"], *verdict("tiny", "adaptive-pool-blind")["interval"])),
    Quote("docs/trinity.md", "The mask-trained head reaches {:.3f} [{:.3f}, {:.3f}] of the oracle's accuracy",
          lambda: (experiment("tiny", "adaptive_pool")["fraction_of_oracle"]["estimate"],
                   *experiment("tiny", "adaptive_pool")["fraction_of_oracle"]["ci"])),
    Quote("docs/conductor.md", "it moved the answer on {:.1%} of the test questions",
          lambda: tuple(experiment("tiny", "recursion_real")["revised_fraction"])),
    Quote("docs/trinity.md", "but the claimed +{:.0f}% is beyond what this pool allows",
          lambda: (claimed("adaptive-pool-blind")["value"] * 100,)),
    Quote("docs/conductor.md", "round 1 − round 0 is {:+.3f} [{:+.3f}, {:+.3f}] accuracy points, inside the ±{} margin",
          lambda: (verdict("tiny", "recursion-real")["estimate"], *verdict("tiny", "recursion-real")["interval"],
                   claimed("recursion-real")["value"])),
    Quote("docs/trinity.md", "`split_router_vector(vector, {}, {}, {})`",
          lambda: (metrics("fetch")["param_count"]["reference_svf"], qwen3()["hidden_size"],
                   len(params()["trinity"]["full"]["workers"]) + len(params()["trinity"]["roles"]))),
    Quote("docs/trinity.md", "with SVF on layer {} (embed_tokens",
          lambda: (params()["trinity"]["full"]["svf_layers"][0],)),
    Quote("docs/trinity.md", "{} × {}) and {} workers + {} roles: {:,} + {:,} = **{:,}**",
          lambda: (len(metrics("fetch")["param_count"]["medium_svf_targets"]), qwen3()["hidden_size"],
                   len(params()["trinity"]["full"]["workers"]), len(params()["trinity"]["roles"]),
                   metrics("fetch")["param_count"]["reference_svf"], metrics("fetch")["param_count"]["reference_head"],
                   metrics("fetch")["param_count"]["reference"])),
    Quote("docs/trinity.md", "(Qwen3-0.6B layer {} of {}) to layer {} of {}",
          lambda: (params()["trinity"]["full"]["svf_layers"][0], qwen3()["num_hidden_layers"],
                   params()["trinity"]["tiny"]["svf_layers"][0], metrics("fetch")["backbone"]["num_hidden_layers"])),
    Quote("docs/trinity.md", "its self-test routes {:.0%} of the fixture's agents right",
          lambda: (load("claims/selftest-agent.yaml")["effect"]["value"],)),
    Quote("docs/trinity.md", "Prompts are capped at `trinity.full.max_prompt_tokens` ({:,}, the reference's cap)",
          lambda: (params()["trinity"]["full"]["max_prompt_tokens"],)),
    Quote("docs/trinity.md", "(`LlamaForCausalLM`, {:,} parameters, hidden {}, {} layers, tied embeddings)",
          lambda: (metrics("fetch")["backbone"]["parameters"], metrics("fetch")["backbone"]["hidden_size"],
                   metrics("fetch")["backbone"]["num_hidden_layers"])),
    Quote("docs/trinity.md", "to layer {} of {}: embed_tokens, that layer's q/k/v/o/gate/up/down, lm_head: {:,} offsets",
          lambda: (params()["trinity"]["tiny"]["svf_layers"][0], metrics("fetch")["backbone"]["num_hidden_layers"],
                   tiny_svf_offsets())),
    Quote("docs/trinity.md", "with the self-test fixture's {} workers + {} roles the vector is {:,} numbers",
          lambda: (len(params()["trinity"]["tiny"]["workers"]), len(params()["trinity"]["roles"]),
                   metrics("fetch")["param_count"]["medium"])),
    Quote("docs/trinity.md", "within `self_test.full.logits_tolerance` ({} per logit)",
          lambda: (params()["self_test"]["full"]["logits_tolerance"],)),
    Quote("docs/trinity.md", "the port's floors ({} / {})",
          lambda: (params()["self_test"]["full"]["margin_floors"]["agent"], params()["self_test"]["full"]["margin_floors"]["role"])),
    Quote("docs/trinity.md", "({} questions, population {}): {:.0f} generations/s cached vs {:.3f} with per-candidate forward passes, ×{:,.0f}",
          lambda: (bench("cmaes")["n_questions"], bench("cmaes")["population_size"],
                   bench("cmaes")["generations_per_second"]["cached"], bench("cmaes")["generations_per_second"]["naive"],
                   bench("cmaes")["speedup_cached_over_naive"])),
    Quote("docs/trinity.md", "`SearchSpace(train_svf=True)`, {:.3f} generations/s",
          lambda: (bench("cmaes")["generations_per_second"]["svf"],)),
    Quote("docs/trinity.md", "`mixed-5` (default: the five slots both files share, {:,} questions)",
          lambda: (pool_questions("mixed-5"),)),
    Quote("docs/trinity.md", "`reference-7` (shaped like the reference's 7 workers, {:,} questions)",
          lambda: (pool_questions("reference-7"),)),
    Quote("docs/trinity.md", "train {} / validation {} / test {} questions (`fetch.tiny.routing_subset`",
          lambda: subset("tiny")),
    Quote("docs/trinity.md", "train {} / validation {} / test {} questions (`fetch.tiny.routing_subset`",
          lambda: tuple(results("tiny")["routing"][k] for k in ("n_train", "n_validation", "n_test"))),
    Quote("docs/trinity.md", "last {} tokens (`trinity.tiny.max_prompt_tokens`", lambda: (params()["trinity"]["tiny"]["max_prompt_tokens"],)),
    Quote("docs/trinity.md", "train {:,} / validation {:,} / test {:,}; the same", lambda: subset("medium")),
    Quote("docs/trinity.md", "train {:,} / validation {:,} / test {:,}; the same", medium_n),
    Quote("docs/trinity.md", "{} of its {:,} prompts are cut",
          lambda: (load("results/medium/metrics/features.json")["metrics"]["real"]["cut_by_cap"],
                   load("results/medium/metrics/features.json")["metrics"]["real"]["n"])),
    Quote("docs/trinity.md", "keeps every question and the reference's {:,}-token cap",
          lambda: (params()["trinity"]["full"]["max_prompt_tokens"],)),
    # --- docs/verdicts.md -------------------------------------------------------------------------------
    Quote("docs/verdicts.md", "compares our estimate's {:.0%} interval with the claimed effect",
          lambda: (params()["bootstrap"]["confidence"],)),
    Quote("docs/verdicts.md", "the minimum detectable effect at this n ({:.0%} power)", lambda: (_power(),)),
    Quote("docs/verdicts.md", "took {:.2f} s per question pinned, {:.2f} s on the native path",
          lambda: (run("committed")["stage_timings"]["features"]["real_s_per_question"],
                   run("native-isa")["stage_timings"]["features"]["real_s_per_question"])),
    Quote("docs/verdicts.md", "— {} thread instead of {},",
          lambda: (run("one-thread")["numerics"]["threads"], params()["numerics"]["threads"])),
    Quote("docs/verdicts.md", "GRPO runs once per seed of `train_conductor.seeds` (tiny: {}; medium: {})",
          lambda: ({1: "one"}[len(params()["train_conductor"]["tiny"]["seeds"])],
                   {3: "three"}[len(params()["train_conductor"]["medium"]["seeds"])])),
    # --- docs/serving.md ---------------------------------------------------------------------------------
    Quote("docs/serving.md", "the cap it was trained with: {} in the tiny profile, {:,} in full",
          lambda: (params()["trinity"]["tiny"]["max_prompt_tokens"], params()["trinity"]["full"]["max_prompt_tokens"])),
    Quote("docs/serving.md", "or {:,}, the reference's, for a spec without one", lambda: (_router_default("DEFAULT_MAX_TOKENS"),)),
    Quote("docs/serving.md", "(`--router-timeout`, default {:.0f} s)", lambda: (_serve_default("router_timeout_s"),)),
    Quote("docs/serving.md", "tokens (default {}) runs among at most `--router-long-concurrency` long passes (default {}), "
          "any other among at most `--router-concurrency` (default {})",
          lambda: tuple(_serve_default(k) for k in ("router_long_tokens", "router_long_concurrency", "router_concurrency"))),
    Quote("docs/serving.md", "`--conductor-max-tokens` tokens (default {:,}, lowered", lambda: (_serve_default("conductor_max_tokens"),)),
    Quote("docs/serving.md", "`--conductor-concurrency` plans at once (default {};",
          lambda: (_serve_default("conductor_concurrency"),)),
    Quote("docs/serving.md", "seconds to write one (default {:.0f})", lambda: (_serve_default("conductor_timeout_s"),)),
    Quote("docs/serving.md", "`--workflow-budget` seconds (default {:.0f}), all steps",
          lambda: (_serve_default("ultra_time_budget_s"),)),
    Quote("docs/serving.md", "JSON nested more than {} objects and arrays deep", lambda: (_max_json_depth(),)),
    Quote("docs/serving.md", "(`--router-prefix-cache-mb`, default {}; 0 = off;", lambda: (_router_default("DEFAULT_PREFIX_CACHE_MB"),)),
    Quote("docs/serving.md", "over {} distinct ~4 KB prompts the cache added {:.0f} MiB of RSS at its {} MiB cap, the bound being "
                             "the cap + {} MiB", lambda: (bench("serve_memory")["prompts"], bench("serve_memory")["cache_added_mb"],
                                                          bench("serve_memory")["cap_mb"], bench("serve_memory")["margin_mb"])),
    Quote("docs/serving.md", "within `--header-timeout` (default {:g} s)", lambda: (_serve_default("header_timeout_s"),)),
    Quote("docs/serving.md", "At most `--max-connections` (default {}) are open", lambda: (_serve_default("max_connections"),)),
    Quote("docs/serving.md", "`--max-concurrency` + {} open files ({} at the defaults",
          lambda: (_connections("FD_RESERVE"), _connections("fd_limit_needed")(_serve_default(None)))),
    Quote("docs/serving.md", "`--keep-alive-timeout` (default {:g} s;", lambda: (_serve_default("keep_alive_timeout_s"),)),
    Quote("docs/serving.md", "each kind logs one line per {:g} s at most", lambda: (_connections("LOG_INTERVAL_S"),)),
    Quote("docs/serving.md", "{:,} half-open connections under `ulimit -n {}`: all closed with 408 within {:.0f} s ({} to make "
                             "room at the cap, {} at the header deadline), the {} normal requests made meanwhile answered 200, "
                             "{} log lines, {} tracebacks",
          lambda: (bench("serve_connections")["slowloris"]["connections"], bench("serve_connections")["slowloris"]["server_ulimit_n"],
                   bench("serve_connections")["slowloris"]["all_closed_after_s"],
                   bench("serve_connections")["slowloris"]["metrics"]["connections_reclaimed_no_head"],
                   bench("serve_connections")["slowloris"]["metrics"]["header_timeout"],
                   bench("serve_connections")["slowloris"]["normal_requests_status"].count(200),
                   bench("serve_connections")["slowloris"]["log_lines"], bench("serve_connections")["slowloris"]["log_tracebacks"])),
    Quote("docs/serving.md", "{} kept-alive clients pausing {}–{} s before every {}th request: {} errors of {:,} requests at "
                             "the default keep-alive, {:g} at {:g} s ({})",
          lambda: (bench("serve_connections")["keep_alive"]["clients"], *bench("serve_connections")["keep_alive"]["pause_s"],
                   bench("serve_connections")["keep_alive"]["pause_every"],
                   bench("serve_connections")["keep_alive"]["runs"]["keep_alive_default"]["errors"],
                   bench("serve_connections")["keep_alive"]["runs"]["keep_alive_default"]["requests"],
                   bench("serve_connections")["keep_alive"]["runs"]["keep_alive_5s"]["errors"],
                   bench("serve_connections")["keep_alive"]["runs"]["keep_alive_5s"]["keep_alive_timeout_s"],
                   ", ".join(f"{n} {kind}" for kind, n in
                             bench("serve_connections")["keep_alive"]["runs"]["keep_alive_5s"]["errors_by_kind"].items())
                   or "none")),
    # --- docs/conductor.md --------------------------------------------------------------------------------
    Quote("docs/conductor.md", "({} independent {:.0f} ms steps + one combiner: {:.0f} ms against {:.0f} ms sequential) and the overhead ({:.0f} µs per step;",
          lambda: (bench("conductor_executor")["fan_out"]["width"], bench("conductor_executor")["fan_out"]["delay_ms"],
                   bench("conductor_executor")["fan_out"]["wall_ms"],
                   bench("conductor_executor")["fan_out"]["sequential_ms"], bench("conductor_executor")["overhead"]["us_per_step"])),
    Quote("docs/conductor.md", "({} GRPO steps per seed)", lambda: (params()["train_conductor"]["tiny"]["grpo"]["steps"],)),
    Quote("docs/conductor.md", "{:.0f} s per step with a full fine-tune, {:.0f} s with the\ntop 2 layers, at a load average of {:.1f}",
          lambda: (bench("conductor_grpo_step")["s_per_step"]["full_fine_tune"],
                   bench("conductor_grpo_step")["s_per_step"]["top_2_layers"],
                   bench("conductor_grpo_step")["load_average_1min"]["before"])),
    Quote("docs/conductor.md", "`train_conductor.full.grpo` ({} steps, {} prompts × {} generations, lr {}, β {}, completions up to {} tokens",
          lambda: tuple(f"{grpo[k]:.0e}".replace("e-0", "e-") if k == "learning_rate" else grpo[k]
                        for grpo in [params()["train_conductor"]["full"]["grpo"]]
                        for k in ("steps", "prompts_per_step", "num_generations", "learning_rate", "beta",
                                  "max_completion_length"))),
    # --- docs/data_card.md ------------------------------------------------------------------------------------
    Quote("docs/data_card.md", "| {:,} (GSM8K {:,} · MATH level 5 {} · CRUXEval-O {}) | {} |",
          lambda: (pool_questions("reference-7"), *(shipped("zeroeval").query(f"benchmark == '{b}'").question_id.nunique()
                                                     for b in ("gsm8k", "math-level5", "cruxeval-o")),
                   shipped("zeroeval").model.nunique())),
    Quote("docs/data_card.md", "| {:,} in {} categories | {} |",
          lambda: (pool_questions("mmlu-pro-8"), shipped("mmlu_pro").category.nunique(), shipped("mmlu_pro").model.nunique())),
    Quote("docs/data_card.md", "(the five slots both files record) | {:,} |", lambda: (pool_questions("mixed-5"),)),
    Quote("docs/data_card.md", "(shaped like the reference's 7 workers) | {:,} |", lambda: (pool_questions("reference-7"),)),
    Quote("docs/data_card.md", "| the 8 models of mmlu_pro.parquet | {:,} |", lambda: (pool_questions("mmlu-pro-8"),)),
    Quote("docs/data_card.md", "train / validation / test ({:.0f}/{:.0f}/{:.0f}, stratified",
          lambda: tuple(params()["fetch"]["routing"]["fractions"][k] * 100 for k in ("train", "validation", "test"))),
    Quote("docs/data_card.md", "train {} / validation {} / test {} questions; `fetch.medium.routing_subset`", lambda: subset("tiny")),
    Quote("docs/data_card.md", "`fetch.medium.routing_subset`: train {:,} / validation {:,} / test {:,};", lambda: subset("medium")),
]


def _power() -> float:
    from verify.decision import POWER

    return POWER


def _router_default(name: str) -> Any:
    import fugu.trinity.router

    return getattr(fugu.trinity.router, name)


def _max_json_depth() -> int:
    from fugu.serving.parsing import MAX_JSON_DEPTH

    return MAX_JSON_DEPTH


def _serve_default(name: str | None) -> Any:
    """A ``ServeConfig`` default (``fugu serve``'s flags take theirs from it); None: the config itself."""
    from fugu.serving.config import ServeConfig

    return ServeConfig() if name is None else getattr(ServeConfig(), name)


def _connections(name: str) -> Any:
    import fugu.serving.connections

    return getattr(fugu.serving.connections, name)


def normalised(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("quote", QUOTES, ids=lambda q: f"{q.doc}: {q.text[:50]}")
def test_a_quoted_number_is_the_number_of_its_file(quote):
    printed = normalised(quote.text.format(*quote.numbers()))
    assert printed in normalised((ROOT / quote.doc).read_text()), (
        f"{quote.doc} should say {printed!r} (the committed file's number, rounded as printed)")


def test_the_readme_points_at_the_project_not_outside_it():
    assert "../shared" not in (ROOT / "README.md").read_text()


def test_the_readme_lists_the_stages_in_dvc_yaml_order():
    stages = list(load("dvc.yaml")["stages"])
    assert " → ".join(stages) in (ROOT / "README.md").read_text()
