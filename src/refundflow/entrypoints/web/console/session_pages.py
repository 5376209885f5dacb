"""Signing in and out of the console (password, then the TOTP code where required)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.adapters.security import Argon2Hasher
from refundflow.domain.errors import AuthenticationError, PermissionDeniedError
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


def _next(value: str) -> str:
    """Only a console page of this site (no open redirect)."""
    if value.startswith("/console") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console"


@router.get("/console/step-up", response_class=HTMLResponse)
async def step_up_page(request: Request) -> Response:
    next_page = _next(request.query_params.get("next", "/console"))
    return await page(request, "console/step_up.html", {"error": None, "next": next_page})


@router.post("/console/step-up", response_class=HTMLResponse)
async def step_up(request: Request) -> Response:
    form = await request.form()
    check_form(request, _field(form, CSRF_FIELD))
    box = request.app.state.container
    token = request.cookies.get(STAFF_COOKIE) or ""
    next_page = _next(_field(form, "next"))
    try:
        await run(
            box,
            staff_auth.step_up,
            box.uows,
            HASHER,
            token,
            _field(form, "password"),
            _field(form, "code"),
        )
    except AuthenticationError:
        return RedirectResponse("/console/login", status_code=303)
    except PermissionDeniedError as exc:
        context = {"error": exc.message, "next": next_page}
        return await page(request, "console/step_up.html", context, 403)
    request.app.state.staff_authenticator.forget(token)
    return RedirectResponse(next_page, status_code=303)
