"""The Conductor's task on recorded real outcomes: write a workflow; its answer is a recorded one.

The pool, splits and subset are TRINITY's (data/routing, ``fugu.data.matrix.Outcomes``). A
workflow's answer is the recorded answer of its **last step's worker** for that question: with a
recorded pool no worker sees another's output, so the earlier steps cannot change it. At this
scale the Conductor therefore learns whom to ask (and the format), not how to compose.

Every completion is read by :func:`read_plan`, which never raises: text that is not a valid
workflow on the pool gives its failure kind (a ``ParseError`` kind: ``no_json``, ``syntax``,
``schema``, ``unknown_worker``, ...), so rewards and metrics count failures instead of crashing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fugu.conductor.parser import ParseError, parse_workflow
from fugu.conductor.prompts import conductor_messages
from fugu.conductor.schema import Workflow
from fugu.conductor.task import random_workflow
from fugu.data.matrix import IncompleteOutcomesError, Outcomes


@dataclass(frozen=True)
class Plan:
    """One completion read against the pool: the workflow, or why there is none."""
    workflow: Workflow | None
    failure: str | None  # a ParseError kind; None when the workflow is valid

    @property
    def worker(self) -> int | None:
        """The answering worker (the last step's), or None for a failed plan."""
        return None if self.workflow is None else self.workflow.final_worker()


def read_plan(text: str, n_workers: int, max_steps: int) -> Plan:
    """The workflow in ``text`` if it is valid on a pool of ``n_workers``, else its failure kind."""
    try:
        return Plan(parse_workflow(text, n_workers, max_steps), None)
    except ParseError as exc:
        return Plan(None, exc.kind)


def chat_prompt(tokenizer, question: str, n_workers: int, question_chars: int) -> str:
    """The policy's prompt through its own chat template; of a long question only its first
    ``question_chars`` characters (where its subject shows) are shown: prompt tokens are the cost of GRPO."""
    messages = conductor_messages(question[:question_chars], n_workers)
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def task_rows(outcomes: Outcomes, tokenizer, question_chars: int) -> list[dict]:
    """One row per question: the prompt, and the id the reward looks the recorded outcomes up by."""
    n = len(outcomes.workers)
    return [{"prompt": chat_prompt(tokenizer, q, n, question_chars), "question_id": i}
            for i, q in zip(outcomes.question_ids, outcomes.questions)]


def format_targets(rng: np.random.Generator, n_targets: int, n_workers: int) -> list[str]:
    """One-step workflows with *uniformly drawn* workers: the format warm start's targets teach the
    syntax and nothing about who is good."""
    return [random_workflow(rng, n_workers, 1).to_json() for _ in range(n_targets)]


class RecordedAnswers:
    """The recorded correctness (and estimated cost) of every worker on every question of a split.

    Checked when loaded: a (question, worker) pair without a recorded outcome is an error naming
    them, never a silent 0 reward.
    """

    def __init__(self, outcomes: Outcomes):
        gaps = np.argwhere(np.isnan(outcomes.scores))
        if len(gaps):
            q, w = gaps[0]
            raise IncompleteOutcomesError(f"{len(gaps)} (question, worker) pairs have no recorded outcome, first: "
                                          f"question {outcomes.question_ids[q]!r}, worker {outcomes.workers[w]!r}")
        self.outcomes = outcomes
        self.row = {q: i for i, q in enumerate(outcomes.question_ids)}
        self.usd_per_1k = np.nan_to_num(outcomes.costs) * 1000.0  # an unrecorded cost counts 0, as in eval

    @property
    def n_workers(self) -> int:
        return len(self.outcomes.workers)

    def score(self, question_id: str, worker: int) -> float:
        return float(self.outcomes.scores[self.row[question_id], worker])

    def cost(self, question_id: str, worker: int) -> float:
        """Estimated USD per 1,000 answers of this worker on this question (fetch's estimate)."""
        return float(self.usd_per_1k[self.row[question_id], worker])


def greedy_plans(model, tokenizer, outcomes: Outcomes, question_chars: int, max_steps: int, max_new_tokens: int,
                 batch_size: int, desc: str = "greedy plans") -> list[Plan]:
    """The policy's greedy plan for every question of ``outcomes`` (how it is judged and served)."""
    prompts = [r["prompt"] for r in task_rows(outcomes, tokenizer, question_chars)]
    return greedy_read(model, tokenizer, prompts, len(outcomes.workers), max_steps, max_new_tokens, batch_size, desc)


def greedy_read(model, tokenizer, prompts: list[str], n_workers: int, max_steps: int, max_new_tokens: int,
                batch_size: int, desc: str) -> list[Plan]:
    """The greedy completion of every prompt, read as a plan, with a progress bar (thousands of
    prompts take minutes on a CPU)."""
    from tqdm.auto import tqdm

    from fugu.models.generation import generate

    texts: list[str] = []
    with tqdm(total=len(prompts), desc=desc, unit="q") as bar:
        for i in range(0, len(prompts), batch_size):
            texts += generate(model, tokenizer, prompts[i:i + batch_size], max_new_tokens, sample=False)
            bar.update(len(prompts[i:i + batch_size]))
    return [read_plan(t, n_workers, max_steps) for t in texts]


def plan_choices(plans: list[Plan]) -> np.ndarray:
    """The answering worker per question, -1 where the plan failed (it then answers nothing: score 0)."""
    return np.array([-1 if p.worker is None else p.worker for p in plans], dtype=int)


def held_out_record(plans: list[Plan], outcomes: Outcomes) -> dict:
    """Accuracy (a failed plan scores 0), parse-failure rate and kinds, and the distinct workers asked."""
    choices = plan_choices(plans)
    answered = choices >= 0
    scores = np.where(answered, outcomes.scores[np.arange(len(choices)), np.maximum(choices, 0)], 0.0)
    kinds: dict[str, int] = {}
    for p in plans:
        if p.failure is not None:
            kinds[p.failure] = kinds.get(p.failure, 0) + 1
    return {"n_questions": len(plans), "accuracy": float(scores.mean()), "parse_failure_rate": float(1 - answered.mean()),
            "parse_failures": dict(sorted(kinds.items())),
            "distinct_workers": len(set(choices[answered].tolist())),
            "workers_chosen": {outcomes.workers[w]: int((choices == w).sum()) for w in sorted(set(choices[answered]))}}
