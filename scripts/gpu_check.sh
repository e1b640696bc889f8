#!/usr/bin/env bash
# The full profile's GPU paths at small scale, in a few minutes, on one CUDA GPU: batched bf16 features rate, the
# cost of one head+svf candidate (SVF recomposed, 64 questions read through the adapted backbone) and
# 5 GRPO steps of train_conductor's full path (SmolLM2-135M-Instruct policy, stand-in local workers).
# Needs the tiny profile's fetch (artifacts/fetch/backbone). Writes results/gpu_check.json (or $1).
#   bash scripts/gpu_check.sh [results.json]
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" LITELLM_LOCAL_MODEL_COST_MAP=True HF_HUB_OFFLINE=1
python scripts/gpu_check.py --out "${1:-results/gpu_check.json}"
