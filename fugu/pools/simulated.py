"""The simulated pool — a MOCK: a seeded per-category skill matrix, not real model behaviour.

The reference measured three of its claims on such a pool (sep-CMA-ES "chance → optimal",
the adaptive k-of-n pool, recursion), so reproducing them needs one; its numbers are
always labelled ``mock`` (``SimulatedPool.mock`` and ``Outcomes.mock`` are True).

World: ``n_categories`` categories and ``n_workers`` workers. Every category has one
specialist worker (skill drawn from ``specialist_skill``); everyone else draws from
``base_skill``. So per-category routing has something to win, and the optimum is known.
Each question is a small arithmetic problem tagged with its category in the text (the only
signal a router gets); a worker solves it with probability skill[category, worker]. The
success of every (question, worker) pair is drawn once, from the seed, at construction: the
pool behaves like a fixed recording, ``answer`` and ``outcomes(expected=False)`` agree, and
``outcomes(expected=True)`` gives the success probabilities for noise-free training.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.pools.base import PoolError, Reply, Worker
from fugu.pools.questions import QuestionIndex
from fugu.types import Message

CATEGORY_NAMES = (
    "arithmetic", "geometry", "probability", "chemistry", "physics", "history",
    "law", "biology", "economics", "coding", "poetry", "geography",
)


@dataclass(frozen=True)
class SimulatedQuestion:
    question_id: str
    category: str
    text: str
    answer: int  # the reference a numeric grader checks against


def skill_matrix(n_categories: int, n_workers: int, seed: int,
                 base_skill: tuple[float, float] = (0.1, 0.4),
                 specialist_skill: tuple[float, float] = (0.8, 0.95)) -> np.ndarray:
    """[n_categories, n_workers] success probabilities with one specialist per category.

    Specialists are spread over workers (category c → the c-th worker of a seeded
    permutation, cycling), so no single worker is best everywhere when n_categories > 1.
    """
    for name, (low, high) in (("base_skill", base_skill), ("specialist_skill", specialist_skill)):
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(f"{name} must satisfy 0 <= low <= high <= 1, got {(low, high)}")
    if n_categories < 1 or n_workers < 1:
        raise ValueError(f"need at least one category and one worker, got {n_categories} × {n_workers}")
    rng = np.random.default_rng(seed)
    skill = rng.uniform(*base_skill, size=(n_categories, n_workers))
    order = rng.permutation(n_workers)
    for c in range(n_categories):
        skill[c, order[c % n_workers]] = rng.uniform(*specialist_skill)
    return skill


def simulated_questions(n_questions: int, categories: tuple[str, ...], seed: int) -> list[SimulatedQuestion]:
    """Arithmetic questions, each tagged with its category; categories drawn uniformly."""
    rng = np.random.default_rng([seed, 1])
    picks = rng.integers(0, len(categories), n_questions)
    operands = rng.integers(2, 100, size=(n_questions, 2))
    questions = []
    for i, (c, (a, b)) in enumerate(zip(picks, operands)):
        category = categories[c]
        text = f"[{category}] Question {i}: a {category} task. What is {a} + {b}?"
        questions.append(SimulatedQuestion(f"sim-{i:05d}", category, text, int(a + b)))
    return questions


class SimulatedPool:
    """A mock pool over a seeded skill matrix; see the module docstring."""

    mock = True

    def __init__(self, skill: np.ndarray, categories: tuple[str, ...], worker_costs: np.ndarray,
                 questions: list[SimulatedQuestion], seed: int):
        skill = np.asarray(skill, dtype=float)
        if skill.shape != (len(categories), len(worker_costs)):
            raise ValueError(f"skill must be [{len(categories)}, {len(worker_costs)}] (categories × workers), got {list(skill.shape)}")
        self.skill = skill
        self.categories = tuple(categories)
        self.questions = list(questions)
        self._workers = [Worker(name=f"sim-worker-{j}", cost_per_call=float(c)) for j, c in enumerate(worker_costs)]
        self._worker_index = {w.name: j for j, w in enumerate(self._workers)}
        self._row = {q.question_id: i for i, q in enumerate(self.questions)}
        self._category_index = {c: i for i, c in enumerate(self.categories)}
        unknown = sorted({q.category for q in self.questions} - set(self.categories))
        if unknown:
            raise ValueError(f"questions use categories {unknown} that the skill matrix lacks")
        self.expected = self.expected_scores([q.category for q in self.questions])  # [n_q, n_w]
        draws = np.random.default_rng([seed, 2]).random(self.expected.shape)
        self.realised = (draws < self.expected).astype(float)  # [n_q, n_w], fixed per seed
        self._index = QuestionIndex((q.question_id, q.text) for q in self.questions)

    @classmethod
    def generate(cls, n_questions: int, n_categories: int, n_workers: int, seed: int,
                 base_skill: tuple[float, float] = (0.1, 0.4),
                 specialist_skill: tuple[float, float] = (0.8, 0.95),
                 cost_range: tuple[float, float] = (0.1, 1.0)) -> "SimulatedPool":
        """A whole mock world from a seed: skill matrix, worker costs, questions.

        Costs are drawn from ``cost_range`` and sorted so that workers with a higher mean
        skill cost more (the quality/cost trade-off routing is meant to navigate).
        """
        if n_categories > len(CATEGORY_NAMES):
            raise ValueError(f"at most {len(CATEGORY_NAMES)} named categories, got {n_categories}")
        categories = CATEGORY_NAMES[:n_categories]
        skill = skill_matrix(n_categories, n_workers, seed, tuple(base_skill), tuple(specialist_skill))
        costs = np.sort(np.random.default_rng([seed, 3]).uniform(*cost_range, n_workers))
        ranked_costs = np.empty(n_workers)
        ranked_costs[np.argsort(skill.mean(axis=0))] = costs
        return cls(skill, categories, np.round(ranked_costs, 4), simulated_questions(n_questions, categories, seed), seed)

    @property
    def workers(self) -> list[Worker]:
        return list(self._workers)

    def expected_scores(self, categories: list[str]) -> np.ndarray:
        """[len(categories), n_workers] success probabilities for questions of these categories."""
        try:
            rows = [self._category_index[c] for c in categories]
        except KeyError as exc:
            raise ValueError(f"unknown category {exc.args[0]!r}; expected one of {self.categories}") from None
        return self.skill[rows]

    async def answer(self, worker: str, messages: list[Message]) -> Reply:
        return self.reply(self._index.find(messages), worker)

    def reply(self, question_id: str, worker: str) -> Reply:
        """The (fixed, seeded) outcome of ``worker`` on a question, as gradable text."""
        if worker not in self._worker_index:
            raise PoolError(f"unknown worker {worker!r}; this pool has {list(self._worker_index)}")
        if question_id not in self._row:
            raise PoolError(f"no simulated question {question_id!r}")
        i, j = self._row[question_id], self._worker_index[worker]
        question = self.questions[i]
        success = bool(self.realised[i, j])
        given = question.answer if success else question.answer + _wrong_offset(question_id, worker)
        return Reply(worker=worker, text=f"(simulated) The answer is {given}.",
                     cost=self._workers[j].cost_per_call, latency_s=0.0, score=float(success))

    def outcomes(self, question_ids: list[str] | None = None, expected: bool = True) -> Outcomes:
        """Matrix view, labelled mock: success probabilities (default) or the realised draws."""
        rows = [self._row[q] for q in question_ids] if question_ids is not None else list(range(len(self.questions)))
        chosen = [self.questions[r] for r in rows]
        costs = np.array([w.cost_per_call for w in self._workers])
        return Outcomes(
            question_ids=tuple(q.question_id for q in chosen),
            questions=tuple(q.text for q in chosen),
            categories=tuple(q.category for q in chosen),
            workers=tuple(w.name for w in self._workers),
            scores=(self.expected if expected else self.realised)[rows],
            costs=np.broadcast_to(costs, (len(rows), len(costs))).copy(),
            mock=True,
        )


def split_question_ids(pool: SimulatedPool, held_out_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, held-out) question ids: a seeded shuffle, cut once, so held-out never trains."""
    if not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    ids = [q.question_id for q in pool.questions]
    order = np.random.default_rng([seed, 7]).permutation(len(ids))
    n_held = max(1, round(len(ids) * held_out_fraction))
    held = sorted(ids[i] for i in order[:n_held])
    train = sorted(ids[i] for i in order[n_held:])
    return train, held


def _wrong_offset(question_id: str, worker: str) -> int:
    """A non-zero, deterministic error so a failed answer is wrong but still a number."""
    return 1 + int(hashlib.sha256(f"{question_id}:{worker}".encode()).hexdigest(), 16) % 9
