"""How a customer is recognised: a portal token as a bearer (JSON API) or in the
``rf_portal`` cookie (pages); forms carry a CSRF token matching the ``rf_csrf`` cookie."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from refundflow.domain.actors import Actor
from refundflow.domain.errors import AuthenticationError, PermissionDeniedError
from refundflow.entrypoints.web.deps import Caller, bearer_token
from refundflow.services.portal import PortalAuthenticator

SESSION_COOKIE = "rf_portal"
CSRF_COOKIE = "rf_csrf"
CSRF_FIELD = "csrf_token"


def portal_token(request: Request) -> str | None:
    return bearer_token(request) or request.cookies.get(SESSION_COOKIE)


async def customer(request: Request) -> Caller:
    authenticator: PortalAuthenticator = request.app.state.portal_authenticator
    actor: Actor = authenticator.authenticate(portal_token(request))
    request.state.actor = actor  # for the audit of refusals
    return Caller(actor, request.app.state.container)


CustomerDep = Annotated[Caller, Depends(customer)]


def csrf_token(request: Request) -> str:
    """The form token of this browser (a random value also kept in a cookie)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def keep_csrf_cookie(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(
            CSRF_COOKIE,
            new,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            max_age=86400,
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise PermissionDeniedError("the form expired: reload the page and try again")


def session_cookie(request: Request, response: Response, token: str, hours: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=hours * 3600,
    )


def require_session(request: Request) -> Actor:
    authenticator: PortalAuthenticator = request.app.state.portal_authenticator
    try:
        return authenticator.authenticate(request.cookies.get(SESSION_COOKIE))
    except AuthenticationError:
        raise
