"""Errors of the control-plane API: one JSON shape, ``{"error", "what_to_do"}``.

Every refusal says what happened and what to do; bad input is a 4xx, never a 500.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorBody(BaseModel):
    error: str
    what_to_do: str


class ApiError(Exception):
    """A refusal with its HTTP status; raised by routes, answered by the handler."""

    def __init__(self, status: int, error: str, what_to_do: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.what_to_do = what_to_do


def not_found(what: str, what_to_do: str) -> ApiError:
    return ApiError(404, what, what_to_do)


def _answer(status: int, error: str, what_to_do: str, **headers: str) -> JSONResponse:
    body = ErrorBody(error=error, what_to_do=what_to_do).model_dump()
    return JSONResponse(body, status_code=status, headers=headers or None)


# Answers to document on every route, so clients (and schemathesis) know them.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "No valid token"},
    403: {"model": ErrorBody, "description": "The token's role may not do this"},
    404: {"model": ErrorBody, "description": "Unknown id"},
    409: {"model": ErrorBody, "description": "Already done or conflicting state"},
    422: {"model": ErrorBody, "description": "Bad input"},
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
        return _answer(error.status, error.error, error.what_to_do, **headers)

    @app.exception_handler(RequestValidationError)
    async def bad_input(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        return _answer(422, f"bad input: {problems}", "Fix the request as described; see /docs.")

    # A safety net behind the validation of each route: a value the database cannot
    # hold (a NUL byte for PostgreSQL, an integer past 64 bits) is bad input, not a 500.
    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def unstorable(_: Request, error: Exception) -> JSONResponse:
        return _answer(
            422,
            f"a value in the request cannot be looked up: {type(error).__name__}",
            "Check the ids and filters; ids are positive 64-bit integers, text has no NUL.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        what_to_do = "See /openapi.json for the routes and methods this API offers."
        return _answer(error.status_code, str(error.detail), what_to_do)
