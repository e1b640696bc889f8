"""The published ``/openapi.json``: what FastAPI cannot infer from handlers that parse their own bodies.

The two POST endpoints read their bodies by hand (a deadline, a size limit, strict parsing:
``fugu.serving.asgi``, ``fugu.serving.parsing``), so FastAPI sees no request model and no
response model; without this a client generator or a fuzzer (schemathesis) would see an
endpoint that takes nothing and returns anything.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from fugu.serving.protocol import (
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


def install_schema(app: FastAPI, secured: bool) -> None:
    """Make ``app.openapi()`` return the completed schema (built once, on first use)."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_schema(app, secured)
        return app.openapi_schema

    app.openapi = openapi


def complete_schema(app: FastAPI, secured: bool) -> dict[str, Any]:
    """FastAPI's schema plus what it cannot infer from handlers that parse their own bodies:
    the request bodies, the response bodies, and (with a key) the bearer security scheme."""
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model, mode in ((ChatCompletionRequest, "validation"), (ResponsesRequest, "validation"),
                        (ChatCompletion, "serialization"), (ResponseObject, "serialization"),
                        (ModelList, "serialization"), (ErrorBody, "serialization")):
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
    if secured:
        schema["components"]["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        for path, operations in schema["paths"].items():
            if path.startswith("/v1/") or path == "/metrics":
                for operation in operations.values():
                    operation["security"] = [{"bearerAuth": []}]
    return schema
