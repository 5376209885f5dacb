"""Rendering console pages: the signed-in user, the navigation their role sees, CSRF, and
refusals shown as pages (signed out → the login page)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.domain.actors import Actor
from refundflow.domain.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RefundflowError,
    StepUpRequiredError,
)
from refundflow.domain.permissions import Operation, roles_for
from refundflow.entrypoints.web.errors import audit_denial, status_of
from refundflow.entrypoints.web.i18n import MESSAGES
from refundflow.entrypoints.web.pages.templating import render
from refundflow.entrypoints.web.portal_auth import CSRF_FIELD, csrf_token, keep_csrf_cookie

# Who may change the policy and the settings: the permission table's ``manage_settings``.
_SETTINGS = frozenset(role.value for role in roles_for(Operation.MANAGE_SETTINGS))

# What each role sees in the console's navigation (admin: everything).
NAV: list[tuple[str, str, frozenset[str]]] = [
    ("/console", "c_home", frozenset({"cs", "manager", "warehouse", "finance"})),
    ("/console/warehouse", "c_warehouse", frozenset({"warehouse"})),
    ("/console/finance", "c_finance", frozenset({"finance", "manager"})),
    ("/console/policy", "c_policy", _SETTINGS),
    ("/console/settings", "c_settings", _SETTINGS),
    ("/console/dashboard", "c_dashboard", frozenset({"manager"})),
]


def nav_for(actor: Actor | None) -> list[tuple[str, str]]:
    if actor is None:
        return []
    role = actor.role.value
    return [(href, label) for href, label, roles in NAV if role == "admin" or role in roles]


async def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    actor: Actor | None = None,
) -> HTMLResponse:
    response = render(
        request,
        name,
        {
            "csrf": csrf_token(request),
            "csrf_field": CSRF_FIELD,
            "me": actor,
            "nav": nav_for(actor),
            "path": request.url.path,
            "known": MESSAGES,
            **context,
        },
        status,
    )
    response.headers["Cache-Control"] = "no-store"
    keep_csrf_cookie(request, response)
    return response


async def guarded(request: Request, body: Callable[[], Awaitable[Response]]) -> Response:
    try:
        return await body()
    except AuthenticationError:
        return RedirectResponse("/console/login", status_code=303)
    except StepUpRequiredError:
        # Confirm the password, then come back to the page the action was taken from.
        back = urlsplit(request.headers.get("referer", "")).path or "/console"
        return RedirectResponse(f"/console/step-up?{urlencode({'next': back})}", status_code=303)
    except RefundflowError as exc:
        if isinstance(exc, PermissionDeniedError):
            await audit_denial(request, exc)
        actor = getattr(request.state, "actor", None)
        return await page(
            request, "console/error.html", {"message": exc.message}, status_of(exc), actor
        )
