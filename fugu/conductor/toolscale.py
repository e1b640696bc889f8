"""ToolScale tasks for the Conductor: read the records, and score an executed workflow's tool calls.

A nvidia/ToolScale record is an agent task in the tau2-bench shape: ``id``, ``user_scenario``
(who the user is and what they want: ``instructions.task_instructions`` or
``instructions.reason_for_call``), ``initial_state`` (the tool environment's starting database)
and ``evaluation_criteria.actions``, the gold tool calls (``name``, ``arguments``) a correct agent
makes. :func:`read_tasks` turns records into :class:`ToolTask` and never stops on a bad one: a
record that does not parse is counted, skipped, and its id logged (one bad row in a 100k-row
dataset must not end an hour of training, nor vanish silently).

The reward (:func:`action_score`) is the public Conductor reconstruction's (OpenFugu
``train/toolscale_data.py``), rewritten here: the tool calls in the workflow's *final answer*
are compared with the gold ones — tool-name recall (0.6) and the longest matching prefix of names
in order (0.4) make the name score, the share of gold arguments reproduced on name-aligned calls
the argument score, combined 0.7 × names + 0.3 × arguments, in [0, 1].

What this does NOT simulate (as in the reconstruction): no tool is executed — ``initial_state`` is
read for nothing and no tool returns a result, so a plan is judged by its calls, never by the
database state it would leave; there is no user simulator — the user's instructions are shown
once, as the question, instead of a multi-turn conversation; ``communicate_info`` and
``nl_assertions`` are not checked. The tool names a task may use are listed from its gold
actions, as the reconstruction does (ToolScale ships no tool schemas per task), which tells the
policy the vocabulary, not the order or the arguments.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

log = logging.getLogger(__name__)

NAME_WEIGHT, ARGUMENT_WEIGHT = 0.7, 0.3
RECALL_WEIGHT, ORDER_WEIGHT = 0.6, 0.4
ANSWER_FORMAT = ('Reply with the tool calls that fulfil the request, as a JSON list only: '
                 '[{"name": "<tool>", "arguments": {"<argument>": <value>}}]')


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, str]  # values as strings: ToolScale arguments hold dates and numbers alike


@dataclass(frozen=True)
class ToolTask:
    """One task: what the user asks, the tools on offer, the gold calls; ``stand_in`` says why a
    record is not a real ToolScale one (a synthetic test sample marks itself so), else None."""
    task_id: str
    request: str
    tools: tuple[str, ...]
    gold: tuple[ToolCall, ...]
    stand_in: str | None = None

    def brief(self) -> str:
        """What the Conductor plans for: the tools on offer and the user's request."""
        return f"Available tools: {', '.join(self.tools)}\n\nUser request: {self.request}"

    def question(self) -> str:
        """What every worker of the workflow reads (the executor quotes it): the brief and the answer format."""
        return f"{self.brief()}\n\n{ANSWER_FORMAT}"


@dataclass
class TaskSet:
    """The tasks that parsed, and the ids (or positions) of those skipped with why."""
    tasks: list[ToolTask]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def stand_in(self) -> list[str]:
        return sorted({t.stand_in for t in self.tasks if t.stand_in})


class RecordError(ValueError):
    """A record that is not a ToolScale task; the message says which field."""


def parse_task(record: Any) -> ToolTask:
    """A record as a ToolTask, or RecordError naming the field that is missing or mistyped."""
    if not isinstance(record, dict):
        raise RecordError(f"a record must be a JSON object, got {type(record).__name__}")
    task_id = record.get("id")
    if not isinstance(task_id, (str, int)) or isinstance(task_id, bool):
        raise RecordError("no id")
    instructions = ((record.get("user_scenario") or {}).get("instructions") or {})
    if isinstance(instructions, str):
        request = instructions
    elif isinstance(instructions, dict):
        request = instructions.get("task_instructions") or instructions.get("reason_for_call")
    else:
        request = None
    if not isinstance(request, str) or not request.strip():
        raise RecordError("user_scenario.instructions has no task_instructions or reason_for_call")
    actions = (record.get("evaluation_criteria") or {}).get("actions")
    if not isinstance(actions, list) or not actions:
        raise RecordError("evaluation_criteria.actions is missing or empty (nothing to score against)")
    gold = tuple(_gold_call(a, i) for i, a in enumerate(actions))
    stand_in = record.get("stand_in")
    return ToolTask(str(task_id), request.strip(), tuple(sorted({c.name for c in gold})), gold,
                    str(stand_in) if stand_in else None)


