"""GPU check of the full profile's paths at small scale: features batch rate, SVF candidate cost, 5 GRPO steps.

Run by scripts/gpu_check.sh on a machine with a CUDA GPU; writes a results JSON (default
results/gpu_check.json). The policy is the SmolLM2-135M-Instruct checkpoint fetch converts
(artifacts/fetch/backbone, tiny profile's fetch); the workers are local OpenAI-compatible servers
answering the synthetic ToolScale-format sample (STAND-INs from fugu/conductor/toolscale_stand_in.py), so
this proves the GPU code paths run and how fast, not any claim.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from fugu.conductor.toolscale import read_task_file
from fugu.conductor.toolscale_stand_in import StandInToolPool, synthetic_records, write_sample
from fugu.models.backbone import load_backbone
from fugu.pools.litellm_pool import LiteLLMPool, LiteLLMWorker
from fugu.serving.worker_server import create_worker_app, pool_spec, running
from fugu.training.cmaes import CMAESConfig
from fugu.training.conductor_full import prepare_device, split_tasks, train_full
from fugu.training.svf_search_cost import measure_svf_search_cost
from fugu.trinity.coordinator import Trinity


def features_rate(policy_dir: Path, batch: int = 32, tokens: int = 256) -> float:
    """Questions per second of batched bf16 forward passes to the last hidden state (what features computes)."""
    model, _ = load_backbone(policy_dir, dtype=torch.bfloat16)
    model = model.to("cuda")
    ids = torch.randint(0, model.config.vocab_size, (batch, tokens), device="cuda")
    with torch.no_grad():
        model(input_ids=ids, output_hidden_states=True)
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(5):
            model(input_ids=ids, output_hidden_states=True)
        torch.cuda.synchronize()
    return 5 * batch / (time.perf_counter() - started)


def svf_candidate_cost(backbone_dir: Path, questions: int = 64) -> dict:
    """What one head+svf candidate of train_trinity's full search costs on the GPU: recompose the SVF
    matrices, read ``questions`` through the adapted backbone (fugu/training/svf_search_cost.py), extrapolated
    to train_trinity's full search (32 candidates × 60 generations) over those questions."""
    backbone = load_backbone(backbone_dir, device="cuda")
    layers = backbone.model.config.num_hidden_layers
    trinity = Trinity.build(backbone, ["a", "b", "c"], ["solver", "thinker", "verifier"], [layers - 2])
    conversations = [[{"role": "user", "content": r["user_scenario"]["instructions"]["task_instructions"]}]
                     for r in synthetic_records(questions)]
    _, timings = measure_svf_search_cost(trinity, conversations, questions, 0.05, 0, CMAESConfig(32, 60, 0.5, 0))
    return timings


def grpo_steps(policy_dir: Path, steps: int) -> dict:
    records = synthetic_records(16)
    with tempfile.TemporaryDirectory() as scratch, running(create_worker_app(StandInToolPool(records))) as url:
        tasks = read_task_file(write_sample(Path(scratch) / "toolscale", 16, broken=False)).tasks
        pool = LiteLLMPool([LiteLLMWorker(**w) for w in pool_spec(StandInToolPool([]), url)["workers"]])
        train, held_out = split_tasks(tasks, 0.25, 0)
        settings = {"seed": 0, "use_vllm": False, "max_steps": 4, "time_budget_s": 60.0, "max_attempts": 1,
                    "eval_batch_size": 4, "grpo": {"steps": steps, "prompts_per_step": 2, "num_generations": 4,
                                                   "learning_rate": 1e-6, "max_completion_length": 128,
                                                   "temperature": 1.0, "beta": 0.0}}
        started = time.perf_counter()
        run = train_full(settings, policy_dir, train, held_out, pool, "cuda", Path(scratch) / "out")
        return {"steps": len(run.curve), "wall_s": time.perf_counter() - started,
                "curve": [row["mean_reward"] for row in run.curve], "held_out": run.held_out,
                "peak_gpu_memory_gb": torch.cuda.max_memory_allocated() / 2**30}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--policy", type=Path, default=Path("artifacts/fetch/backbone"))
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("results/gpu_check.json"))
    args = parser.parse_args()
    prepare_device("cuda", use_vllm=False)  # stops, saying so, on a machine without a CUDA GPU
    results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
               "stand_in": "synthetic ToolScale-format tasks and stand-in local workers (fugu/conductor/toolscale_stand_in.py)",
               "features_questions_per_s": features_rate(args.policy),
               "svf_candidate": svf_candidate_cost(args.policy), "grpo": grpo_steps(args.policy, args.steps)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
