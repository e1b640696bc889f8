"""A request body → a checked wire model, or a 400 that names the offending field.

Stricter than ``json.loads`` + pydantic alone, because a hostile or sloppy client must get a
400 and never a 500: ``NaN``/``Infinity`` are not JSON, a body nested deeper than
``MAX_JSON_DEPTH`` objects and arrays is refused by itself (naming the limit), and below that
every string, key or value, is checked: a lone surrogate escape (``\\ud800``) decodes but
cannot be encoded for a worker. The walk is iterative, so no depth escapes the check.

A validation error names the place in the body it is about. Pydantic's location of an error
inside a union (``str | list[...]``) carries the branch's label (``input.str``,
``input.list[InputItem].0.content``); the label is not a key of the body, so it is dropped, and
of the errors the one that reached deepest into the body is reported: a list given where a
string or a list is allowed is reported by what is wrong inside the list, not by "Input should
be a valid string". A validator that refuses a value no worker here can take raises pydantic's
custom error of type ``unsupported_parameter``, and the client gets that code.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fugu.serving.errors import APIError
from fugu.serving.protocol import check_token_limit

# Objects and arrays inside one another, the body's own object counting as one. OpenAI's
# requests nest a few levels (a tool's JSON-schema parameters a few more); 64 leaves room for
# any real schema and keeps every check below it cheap.
MAX_JSON_DEPTH = 64
UNSUPPORTED = "unsupported_parameter"  # the error type (and the client's error code) of a refused value
Model = TypeVar("Model", bound=BaseModel)


def parse_request(body: bytes, model_type: type[Model], max_tokens_limit: int) -> Model:
    """A checked request, or a 400 APIError that names the offending field."""
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise APIError(400, f"the body is not valid JSON: {str(exc)[:200]}", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise APIError(400, "the body must be a JSON object", code="invalid_json")
    check_structure(payload)
    try:
        parsed = model_type.model_validate(payload)
        check_token_limit(parsed, max_tokens_limit)
    except ValidationError as exc:
        error, where = most_specific(exc.errors(), payload)
        param = ".".join(str(part) for part in where) or None
        code = UNSUPPORTED if error["type"] == UNSUPPORTED else "invalid_value"
        raise APIError(400, f"{param or 'body'}: {error['msg']}"[:500], code=code, param=param) from None
    except ValueError as exc:
        raise APIError(400, str(exc), code="invalid_value", param=str(exc).split("=")[0]) from None
    return parsed


def check_structure(payload: dict[str, Any]) -> None:
    """A 400 for a body nested deeper than ``MAX_JSON_DEPTH``, or for the first string (key or
    value, in document order) that UTF-8 cannot encode."""
    stack: list[tuple[Any, str, int]] = [(payload, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if not _encodable(value):
                raise _unencodable(path)
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise APIError(400, f"{path}: the body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep, "
                                f"this server's limit", code="invalid_json", param=path)
        items = list(value.items() if isinstance(value, dict) else enumerate(value))
        for key, item in reversed(items):  # popped in document order
            if isinstance(key, str) and not _encodable(key):
                raise _unencodable(path)
            stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))


def most_specific(errors: list[dict[str, Any]], payload: Any) -> tuple[dict[str, Any], tuple[str | int, ...]]:
    """The error that reached deepest into the body, and its place there (union labels dropped).
    At the same depth, a branch that took the value's type and found it wrong (a list too long, a
    string not among the choices) says more than one whose type did not fit (``string_type``)."""
    located = [(error, place_in_body(error, payload)) for error in errors]
    return max(located, key=lambda pair: (len(pair[1]), not pair[0]["type"].endswith("_type")))


def place_in_body(error: dict[str, Any], payload: Any) -> tuple[str | int, ...]:
    """The error's location as keys and indices of the body: a part of pydantic's ``loc`` that
    is not a key or index there is a union branch's label; a missing field is named though absent."""
    place: list[str | int] = []
    here, loc = payload, error["loc"]
    for position, part in enumerate(loc):
        if isinstance(here, dict) and isinstance(part, str) and part in here:
            place.append(part)
            here = here[part]
        elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
            place.append(part)
            here = here[part]
        elif position == len(loc) - 1 and error["type"] == "missing":
            place.append(part)
    return tuple(place)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unencodable(path: str) -> APIError:
    return APIError(400, f"{path or 'body'}: text that is not valid Unicode (a lone surrogate escape such "
                         "as \\ud800); send UTF-8 text", code="invalid_value", param=path or None)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
