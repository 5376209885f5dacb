"""Console users: admins add them, change their role or disable them (``services.auth``
and ``services.staff_auth``, which check the role and write the audit trail)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.adapters.security import Argon2Hasher
from refundflow.domain.errors import InvalidInputError
from refundflow.entrypoints.web.console.access import read_form, settings_editor
from refundflow.entrypoints.web.console.render import guarded
from refundflow.entrypoints.web.console.settings_pages import (
    HOME,
    apply_change,
    field_text,
    section_page,
)
from refundflow.entrypoints.web.deps import run
from refundflow.services import auth, staff_auth

router = APIRouter(include_in_schema=False)
HASHER = Argon2Hasher()


@router.post(HOME + "/users", response_class=HTMLResponse)
async def add_user(request: Request) -> Response:
    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        try:
            await run(
                caller.box,
                auth.add_user,
                caller.box.uows,
                HASHER,
                email=field_text(form, "email"),
                role=field_text(form, "role"),
                password=form.get("password") if isinstance(form.get("password"), str) else "",
                name=field_text(form, "name") or None,
                by=caller.actor,
            )
        except InvalidInputError as exc:
            return await section_page(request, caller, "users", error=exc.message, status=422)
        return RedirectResponse(f"{HOME}/users?saved=1", status_code=303)

    return await guarded(request, body)


@router.post(HOME + "/users/{user_id}", response_class=HTMLResponse)
async def change_user(request: Request, user_id: int) -> Response:
    """Change a user's role, or disable or enable them."""

    async def body() -> Response:
        form = await read_form(request)
        active = {"disable": False, "enable": True}.get(field_text(form, "do"))
        role = field_text(form, "role") or None
        return await apply_change(
            request, "users", staff_auth.change_user, user_id, role=role, active=active
        )

    return await guarded(request, body)
