"""Conductor model output → :class:`Workflow`: lenient about wrapping, strict about meaning.

Language models wrap JSON in prose and code fences and leave trailing commas; none of that
changes what the workflow means, so it is tolerated. Anything that does change meaning (a
string where a worker index belongs, an unknown key, a step reading a later step) is
refused. Every failure is a :class:`ParseError` carrying the character position in the
original text where the trouble is, so a training reward or a log can point at it; no other
exception escapes, whatever the input (the property tests feed it random text).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from fugu.conductor.schema import Workflow, WorkflowError, validate_workflow

MAX_CANDIDATES = 64  # JSON starts tried before giving up: bounds the work on long garbage


class ParseError(ValueError):
    """Text that holds no usable workflow. ``kind``: no_json, syntax, schema or a WorkflowError kind."""

    def __init__(self, kind: str, message: str, text: str, position: int):
        self.kind = kind
        self.position = position
        self.excerpt = text[max(0, position - 20):position + 20]
        super().__init__(f"{message} (at character {position}: {self.excerpt!r})")


def parse_workflow(text: str, n_workers: int | None = None, max_steps: int | None = None) -> Workflow:
    """The first workflow-shaped JSON value in ``text``; validated against the pool when
    ``n_workers`` and ``max_steps`` are given.

    Workflow-shaped: an object with a ``steps`` key, or a bare list of step objects. Earlier
    top-level JSON values of another shape (``[1]`` in prose) are skipped, and so is anything
    nested inside them: a list of steps buried in some other object is not the workflow.
    """
    if not isinstance(text, str):
        raise ParseError("no_json", f"expected text, got {type(text).__name__}", "", 0)
    first_error: ParseError | None = None
    covered = 0  # a fragment nested in a JSON value already read is not a top-level value
    for start in _json_starts(text):
        if start < covered:
            continue
        try:
            value, covered = _decode(text, start)
        except ParseError as exc:
            first_error = first_error or exc
            continue
        steps = _steps_of(value)
        if steps is None:
            continue
        return _to_workflow(steps, text, start, n_workers, max_steps)
    if first_error is not None:
        raise first_error
    raise ParseError("no_json", "no workflow JSON (an object with \"steps\" or a list of steps) in the text", text, 0)


def _json_starts(text: str) -> list[int]:
    starts = [i for i, ch in enumerate(text) if ch in "{["]
    return starts[:MAX_CANDIDATES]


def _decode(text: str, start: int) -> tuple[Any, int]:
    """The JSON value starting at ``start`` (trailing commas dropped) and where it ends in ``text``."""
    cleaned, origin = _drop_trailing_commas(text, start)
    try:
        value, end = json.JSONDecoder().raw_decode(cleaned)
    except json.JSONDecodeError as exc:
        position = origin[min(exc.pos, len(origin) - 1)] if origin else start
        raise ParseError("syntax", f"invalid JSON: {exc.msg}", text, position) from None
    except (ValueError, RecursionError) as exc:  # over-long integers, absurd nesting
        raise ParseError("syntax", f"unreadable JSON: {exc}", text, start) from None
    return value, origin[end - 1] + 1


def _drop_trailing_commas(text: str, start: int) -> tuple[str, list[int]]:
    """``text[start:]`` without commas that directly precede ``}`` or ``]`` (outside strings)."""
    kept: list[str] = []
    origin: list[int] = []
    in_string = escaped = False
    i, n = start, len(text)
    while i < n:
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and text[j] in "}]":
                i += 1
                continue
        kept.append(ch)
        origin.append(i)
        i += 1
    return "".join(kept), origin


def _steps_of(value: Any) -> Any | None:
    """The raw steps if ``value`` is workflow-shaped, else None."""
    if isinstance(value, dict) and "steps" in value:
        return value
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return {"steps": value}
    return None


def _to_workflow(raw: dict, text: str, start: int, n_workers: int | None, max_steps: int | None) -> Workflow:
    try:
        workflow = Workflow.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "workflow"
        raise ParseError("schema", f"{where}: {first['msg']}", text, start) from None
    if n_workers is not None and max_steps is not None:
        try:
            validate_workflow(workflow, n_workers, max_steps)
        except WorkflowError as exc:
            raise ParseError(exc.kind, str(exc), text, _step_position(text, exc.step, start)) from None
    return workflow


def _step_position(text: str, step: int | None, start: int) -> int:
    """Best-effort position of step ``step``'s object: its n-th '"worker"' key after ``start``."""
    if step is None:
        return start
    position = start - 1
    for _ in range(step + 1):
        position = text.find('"worker"', position + 1)
        if position < 0:
            return start
    return position
