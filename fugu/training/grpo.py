"""GRPO for the Conductor with ``trl.GRPOTrainer``: the policy writes workflows, the recorded outcomes grade them.

Group Relative Policy Optimisation samples ``num_generations`` workflows per prompt, scores
each with the verifiable reward (format + the answering worker's recorded correctness,
:mod:`fugu.training.recorded_reward`) and pushes up the log-probability of the ones that beat
their group's mean. Nothing here is specific to a profile: the stage hands in a model, rows and
a reward.

SmolLM2-135M-Instruct wrote no parseable workflow zero-shot (params.yaml says where that was
measured), so the reduced profiles first run a short *format warm start* (supervised, on
workflows whose workers are drawn uniformly at random): it teaches the syntax a 3B instruct
model would already know. Which worker to pick for which question is left entirely to GRPO.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase, PrinterCallback, TrainerCallback

from fugu.stats.estimate import Resamples, percentile_interval


@dataclass(frozen=True)
class GRPOSettings:
    steps: int
    prompts_per_step: int
    num_generations: int       # the group size GRPO normalises rewards within
    learning_rate: float
    max_completion_length: int
    temperature: float
    beta: float                # KL weight to the reference policy; 0 skips the reference model
    seed: int


class GPUMissing(RuntimeError):
    """The full profile was asked to train where no CUDA GPU is visible."""


def require_gpu(what: str) -> None:
    if not torch.cuda.is_available():
        raise GPUMissing(f"{what} needs a CUDA GPU (3B-class policy, bf16) and none is visible; "
                         "run it on a GPU machine, or use profile: tiny on CPU")


def warm_start(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: list[str],
               targets: list[str], *, steps: int, learning_rate: float, batch_size: int, seed: int) -> list[float]:
    """Supervised steps on (prompt, target) pairs, loss on the target tokens only; returns losses."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    losses = []
    for _ in range(steps):
        pick = rng.choice(len(prompts), size=min(batch_size, len(prompts)), replace=False)
        ids, labels = _supervised_batch(tokenizer, [prompts[i] for i in pick], [targets[i] for i in pick])
        loss = model(input_ids=ids, attention_mask=(ids != tokenizer.pad_token_id).long(), labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    model.eval()
    return losses


def _supervised_batch(tokenizer, prompts: list[str], targets: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids with labels -100 on prompt and padding (only the completion is learnt)."""
    rows, label_rows = [], []
    for prompt, target in zip(prompts, targets):
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        t = tokenizer(target + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        rows.append(p + t)
        label_rows.append([-100] * len(p) + t)
    width = max(map(len, rows))
    pad = tokenizer.pad_token_id
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    labels = torch.tensor([r + [-100] * (width - len(r)) for r in label_rows])
    return ids, labels


class _RewardLog(TrainerCallback):
    """Collects trl's per-step logged rewards: the curve comes from real GRPO steps only."""

    def __init__(self):
        self.rows: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "reward" in logs:
            row = {"step": int(state.global_step), "mean_reward": float(logs["reward"]),
                   "reward_std": float(logs.get("reward_std", math.nan))}
            for key, value in logs.items():
                if key.startswith("rewards/") and key.endswith("/mean"):
                    row[key.split("/")[1]] = float(value)
            self.rows.append(row)


class _RewardBar(TrainerCallback):
    """One progress bar for the whole run, the latest step's mean reward in its postfix.

    It replaces the trainer's own bar and its per-step dict of some thirty logged values (trl's
    console logging), which scroll a pipeline run's output away; the values are still logged, and
    :class:`_RewardLog` keeps the rewards.
    """

    def __init__(self, description: str):
        self.description = description
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.bar = tqdm(total=state.max_steps, desc=self.description, unit="step")

    def on_step_end(self, args, state, control, **kwargs):
        self.bar.update(1)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "reward" in logs:
            self.bar.set_postfix(mean_reward=f"{float(logs['reward']):.3f}")

    def on_train_end(self, args, state, control, **kwargs):
        self.bar.close()


# trl 1.16 itself still calls transformers 5's deprecated `gradient_checkpointing*` names (trl/models/utils.py);
# our own calls use the new ones, so these are silenced around trl's training loop and nowhere else.
TRL_INTERNAL_DEPRECATIONS = r"`(is_)?gradient_checkpointing(_enable|_disable)?` is deprecated"


def train_grpo(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, rows: list[dict],
               reward_funcs: list[Callable], settings: GRPOSettings, out_dir: Path,
               use_cpu: bool = True, bf16: bool = False, use_vllm: bool = False,
               vllm_mode: str = "colocate") -> list[dict]:
    """Run ``settings.steps`` GRPO steps; returns the logged curve, one row per step.

    ``use_vllm`` (GPU only, the ``[gpu]`` extra) lets trl generate the rollouts with vLLM, in this
    process's GPUs (``colocate``) or a ``trl vllm-serve`` server (``server``); on several GPUs the
    trainer is started by ``accelerate launch`` with a DeepSpeed config (configs/accelerate/).
    """
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    config = GRPOConfig(
        output_dir=str(out_dir),
        max_steps=settings.steps,
        per_device_train_batch_size=settings.prompts_per_step * settings.num_generations,
        gradient_accumulation_steps=1,
        num_generations=settings.num_generations,
        max_completion_length=settings.max_completion_length,
        temperature=settings.temperature,
        learning_rate=settings.learning_rate,
        beta=settings.beta,
        seed=settings.seed,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=use_cpu,
        bf16=bf16,
        use_vllm=use_vllm,
        vllm_mode=vllm_mode,
        activation_checkpointing=False,  # transformers 5's name; trl's default would set the deprecated one
        disable_tqdm=True,               # our bar (_RewardBar) instead of the trainer's
        dataloader_num_workers=0,
    )
    log = _RewardLog()
    tokenizer.padding_side = "left"
    trainer = GRPOTrainer(model=model, reward_funcs=reward_funcs, args=config, train_dataset=Dataset.from_list(rows),
                          processing_class=tokenizer, callbacks=[log, _RewardBar(f"GRPO seed {settings.seed}")])
    trainer.remove_callback(PrinterCallback)  # with disable_tqdm the trainer prints every log dict instead
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=TRL_INTERNAL_DEPRECATIONS, category=FutureWarning)
        trainer.train()
    model.eval()
    return log.rows


def window_gain(values: list[float], window: int) -> float:
    """Mean of the last ``window`` values minus mean of the first ``window`` (windows may not overlap)."""
    if window < 1 or 2 * window > len(values):
        raise ValueError(f"need at least {2 * window} values for two windows of {window}, got {len(values)}")
    return float(np.mean(values[-window:]) - np.mean(values[:window]))


def window_gain_estimate(curves: Sequence[Sequence[float]], window: int, n_resamples: int, seed: int,
                         seeds: Sequence[int], level: float = 0.95) -> dict:
    """The estimate record of :func:`window_gain` over one reward curve per training seed.

    Each window is resampled on its own (steps with replacement), and the seeds with
    replacement, the same seeds for both windows. A bare "gain > 0" holds about half the time
    for a curve that does not learn at all; the interval is what says the rise is more than
    step-to-step (and run-to-run) noise. ``n`` counts the steps of one window.
    """
    if len(curves) != len(seeds):
        raise ValueError(f"one curve per seed: {len(curves)} curves, {len(seeds)} seeds")
    for curve in curves:
        window_gain(list(curve), window)  # same checks
    first = np.array([list(c)[:window] for c in curves], dtype=float)   # [S, window]
    last = np.array([list(c)[-window:] for c in curves], dtype=float)
    draw_first = Resamples.draw(window, len(seeds), n_resamples, seed, level)
    draw_last = Resamples(Resamples.draw(window, len(seeds), n_resamples, seed + 1, level).question_counts,
                          draw_first.seed_counts, level)
    low, high = percentile_interval(draw_last.means(last) - draw_first.means(first), level)
    return {"estimate": float(last.mean() - first.mean()), "ci": [low, high], "n": window, "level": level,
            "resamples": n_resamples, "seeds": [int(s) for s in seeds],
            "per_seed": [float(b - a) for a, b in zip(first.mean(1), last.mean(1))],
            "unit_resampled": "GRPO steps of one window"}
