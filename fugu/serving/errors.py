"""The one error type a client sees: raised anywhere in serving, answered as OpenAI's error body.

OpenAI's clients turn ``{"error": {...}}`` with the right status into their own exceptions
(``RateLimitError``, ``NotFoundError``, ...), so every refusal, from a bad field to a dead pool,
goes out in that shape; the app has one exception handler for it.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

from fugu.serving.protocol import error_body


class APIError(Exception):
    """An error the client gets as one OpenAI-style body with this status."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.message, self.type, self.code, self.param), status_code=self.status,
                            headers=self.headers)
