"""The performance tables of ``docs/performance.md``, generated from ``benchmarks/results/*.json``.

A measured number in the docs comes from a results file, never typed in: this renders the block
between ``<!-- performance:begin -->`` and ``<!-- performance:end -->`` from the committed benchmark
results (and the committed tiny run's SVF timing), and ``tests/tools/test_docs_tables.py`` fails when
the page's block differs from what the files give. The words of each row (what is measured, its goal)
live here; every number in them is read from a file. Rewrite it after ``make bench`` with

    python -m tools.docs_tables
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tools.run_profile import ROOT

PAGE = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- performance:begin -->", "<!-- performance:end -->"
TINY_RUN = Path("results/tiny/jitter_runs/committed/run.json")  # the committed tiny run's record (SVF timing)
# The serving benchmark rerun as the other CPU kind: an AVX2-class CPU emulated on the Xeon by capping the
# instruction sets (`make bench-avx2`); its machine record says which kind it measured and how.
AVX2_RESULTS = Path("benchmarks/results/avx2_emulated")
PROXY_REQUIREMENTS = Path("benchmarks/litellm_proxy_requirements.txt")  # the proxy's pinned version
LENGTHS = ("50", "200", "800")
CLIENTS = ("1", "8", "64")
LATENCY_TARGETS = (("direct", "worker directly"), ("fugu_priority", "`fugu serve`, fixed order"),
                   ("fugu_trinity_tiny", "`fugu serve`, TRINITY on the random tiny backbone"),
                   ("fugu_trinity_real", "`fugu serve`, TRINITY on SmolLM2-135M, one fp32 pass per request (no prefix "
                                         "cache: one repeated prompt)"),
                   ("fugu_trinity_real_batched", "the same, waiting requests batched (fp32)"),
                   ("fugu_trinity_real_bf16_batched", "the same, batched, bf16"))


def load(name: str, root: Path = ROOT, folder: Path = Path("benchmarks/results")) -> dict[str, Any]:
    return json.loads((root / folder / f"{name}.json").read_text())


def ms(value: float) -> str:
    """Milliseconds as the tables print them: one decimal below 10, else whole, with thousands separators."""
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def times(value: float) -> str:
    return f"×{value:,.2f}" if value < 100 else f"×{value:,.0f}"


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def proxy_version(root: Path = ROOT) -> str:
    found = re.search(r"^litellm==(\S+)$", (root / PROXY_REQUIREMENTS).read_text(), re.M)
    return found.group(1) if found else "?"


def forward_rows(features: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    lengths = features["per_length"]
    best = ", ".join(f"{n} tokens {lengths[n]['best_ratio_to_matmul']:.2f} ({lengths[n]['best'].replace('_', ' ')}; "
                     f"batch 1: {lengths[n]['batch_1']['ratio_to_matmul']:.2f})" for n in LENGTHS)
    batch_1_met = [n for n in LENGTHS if lengths[n]["batch_1"]["ratio_to_matmul"] >= 0.7]
    batch_1 = ("at every length" if len(batch_1_met) == len(LENGTHS) else
               f"only at {' and '.join(batch_1_met)} tokens" if batch_1_met else "at no length")
    met = (f"with equal-length batches (features, training): {yes(all(lengths[n]['meets_0_7_of_matmul'] for n in LENGTHS))}; "
           f"batch 1 (a lone request's pass in the server): {batch_1}")
    policies = features["policies"]
    mixed = " / ".join(f"{policies[p]['ratio_to_matmul']:.2f}" for p in ("batch_1", "sorted_batch_8_pad_25pct",
                                                                         "batch_8_any_padding"))
    tokens = features["prompt_tokens"]
    return [
        (f"router forward vs the same run's fp32 matmul ({features['matmul_gflops']['before']:.1f} GFLOP/s), "
         "best per prompt length (`trinity_features`)", best, "≥ 0.7", met),
        (f"{features['n_prompts']} prompts of mixed lengths ({tokens['min']}–{tokens['max']} tokens): batch 1 / "
         "length-sorted batch 8 (≤ 25% padding) / batch 8 with any padding", f"{mixed} of matmul", "pick the fastest",
         f"`{features['best_policy']}`"),
    ]


def lever_rows(levers: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    reuse, int8, threads, cap = levers["prefix_reuse"], levers["int8"], levers["threads_lever"], levers["prompt_cap"]
    last = reuse["turns"][-1]
    largest = max(turn["max_abs_score_diff"] for turn in reuse["turns"])
    same = "every turn the same decision" if reuse["all_decisions_same"] else "decisions differ on some turn"
    adopt_at = f"{levers['adopt_at_agreement']:.0%}"
    return [
        (f"KV-prefix reuse, turn {last['turn']} of a growing exchange, {last['tokens']:,} tokens (`trinity_levers`)",
         f"{last['reuse_s']:.2f} s vs {last['full_s']:.2f} s full recompute: **{reuse['last_turn_ratio']:.2f}×**; "
         f"{last['tokens_computed_with_reuse']:,} of {last['tokens']:,} tokens computed; {same} "
         f"(scores within {largest:.1e})", reuse["goal"], yes(reuse["meets_goal"])),
        (f"int8 dynamic quantisation of the Linear layers, {levers['n_conversations']} real test questions, trained vector",
         f"{times(int8['speedup'])} faster, **{int8['decision_agreement']:.1%} of decisions agree**", f"adopt at ≥ {adopt_at}",
         "yes: the default" if int8["adopt"] else "no: an option (`Trinity.quantise_int8`), not the default"),
        (f"torch threads: {threads['compared']} ({threads['n_conversations']} test questions)",
         f"{times(threads['speedup'])}, {threads['decision_agreement']:.0%} agree", "—",
         "2 for batch work; the server splits the cores among concurrent passes"),
        (f"prompt cap: {cap['compared']} ({cap['n_conversations']} test questions, {cap['prompts_longer_than_256']} "
         "longer than 256 tokens)", f"{times(cap['speedup'])}, {cap['decision_agreement']:.0%} agree", "—",
         "256 is the tiny profile's cap" if cap["adopt"] else
         f"256 is still the tiny profile's cap, for speed on 2 cores: {1 - cap['decision_agreement']:.0%} of these "
         "decisions differ from the uncapped ones"),
    ]


# The 1-client request's parts (benchmarks.serve_overhead.breakdown), as the goals table names them
BREAKDOWN_PARTS = (("read", "read"), ("parse", "parse"), ("router_wait", "router wait"), ("router_pass", "router pass"),
                   ("workers", "litellm's call"), ("render", "render"), ("app_other", "rest of the app"),
                   ("http_and_client", "HTTP + client"))


def serving_rows(serve: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    findings = serve["findings"]
    alone = findings["real_trinity_latency_1_client"]
    throughput = findings["real_trinity_throughput"]
    proxy = findings["fixed_order_vs_proxy"]
    fixed_added = serve["levels"]["1"]["added_latency_ms"]["fugu_priority"]["p50"]
    threads = serve["router_in_process"]["fugu_trinity_real"]["torch_threads"]
    fallbacks = {n: sum(throughput[n]["fallbacks"].values()) for n in ("8", "64")}
    requests = {n: serve["levels"][n]["fugu_trinity_real"]["requests"] for n in ("8", "64")}
    loaded = " / ".join(f"{throughput[n]['routed_per_s']:.1f}/s ({times(throughput[n]['ratio'])})" for n in ("8", "64"))
    failures = sum(throughput[n]["failures"] for n in ("8", "64"))
    fell_back = "; ".join(f"{n} clients: {fallbacks[n]} of {requests[n]} answered in the fallback order (router deadline)"
                          for n in ("8", "64") if fallbacks[n])
    return [
        ("`fugu serve` + TRINITY (SmolLM2) at 1 client, added p50 vs one bare forward (`serve_overhead`)",
         f"adds {alone['added_p50_ms']:.0f} ms; bare forward {alone['bare_forward_p50_ms']:.0f} ms: "
         f"{alone['excess_ms']:.0f} ms over", f"≤ forward + {alone['allowance_ms']:.0f} ms",
         "yes" if alone["meets_goal"] else f"**no**: the serving path alone (fixed order) adds {fixed_added:.0f} ms"),
        (f"same, 8 / 64 clients: routed decisions/s vs the router's own back-to-back rate "
         f"({throughput['8']['router_decisions_per_s']:.1f}/s, {threads} thread)",
         f"{loaded}, {failures} failures" + (f"; {fell_back}" if fell_back else ""), "≥ 0.9×, 0 failures",
         yes(all(throughput[n]["meets_goal"] for n in ("8", "64")))),
        ("fixed-order fugu vs LiteLLM's proxy, added p50 at 1 / 8 / 64 clients",
         " / ".join(f"{proxy[n]['ratio']:.2f}×" for n in CLIENTS) + " the proxy's, at "
         + " / ".join(f"{proxy[n]['throughput_ratio']:.2f}×" for n in CLIENTS) + " its throughput", "≤ 1×",
         yes(all(proxy[n]["meets_goal"] for n in CLIENTS))),
    ]


def batching_rows(serve: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    batching, breakdown = serve["findings"]["batching"], serve["findings"]["breakdown_1_client"]
    kind = serve["machine"]["cpu_kind"]
    variants = batching["variants"]
    measured = "; ".join(
        f"{label}: " + " / ".join(f"{variants[name][n]['routed_per_s']:.1f}/s ({times(variants[name][n]['ratio'])}, "
                                  f"{variants[name][n]['fallbacks']} fallbacks vs {variants[name][n]['baseline_fallbacks']})"
                                  for n in ("8", "64"))
        for name, label in (("fugu_trinity_real_batched", "batched fp32"), ("fugu_trinity_real_bf16_batched", "batched bf16")))
    goal = batching["goal"]
    own = breakdown[goal["variant"]]
    parts = ", ".join(f"{label} {own[part]:.1f}" for part, label in BREAKDOWN_PARTS)
    calls = serve["litellm_call"]
    ways, found = calls["variants"], calls["findings"]
    return [
        (f"batched router passes, SmolLM2, routed decisions/s at 8 / 64 clients vs one fp32 pass per request; "
         f"this CPU: {kind} (`serve_overhead`)", measured,
         f"`{goal['variant']}` ≥ {times(goal['ratio_at_64'])} at 64; 1-client p50 ≤ baseline + "
         f"{goal['p50_1_client_allowance_ms']:.0f} ms ({batching['p50_1_client_ms']:.0f} vs "
         f"{batching['baseline_p50_1_client_ms']:.0f} ms)", yes(batching["meets_goal"])),
        (f"1 client, `{goal['variant']}` (what `fugu serve` runs here): the request itemised, ms", f"{parts}; "
         f"**fugu's own share {own['fugu_own_ms']:.1f} ms** (added {own['added_ms']:.0f} − router pass − litellm's "
         f"call; inside the app {own['fugu_own_in_app_ms']:.1f}; against the worker called once per forward's time "
         f"{own['fugu_own_vs_paced_direct_ms']:.1f}); the fixed-order path's {breakdown['fugu_priority']['fugu_own_ms']:.1f}",
         f"own share ≤ {own['goal_ms']:.0f} ms", yes(own["meets_goal"])),
        ("litellm's call to the instant worker, CPU ms per call: litellm as it comes / handed a shared client / "
         "`LiteLLMPool` now / OpenAI's client / bare httpx (`litellm_call`)",
         f"{ways['litellm_default']['cpu_ms']:.2f} / {ways['litellm_client']['cpu_ms']:.2f} / "
         f"**{ways['pool']['cpu_ms']:.2f}** / {ways['openai_client']['cpu_ms']:.2f} / {ways['httpx']['cpu_ms']:.2f}: "
         f"the pool's call {times(found['pool_vs_litellm_default_cpu'])} litellm's default CPU "
         f"(p50 {ways['litellm_default']['p50_ms']:.1f} → {ways['pool']['p50_ms']:.1f} ms)",
         "reduced where litellm's API allows", yes(found["pool_vs_litellm_default_cpu"] < 1)),
    ]


def other_kind_rows(root: Path = ROOT) -> list[tuple[str, str, str, str]]:
    """The serving goals on the other CPU kind (an AVX2-class CPU), from its own results file."""
    if not (root / AVX2_RESULTS / "serve_overhead.json").is_file():
        return [("batched router passes on an AVX2-class CPU", "not measured: no run of `make bench-avx2` committed",
                 "≥ ×1.20 at 64", "not measured")]
    serve = load("serve_overhead", root, AVX2_RESULTS)
    batching, breakdown = serve["findings"]["batching"], serve["findings"]["breakdown_1_client"]
    goal = batching["goal"]
    chosen, own = batching["variants"][goal["variant"]], breakdown[goal["variant"]]
    measured = " / ".join(f"{chosen[n]['routed_per_s']:.1f}/s ({times(chosen[n]['ratio'])}, {chosen[n]['fallbacks']} "
                          f"fallbacks vs {chosen[n]['baseline_fallbacks']})" for n in ("8", "64"))
    skipped = serve["not_run"].get("fugu_trinity_real_bf16_batched")
    rows = [(f"the same on the other CPU kind: {serve['machine']['cpu_kind']} (`{AVX2_RESULTS}/serve_overhead.json`): "
             f"`{goal['variant']}` at 8 / 64 clients vs one fp32 pass per request", measured
             + f"; 1-client p50 {batching['p50_1_client_ms']:.0f} vs {batching['baseline_p50_1_client_ms']:.0f} ms; "
             f"fugu's own share {own['fugu_own_ms']:.1f} ms"
             + ("; bf16 not run (a software matmul there: the file's `not_run`)" if skipped else ""),
             f"≥ {times(goal['ratio_at_64'])} at 64; 1-client p50 ≤ baseline + {goal['p50_1_client_allowance_ms']:.0f} ms",
             yes(batching["meets_goal"]))]
    if (root / AVX2_RESULTS / "router_precision.json").is_file():
        fp32 = load("router_precision", root, AVX2_RESULTS)["speed"]["fp32"]
        rows.append((f"the same kind: batched fp32 forward vs the same run's fp32 matmul at the model's shapes "
                     f"(`{AVX2_RESULTS}/router_precision.json`; bf16 not run there)",
                     f"{fp32['fraction_of_matmul_rate']:.2f} (batch 1: {fp32['batch1_fraction_of_matmul_rate']:.2f})",
                     "≥ 0.5", yes(fp32["fraction_of_matmul_rate"] >= 0.5)))
    return rows


def precision_rows(precision: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    agreement, diff, speed = precision["agreement"], precision["accuracy_difference"], precision["speed"]
    adopted = precision["bf16_adopted_where_native"]
    return [
        (f"bf16 vs fp32 router, {agreement['n']:,} held-out real questions, the trained head (`router_precision`; this "
         f"CPU: {precision['machine']['cpu_kind']})",
         f"**{agreement['share']:.1%} of decisions agree**, accuracy {diff['estimate']:+.3f} [{diff['ci'][0]:+.3f}, "
         f"{diff['ci'][1]:+.3f}]; {times(precision['speedup_bf16'])} faster batched, "
         f"{times(precision['speedup_bf16_batch1'])} at batch 1", "≥ 99% agree, accuracy the same: `auto` serves bf16",
         yes(adopted["adopted"])),
        ("batched forward vs the same run's matmul at the model's shapes, fp32 / bf16; where a batch's forward "
         "spends its CPU time (matmuls / attention / the rest: norms, rotary, SiLU, casts)",
         f"{speed['fp32']['fraction_of_matmul_rate']:.2f} / {speed['bf16']['fraction_of_matmul_rate']:.2f} "
         f"(batch 1: {speed['fp32']['batch1_fraction_of_matmul_rate']:.2f} / "
         f"{speed['bf16']['batch1_fraction_of_matmul_rate']:.2f}); "
         + "; ".join(f"{d}: " + " / ".join(f"{speed[d]['time_shares'][k]:.0%}" for k in ("matmul", "attention", "other"))
                     for d in ("fp32", "bf16")), "≥ 0.5",
         yes(min(speed[d]["fraction_of_matmul_rate"] for d in ("fp32", "bf16")) >= 0.5)),
    ]


def search_rows(cmaes: dict[str, Any], tiny_run: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    svf = tiny_run["stage_timings"]["train_trinity"]["svf_ablation"]
    cacheable = cmaes["svf_cacheable_layers"]
    return [
        ("sep-CMA-ES generation on cached features vs a per-candidate forward loop (`cmaes`)",
         times(cmaes["speedup_cached_over_naive"]), "one batched product", "yes"),
        ("SVF search: layers cacheable below the adapted one",
         f"{cacheable['below_adaptation']} ({cacheable['why']}); one SmolLM2 candidate over {svf['training_questions']} "
         f"questions ≈ {svf['per_candidate_s']:.0f} s, a {svf['population_size']}-candidate generation ≈ "
         f"{svf['per_generation_s'] / 60:.0f} min (the committed tiny run, `{TINY_RUN}`); "
         f"GPU: {cmaes['gpu']}", "state it", "stated"),
    ]


def goals_table(root: Path = ROOT) -> str:
    tiny_run = json.loads((root / TINY_RUN).read_text())
    rows = (forward_rows(load("trinity_features", root)) + lever_rows(load("trinity_levers", root))
            + serving_rows(load("serve_overhead", root)) + batching_rows(load("serve_overhead", root))
            + other_kind_rows(root) + precision_rows(load("router_precision", root)) + search_rows(load("cmaes", root), tiny_run))
    lines = ["| what (file) | measured | goal | met |", "|---|---|---|---|"]
    return "\n".join(lines + [f"| {' | '.join(row)} |" for row in rows])


def latency_table(root: Path = ROOT) -> str:
    levels = load("serve_overhead", root)["levels"]
    lines = ["| target | " + " | ".join(CLIENTS) + " |", "|---|" + "---|" * len(CLIENTS)]
    targets = LATENCY_TARGETS + (("litellm_proxy", f"LiteLLM proxy {proxy_version(root)}"),)
    for key, label in targets:
        lines.append(f"| {label} | " + " | ".join(ms(levels[n][key]["p50_ms"]) for n in CLIENTS) + " |")
    return "\n".join(lines)


def machines(root: Path = ROOT) -> str:
    """The machines the committed results were measured on, each with the files measured there (older
    files record no CPU model: they say so rather than borrow a newer file's)."""
    names = sorted(p.stem for p in (root / "benchmarks" / "results").glob("*.json") if not p.stem.endswith("_quick"))
    files: dict[str, list[str]] = {}
    for name in names:
        m = load(name, root)["machine"]
        cpu = m.get("processor") or "CPU model not recorded"
        kind = f"; {m['cpu_kind']}" if m.get("cpu_kind") else ""
        files.setdefault(f"{m['cpus']} CPUs ({m['machine']}, {cpu}{kind}), Python {m['python']}", []).append(name)
    described = "; ".join(f"{machine}: {', '.join(f'`{n}`' for n in found)}" for machine, found in sorted(files.items()))
    return f"Measured on {described} (each file's `machine`)."


def render(root: Path = ROOT) -> str:
    note = f"_Generated by `python -m tools.docs_tables` from `benchmarks/results/*.json` and `{TINY_RUN}`._"
    return "\n\n".join([BEGIN, machines(root), goals_table(root),
                        "Latency at 1 / 8 / 64 clients, p50 ms (`benchmarks/results/serve_overhead.json`, same instant worker):",
                        latency_table(root), note, END])


def current_block(text: str) -> str:
    if BEGIN not in text or END not in text:
        raise ValueError(f"{PAGE.name} has no {BEGIN} … {END} block")
    return text[text.index(BEGIN):text.index(END) + len(END)]


def main() -> None:
    text = PAGE.read_text()
    PAGE.write_text(text.replace(current_block(text), render()))
    print(f"rewrote the tables of {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
