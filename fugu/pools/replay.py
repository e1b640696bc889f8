"""The replay pool: real models' recorded answers to real benchmark questions, played back.

Routing can be judged offline against what real LLMs actually did: asked worker ``m`` about
question ``q``, the pool returns the response, score and cost recorded for (q, m). It never
invents: a question or a (question, model) pair without a record is a :class:`PoolError`.
Recorded outcomes are single-turn, so in a multi-turn conversation the pool answers the
question the conversation is about (see ``questions.py``), whatever came after it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from fugu.data.matrix import Outcomes, outcomes_from_table
from fugu.data.table import TABLE_FILE, read_outcome_table, validate_outcome_table
from fugu.pools.base import PoolError, Reply, Worker
from fugu.pools.questions import QuestionIndex
from fugu.types import Message


class ReplayPool:
    def __init__(self, table: pd.DataFrame):
        self.table = validate_outcome_table(table)
        self._records = {(r.question_id, r.model): r for r in self.table.itertuples(index=False)}
        self._index = QuestionIndex(self.table.drop_duplicates("question_id")[["question_id", "question"]].itertuples(index=False))
        self._workers = [
            # Mean recorded cost per call; NaN when the source records no cost for the model.
            Worker(name=str(model), cost_per_call=float(group["cost"].mean()) if group["cost"].notna().any() else math.nan)
            for model, group in self.table.groupby("model", sort=True)
        ]

    @classmethod
    def from_dir(cls, data_dir: Path) -> "ReplayPool":
        """The pool over the table ``fetch`` writes (``artifacts/fetch/routing``)."""
        return cls(read_outcome_table(Path(data_dir) / TABLE_FILE))

    @property
    def workers(self) -> list[Worker]:
        return list(self._workers)

    async def answer(self, worker: str, messages: list[Message]) -> Reply:
        return self.recorded_reply(self._index.find(messages), worker)

    def recorded_reply(self, question_id: str, worker: str) -> Reply:
        """The reply recorded for (question, worker): response text ("" where not recorded)."""
        if worker not in {w.name for w in self._workers}:
            raise PoolError(f"unknown worker {worker!r}; this pool has {[w.name for w in self._workers]}")
        record = self._records.get((question_id, worker))
        if record is None:
            raise PoolError(f"no recorded outcome of {worker!r} on question {question_id!r}")
        return Reply(
            worker=worker,
            text="" if pd.isna(record.response) else str(record.response),
            cost=float(record.cost),  # NaN where the source records no cost
            latency_s=0.0,
            score=float(record.score),
        )

    def outcomes(self, question_ids: list[str] | None = None) -> Outcomes:
        """The matrix view of the same records (see ``fugu.data.matrix``)."""
        return outcomes_from_table(self.table, question_ids, [w.name for w in self._workers])
