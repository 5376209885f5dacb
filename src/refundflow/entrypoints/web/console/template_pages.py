"""Notification templates in the console: a template edited (checked by rendering it, as
the API does) and previewed per channel on sample data with the unsaved edits."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.domain.errors import InvalidInputError, NotFoundError
from refundflow.domain.notifications import Notice
from refundflow.entrypoints.web.console.access import read_form, settings_editor
from refundflow.entrypoints.web.console.render import guarded, page
from refundflow.entrypoints.web.console.settings_pages import (
    HOME,
    checked_by,
    field_text,
    section_page,
)
from refundflow.entrypoints.web.deps import run
from refundflow.entrypoints.web.routes.notifications import TemplatePut
from refundflow.services import notifications
from refundflow.services.notifications.wording import LANGUAGES

router = APIRouter(include_in_schema=False)


def _template_body(form: FormData) -> dict[str, Any]:
    raw: dict[str, Any] = {
        part: form.get(part) if isinstance(form.get(part), str) else ""
        for part in ("subject", "text", "html", "short")
    }
    raw["sms_template"] = field_text(form, "sms_template") or None
    raw["sms_params"] = [p.strip() for p in field_text(form, "sms_params").split(",") if p.strip()]
    checked = checked_by(TemplatePut, raw, "template")
    return checked.model_dump(exclude_unset=True)


def _notice(form: FormData) -> tuple[str, str]:
    notice, lang = field_text(form, "notice"), field_text(form, "language")
    if notice not in {n.value for n in Notice} or lang not in LANGUAGES:
        raise NotFoundError(f"no template {notice!r} in {lang!r}")
    return notice, lang


@router.post(HOME + "/templates", response_class=HTMLResponse)
async def save_template(request: Request) -> Response:
    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        notice, lang = _notice(form)
        shown = {k: v for k, v in form.items() if isinstance(v, str)}
        if field_text(form, "reset"):
            await run(
                caller.box,
                notifications.reset_template,
                caller.box.uows,
                caller.actor,
                notice,
                lang,
            )
        else:
            try:
                changes = _template_body(form)
                await run(
                    caller.box,
                    notifications.put_template,
                    caller.box.uows,
                    caller.box.notifier,
                    caller.actor,
                    notice,
                    lang,
                    changes,
                )
            except InvalidInputError as exc:
                return await section_page(
                    request, caller, "templates", error=exc.message, status=422, form=shown
                )
        return RedirectResponse(
            f"{HOME}/templates?notice={notice}&language={lang}&saved=1", status_code=303
        )

    return await guarded(request, body)


@router.post(HOME + "/templates/preview", response_class=HTMLResponse)
async def preview_template(request: Request) -> Response:
    """The template as each channel would send it, on sample data, with the unsaved edits
    (htmx swaps it under the form)."""

    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        notice, lang = _notice(form)
        context: dict[str, Any] = {"preview": None, "error": None}
        status = 200
        try:
            context["preview"] = await run(
                caller.box,
                notifications.preview_template,
                caller.box.uows,
                caller.box.notifier,
                caller.actor,
                notice,
                lang,
                draft=_template_body(form),
            )
        except InvalidInputError as exc:
            context["error"] = exc.message
            status = 422
        return await page(
            request, "console/partials/template_preview.html", context, status, caller.actor
        )

    return await guarded(request, body)
