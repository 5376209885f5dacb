"""Console sign-in state: the ``rf_staff`` session cookie; forms (and htmx requests, by the
``X-CSRF-Token`` header) carry the CSRF token of the ``rf_csrf`` cookie."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response

from refundflow.domain.actors import Actor
from refundflow.domain.errors import PermissionDeniedError
from refundflow.domain.permissions import Operation, may
from refundflow.entrypoints.web.deps import Caller
from refundflow.entrypoints.web.portal_auth import CSRF_FIELD, check_csrf
from refundflow.services.staff_auth import StaffSessionAuthenticator

STAFF_COOKIE = "rf_staff"


def staff(request: Request) -> Caller:
    authenticator: StaffSessionAuthenticator = request.app.state.staff_authenticator
    actor: Actor = authenticator.authenticate(request.cookies.get(STAFF_COOKIE))
    request.state.actor = actor  # for the audit of refusals
    return Caller(actor, request.app.state.container)


def check_form(request: Request, submitted: str | None) -> None:
    """Forms send the token as a field; htmx sends it as a header."""
    check_csrf(request, submitted or request.headers.get("x-csrf-token"))


async def read_form(request: Request) -> FormData:
    """The posted form, once its CSRF token is checked."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    check_form(request, token if isinstance(token, str) else None)
    return form


def staff_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        STAFF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=12 * 3600,
        path="/console",
    )


def settings_editor(request: Request) -> Caller:
    """A signed-in user whose role may change the policy and the settings (the permission
    table's ``manage_settings``: managers and admins)."""
    caller = staff(request)
    if not may(caller.actor.role, Operation.MANAGE_SETTINGS):
        raise PermissionDeniedError(
            f"the {caller.actor.role.value} role cannot change the policy or the settings"
        )
    return caller


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role.value != "admin" and actor.role.value not in roles:
        raise PermissionDeniedError(f"the {actor.role.value} role cannot open this page")
