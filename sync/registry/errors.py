"""Typed registry errors: each carries an HTTP status, a machine code and an English detail.

``ApiError`` is a Starlette ``HTTPException`` so that one raised while FastAPI reads a request body
(the request guard's size and time limits, the strict JSON reader) reaches the registry's handler
with its own status and code instead of FastAPI's generic "error parsing the body".
"""

from __future__ import annotations

from starlette.exceptions import HTTPException


class ApiError(HTTPException):
    def __init__(self, status: int, code: str, detail: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(status_code=status, detail=f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after_s = retry_after_s

    def body(self) -> dict:
        body: dict = {"code": self.code, "detail": self.detail}
        if self.retry_after_s is not None:
            body["retry_after_s"] = self.retry_after_s
        return body


class AdminError(Exception):
    """An administration command that cannot be done (unknown student, wrong season...)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