def _gold_call(action: Any, position: int) -> ToolCall:
    if not isinstance(action, dict) or not isinstance(action.get("name"), str) or not action["name"]:
        raise RecordError(f"evaluation_criteria.actions[{position}] has no tool name")
    arguments = action.get("arguments") or {}
    if not isinstance(arguments, dict):
        raise RecordError(f"evaluation_criteria.actions[{position}].arguments is not an object")
    return ToolCall(action["name"], {str(k): _text(v) for k, v in arguments.items() if v is not None})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def read_tasks(records: Iterable[Any]) -> TaskSet:
    """Every record that parses; each one that does not is counted, skipped and logged with its id."""
    out = TaskSet([])
    for position, record in enumerate(records):
        try:
            out.tasks.append(parse_task(record))
        except RecordError as exc:
            ident = record.get("id") if isinstance(record, dict) and record.get("id") is not None else f"#{position}"
            out.skipped[str(ident)] = str(exc)
            log.warning("ToolScale record %s skipped: %s", ident, exc)
    return out


def read_task_file(path: Path) -> TaskSet:
    """A JSON-lines, JSON or parquet file of records, or a folder of them; a line that is not
    JSON is skipped like a record that does not parse, named by file and line."""
    path = Path(path)
    patterns = ("*.jsonl", "*.json", "*.parquet")  # the hub snapshot holds parquet; test samples JSON lines
    files = sorted(f for p in patterns for f in path.rglob(p)) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"no ToolScale records ({', '.join(patterns)}) under {path}")
    records: list[Any] = []
    bad: dict[str, str] = {}
    for file in files:
        if file.suffix == ".parquet":
            import pandas as pd  # nested columns come back as numpy arrays; JSON gives plain lists

            records += json.loads(pd.read_parquet(file).to_json(orient="records"))
            continue
        text = file.read_text()
        if file.suffix == ".json" and text.lstrip().startswith("["):
            records += json.loads(text)
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                where = f"{file.name}:{number}"
                bad[where] = f"not JSON: {exc.msg}"
                log.warning("ToolScale record at %s skipped: not JSON (%s)", where, exc.msg)
    tasks = read_tasks(records)
    tasks.skipped.update(bad)
    return tasks


def calls_in(text: str) -> list[ToolCall] | None:
    """The first JSON list of tool calls in a worker's answer (prose around it is allowed), or None."""
    decoder = json.JSONDecoder()
    start = text.find("[")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("[", start + 1)
            continue
        if isinstance(value, list):
            calls = [ToolCall(v["name"], {str(k): _text(a) for k, a in (v.get("arguments") or {}).items()
                                          if a is not None} if isinstance(v.get("arguments"), dict) else {})
                     for v in value if isinstance(v, dict) and isinstance(v.get("name"), str)]
            if calls or not value:
                return calls
        start = text.find("[", start + 1)
    return None


def action_score(predicted: list[ToolCall], gold: tuple[ToolCall, ...] | list[ToolCall]) -> float:
    """0.7 × (0.6 name recall + 0.4 ordered name prefix) + 0.3 × argument match, in [0, 1]."""
    if not gold:
        return 0.0
    gold_names, predicted_names = [g.name for g in gold], [p.name for p in predicted]
    recall = sum(name in predicted_names for name in gold_names) / len(gold_names)
    prefix = 0
    for mine, theirs in zip(predicted_names, gold_names):
        if mine != theirs:
            break
        prefix += 1
    names = RECALL_WEIGHT * recall + ORDER_WEIGHT * prefix / len(gold_names)
    used: set[int] = set()
    argument_total = 0.0
    for call in gold:
        match = next((i for i, p in enumerate(predicted) if i not in used and p.name == call.name), None)
        if match is None:
            continue
        used.add(match)
        mine = predicted[match].arguments
        argument_total += (1.0 if not call.arguments else
                           sum(mine.get(k) == v for k, v in call.arguments.items()) / len(call.arguments))
    return NAME_WEIGHT * names + ARGUMENT_WEIGHT * argument_total / len(gold)
