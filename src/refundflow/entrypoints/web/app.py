"""The application factory: ``create_app(settings)`` builds everything; nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

import refundflow
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.web import errors
from refundflow.entrypoints.web.routes import health, orders, refund_requests
from refundflow.services.auth import TokenAuthenticator

DESCRIPTION = """
refundflow's REST API. Authenticate with `Authorization: Bearer <token>`
(`refundflow tokens create --role ROLE`). Amounts are decimal strings (`"129.00"`);
times are ISO 8601 with an offset. Errors are `{"error": {"code", "message", "details"}}`.
"""


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    settings = settings or Settings()
    box = container or bootstrap(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        box.engine.dispose()

    app = FastAPI(
        title="refundflow",
        version=refundflow.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.container = box
    app.state.authenticator = TokenAuthenticator(box.uows, ttl=settings.token_cache_seconds)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(orders.router)
    app.include_router(refund_requests.router)
    _declare_bearer_auth(app)
    return app


def _declare_bearer_auth(app: FastAPI) -> None:
    """Tell OpenAPI that /api/v1 takes a bearer token (resolved by ``deps.caller``)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token from `refundflow tokens create`",
                }
            }
            for path, operations in schema["paths"].items():
                if path.startswith("/api/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
