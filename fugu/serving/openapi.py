"""The published ``/openapi.json``: what FastAPI cannot infer from handlers that parse their own bodies.

The two POST endpoints read their bodies by hand (a deadline, a size limit, strict parsing:
``fugu.serving.asgi``, ``fugu.serving.parsing``), so FastAPI sees no request model and no
response model; without this a client generator or a fuzzer (schemathesis) would see an
endpoint that takes nothing and returns anything.

The request schemas say what *this* server accepts, so that a body valid by the schema is
answered and an invalid one is a 400: each field its workers cannot honour may only be unset
(``fields.refused_fields``, for the served pool and, under the ultra model's name, for none),
and the token fields stop at the server's limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from fugu.serving.fields import Api, refused_fields
from fugu.serving.protocol import (
    TOKEN_FIELDS,
    ChatCompletion,
    ChatCompletionRequest,
    ErrorBody,
    ModelList,
    ResponseObject,
    ResponsesRequest,
)

ERROR_RESPONSES: dict[int, dict[str, Any]] = {status: {"model": ErrorBody, "description": text} for status, text in {
    400: "invalid request (names the field)", 401: "missing or wrong API key", 404: "unknown model",
    408: "the body did not arrive in time", 413: "body too large", 429: "too many requests in flight",
    502: "no worker produced an answer", 504: "no answer within the deadline"}.items()}
ERROR_RESPONSES[429]["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}


def generation_docs(request: str, response: str, description: str) -> dict[str, Any]:
    """The route decorator's ``responses`` and ``openapi_extra`` for a generation endpoint: the
    ``request`` component as its JSON body, the ``response`` component or an event stream as its
    200, and every error it can answer."""
    return {
        "responses": {200: {"description": description,
                            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{response}"}},
                                        "text/event-stream": {"schema": {"type": "string"}}}},
                      **ERROR_RESPONSES},
        "openapi_extra": {"requestBody": {"required": True, "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{request}"}}}}},
    }


@dataclass(frozen=True)
class ServerLimits:
    """What the request schemas depend on besides the wire models."""
    secured: bool                # a key is set: every /v1/ route and /metrics need it (else 401)
    honoured: frozenset[str]     # the worker options the pool honours (``pool.supported_options``)
    ultra_model: str | None      # the ultra mode's model name (it honours no worker option), if served
    max_tokens: int              # ``max_tokens_limit``


def install_schema(app: FastAPI, limits: ServerLimits) -> None:
    """Make ``app.openapi()`` return the completed schema (built once, on first use)."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_schema(app, limits)
        return app.openapi_schema

    app.openapi = openapi


def only_unset(api: Api, honoured: frozenset[str]) -> dict[str, Any]:
    """JSON Schema allowing each field ``api``'s workers cannot honour only its unset values."""
    schema: dict[str, Any] = {}
    for path, unset in refused_fields(api, honoured).items():
        here = schema
        for name in path.split("."):
            here = here.setdefault("properties", {}).setdefault(name, {})
        here["enum"] = list(unset)
    return schema


def request_rules(model: type[ChatCompletionRequest | ResponsesRequest], limits: ServerLimits) -> list[dict[str, Any]]:
    """This server's rules for a request body beyond its wire model, as JSON Schema."""
    tokens = [name for name in TOKEN_FIELDS if name in model.model_fields]
    rules = [{"properties": {name: {"maximum": limits.max_tokens} for name in tokens}},
             only_unset(model.api, limits.honoured)]
    if limits.ultra_model is not None:
        rules.append({"if": {"required": ["model"], "properties": {"model": {"const": limits.ultra_model}}},
                      "then": only_unset(model.api, frozenset())})
    return rules


def complete_schema(app: FastAPI, limits: ServerLimits) -> dict[str, Any]:
    """FastAPI's schema plus what it cannot infer from handlers that parse their own bodies:
    the request bodies (with this server's rules), the response bodies, and (with a key) the
    bearer security scheme and its 401."""
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model, mode in ((ChatCompletionRequest, "validation"), (ResponsesRequest, "validation"),
                        (ChatCompletion, "serialization"), (ResponseObject, "serialization"),
                        (ModelList, "serialization"), (ErrorBody, "serialization")):
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
    for model in (ChatCompletionRequest, ResponsesRequest):
        components[model.__name__].setdefault("allOf", []).extend(request_rules(model, limits))
    if limits.secured:
        schema["components"]["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        for path, operations in schema["paths"].items():
            if path.startswith("/v1/") or path == "/metrics":
                for operation in operations.values():
                    operation["security"] = [{"bearerAuth": []}]
                    operation["responses"].setdefault("401", {
                        "description": ERROR_RESPONSES[401]["description"],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
    return schema
