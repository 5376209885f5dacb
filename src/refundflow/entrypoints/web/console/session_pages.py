"""Signing in and out of the console (password, then the TOTP code where required)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.adapters.security import Argon2Hasher
from refundflow.domain.errors import AuthenticationError
from refundflow.entrypoints.web.console.access import STAFF_COOKIE, check_form, staff_cookie
from refundflow.entrypoints.web.console.render import page
from refundflow.entrypoints.web.deps import run
from refundflow.entrypoints.web.portal_auth import CSRF_FIELD
from refundflow.services import staff_auth

router = APIRouter(include_in_schema=False)
HASHER = Argon2Hasher()


def _field(form: object, name: str) -> str:
    value = form.get(name)  # type: ignore[attr-defined]
    return value if isinstance(value, str) else ""


@router.get("/console/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    return await page(request, "console/login.html", {"error": None})


@router.post("/console/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    check_form(request, _field(form, CSRF_FIELD))
    box = request.app.state.container
    try:
        result = await run(
            box,
            staff_auth.sign_in,
            box.uows,
            HASHER,
            _field(form, "email"),
            _field(form, "password"),
            require_totp=box.settings.require_totp,
        )
    except AuthenticationError as exc:
        return await page(request, "console/login.html", {"error": exc.message}, 401)
    if result.needs_second_factor:
        response: Response = await page(
            request, "console/totp.html", {"error": None, "enroll": result.enroll_secret}
        )
    else:
        response = RedirectResponse("/console", status_code=303)
    staff_cookie(request, response, result.token)
    return response


@router.post("/console/totp", response_class=HTMLResponse)
async def totp(request: Request) -> Response:
    form = await request.form()
    check_form(request, _field(form, CSRF_FIELD))
    box = request.app.state.container
    token = request.cookies.get(STAFF_COOKIE) or ""
    try:
        await run(box, staff_auth.second_factor, box.uows, token, _field(form, "code"))
    except AuthenticationError as exc:
        return await page(request, "console/totp.html", {"error": exc.message, "enroll": None}, 401)
    request.app.state.staff_authenticator.forget(token)
    return RedirectResponse("/console", status_code=303)


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    check_form(request, _field(form, CSRF_FIELD))
    token = request.cookies.get(STAFF_COOKIE)
    if token:
        box = request.app.state.container
        await run(box, staff_auth.sign_out, box.uows, token)
        request.app.state.staff_authenticator.forget(token)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(STAFF_COOKIE, path="/console")
    return response
