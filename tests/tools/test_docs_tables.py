"""docs/performance.md's tables are generated from the committed benchmark results (never typed in)."""

import json
import shutil

from tools.docs_tables import PAGE, current_block, ms, render
from tools.run_profile import ROOT


def test_the_performance_tables_are_generated_from_the_committed_benchmark_results():
    assert current_block(PAGE.read_text()) == render(), (
        "docs/performance.md's tables differ from benchmarks/results/*.json: run `python -m tools.docs_tables`")


def test_a_changed_benchmark_number_changes_the_tables(tmp_path):
    for folder in ("benchmarks/results", "results/tiny/jitter_runs/committed"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "benchmarks/litellm_proxy_requirements.txt", tmp_path / "benchmarks")
    serve = json.loads((tmp_path / "benchmarks/results/serve_overhead.json").read_text())
    serve["levels"]["64"]["direct"]["p50_ms"] = 1234.4
    (tmp_path / "benchmarks/results/serve_overhead.json").write_text(json.dumps(serve))
    one, eight = (ms(serve["levels"][n]["direct"]["p50_ms"]) for n in ("1", "8"))
    assert f"| worker directly | {one} | {eight} | 1,234 |" in render(tmp_path)
