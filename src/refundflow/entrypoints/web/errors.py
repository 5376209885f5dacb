"""Map every error to ``{"error": {"code", "message", "details"}}`` with its HTTP status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from refundflow.domain.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RefundflowError,
)
from refundflow.entrypoints.web.deps import run
from refundflow.entrypoints.web.responses import Json, error
from refundflow.services import audit

log = logging.getLogger("refundflow.web")

STATUS: list[tuple[type[RefundflowError], int]] = [
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
]


def status_of(exc: RefundflowError) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


async def audit_denial(request: Request, exc: RefundflowError) -> None:
    """A signed-in caller refused an action goes in the audit trail (who, what, where)."""
    actor = getattr(request.state, "actor", None)
    if actor is None:
        return
    box = request.app.state.container

    def write() -> None:
        with box.uows() as uow:
            audit.record(
                uow,
                actor,
                "access.denied",
                f"{request.method} {request.url.path}"[:100],
                {"reason": exc.message[:200]},
            )
            uow.commit()

    await run(box, write)


def install(app: FastAPI) -> None:
    @app.exception_handler(RefundflowError)
    async def _domain(request: Request, exc: RefundflowError) -> Json:
        if isinstance(exc, PermissionDeniedError):
            await audit_denial(request, exc)
        response = error(status_of(exc), exc.code, exc.message, exc.details)
        if isinstance(exc, AuthenticationError):
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Json:
        problems = [
            {"field": field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"field": "body", "message": "invalid input"}
        message = f"{first['field']}: {first['message']}"
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more)"
        return error(422, "invalid_input", message, {"errors": problems})

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/console") and exc.status_code in (404, 405):
            from refundflow.entrypoints.web.console.render import page  # pages import us

            message = "no such page" if exc.status_code == 404 else "method not allowed"
            return await page(request, "console/error.html", {"message": message}, exc.status_code)
        codes = {
            401: "unauthenticated",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
        }
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        response = error(exc.status_code, codes.get(exc.status_code, "http_error"), message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Json:
        log.exception("unhandled error", exc_info=exc)
        return error(500, "internal_error", "something went wrong on our side; nothing was changed")
