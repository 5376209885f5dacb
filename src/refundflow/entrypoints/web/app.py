"""The application factory: ``create_app(settings)`` builds everything; nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

import refundflow
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.web import errors
from refundflow.entrypoints.web.console import (
    dashboard_pages,
    desk_pages,
    policy_pages,
    rule_pages,
    session_pages,
    settings_pages,
    template_pages,
    user_pages,
    work_pages,
)
from refundflow.entrypoints.web.pages import policy as policy_page
from refundflow.entrypoints.web.pages import portal as portal_pages
from refundflow.entrypoints.web.ratelimit import RateLimits
from refundflow.entrypoints.web.routes import (
    care,
    customers,
    events,
    exports,
    gateways,
    health,
    integrations,
    metrics,
    notifications,
    order_batches,
    orders,
    policies,
    portal_api,
    queues,
    reason_codes,
    refund_requests,
    refunds,
    warehouse,
    webhook_subscriptions,
    workflow_settings,
)
from refundflow.entrypoints.web.security import SecurityHeaders
from refundflow.services.auth import TokenAuthenticator
from refundflow.services.portal import PortalAuthenticator
from refundflow.services.staff_auth import StaffSessionAuthenticator

STATIC = Path(__file__).parent / "static"

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
        if container is None:  # we built it, we release it
            box.close()

    app = FastAPI(
        title="refundflow",
        version=refundflow.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if settings.rate_limits:
        app.add_middleware(RateLimits, storage_url=settings.rate_limit_storage)
    app.add_middleware(SecurityHeaders)
    app.state.container = box
    app.state.authenticator = TokenAuthenticator(box.uows, ttl=settings.token_cache_seconds)
    app.state.portal_authenticator = PortalAuthenticator(box.uows, ttl=settings.token_cache_seconds)
    app.state.staff_authenticator = StaffSessionAuthenticator(
        box.uows, ttl=settings.token_cache_seconds
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(order_batches.router)
    app.include_router(orders.router)
    # Specific sub-resources of a request before the generic /{request_id}/{action} route.
    app.include_router(care.router)
    app.include_router(exports.router)  # before refund_requests: /export is not an id
    app.include_router(refund_requests.router)
    app.include_router(reason_codes.router)
    app.include_router(policies.router)
    app.include_router(queues.router)
    app.include_router(warehouse.router)
    app.include_router(workflow_settings.router)
    app.include_router(portal_api.router)
    app.include_router(notifications.router)
    app.include_router(refunds.router)
    app.include_router(customers.router)
    app.include_router(gateways.router)
    app.include_router(policy_page.router)
    app.include_router(portal_pages.router)
    app.include_router(session_pages.router)
    app.include_router(desk_pages.router)
    app.include_router(work_pages.router)
    app.include_router(policy_pages.router)
    app.include_router(rule_pages.router)
    app.include_router(settings_pages.router)
    app.include_router(template_pages.router)
    app.include_router(user_pages.router)
    app.include_router(dashboard_pages.router)
    app.include_router(integrations.router)
    app.include_router(webhook_subscriptions.router)
    app.include_router(events.router)
    app.include_router(metrics.router)
    _declare_bearer_auth(app)
    _serve_docs(app)
    return app


def _serve_docs(app: FastAPI) -> None:
    """Swagger UI from the vendored package: no CDN at run time."""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="refundflow API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )


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
                # Shop webhooks are authenticated by their signatures, not a token.
                if path.startswith("/api/") and not path.startswith("/api/v1/integrations/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
