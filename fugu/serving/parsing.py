"""A request body → a checked wire model, or a 400 that names the offending field.

Stricter than ``json.loads`` + pydantic alone, because a hostile or sloppy client must get a
400 and never a 500: ``NaN``/``Infinity`` are not JSON, a lone surrogate escape (``\\ud800``)
decodes but cannot be encoded for a worker, and nesting deeper than ``MAX_JSON_DEPTH`` is not
searched (pydantic refuses such bodies anyway).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fugu.serving.errors import APIError
from fugu.serving.protocol import check_token_limit

MAX_JSON_DEPTH = 64
Model = TypeVar("Model", bound=BaseModel)


def parse_request(body: bytes, model_type: type[Model], max_tokens_limit: int) -> Model:
    """A checked request, or a 400 APIError that names the offending field."""
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise APIError(400, f"the body is not valid JSON: {str(exc)[:200]}", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise APIError(400, "the body must be a JSON object", code="invalid_json")
    where = unencodable(payload)
    if where is not None:
        raise APIError(400, f"{where or 'body'}: text that is not valid Unicode (a lone surrogate escape such "
                            "as \\ud800); send UTF-8 text", code="invalid_value", param=where or None)
    try:
        parsed = model_type.model_validate(payload)
        check_token_limit(parsed, max_tokens_limit)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(part) for part in first["loc"]) or None
        raise APIError(400, f"{param or 'body'}: {first['msg']}"[:500], code="invalid_value", param=param) from None
    except ValueError as exc:
        raise APIError(400, str(exc), code="invalid_value", param=str(exc).split("=")[0]) from None
    return parsed


def unencodable(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The dotted path of the first string (key or value) UTF-8 cannot encode, or None."""
    if depth > MAX_JSON_DEPTH:
        return None
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and unencodable(key, here) is not None:
            return path or "body"
        found = unencodable(item, here, depth + 1)
        if found is not None:
            return found
    return None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
