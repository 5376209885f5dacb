"""Settings without code, one section per page: service levels, the shop's holidays, reason
codes, root-cause tags, notification templates (``template_pages``) and console users
(``user_pages``). Forms are checked by the API's own models, then handed to the same use
cases as the API (which check the role and write the audit trail)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.domain.errors import InvalidInputError, NotFoundError
from refundflow.domain.permissions import STAFF_ROLES, Operation, Role, may
from refundflow.domain.sla import AutoAction, Step
from refundflow.entrypoints.web.console.access import read_form, settings_editor
from refundflow.entrypoints.web.console.render import guarded, page
from refundflow.entrypoints.web.deps import Caller, run
from refundflow.entrypoints.web.i18n import language, translate
from refundflow.entrypoints.web.routes.reason_codes import ReasonPut
from refundflow.entrypoints.web.routes.workflow_settings import (
    CalendarDay,
    SlaRuleBody,
    TagBody,
)
from refundflow.services import care, notifications, reasons, sla_settings, staff_auth
from refundflow.services.notifications.wording import LANGUAGES

router = APIRouter(include_in_schema=False)
HOME = "/console/settings"
SECTIONS = ("sla", "calendar", "reasons", "root-causes", "templates", "users")
SECTION_LABELS = {
    "sla": "c_sla",
    "calendar": "c_calendar",
    "reasons": "c_reasons",
    "root-causes": "c_root_causes",
    "templates": "c_templates",
    "users": "c_users",
}
CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
# Console roles, least powerful first (the add form's default is the first).
USER_ROLES = [
    r.value
    for r in (Role.CS, Role.WAREHOUSE, Role.FINANCE, Role.MANAGER, Role.ADMIN)
    if r in STAFF_ROLES
]


def field_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def checked_by(model: type[BaseModel], raw: dict[str, Any], where: str) -> BaseModel:
    """``raw`` through the API's model; its first error named by ``where`` and field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise InvalidInputError(
            f"{where} · {field}: {error['msg']}", details={"field": field}
        ) from None


def _code(value: str) -> str:
    if not CODE.match(value):
        raise InvalidInputError(
            "code: 2–40 lower-case letters, digits or _ starting with a letter",
            details={"field": "code"},
        )
    return value


# ---------------------------------------------------------------------------- reading
def _load(caller: Caller, section: str, query: dict[str, str]) -> dict[str, Any]:
    uows, actor = caller.box.uows, caller.actor
    if section == "sla":
        return {
            "rules": sla_settings.list_rules(uows, actor),
            "steps": [s.value for s in Step],
            "on_breach": [a.value for a in AutoAction],
        }
    if section == "calendar":
        year = uows.clock().astimezone(caller.box.settings.tz).year
        return {
            "days": sla_settings.calendar_days(uows, actor),
            "missing_years": sla_settings.years_without_official_data(
                uows, actor, [year, year + 1]
            ),
        }
    if section == "reasons":
        return {"items": reasons.list_reasons(uows, actor)}
    if section == "root-causes":
        return {"items": care.root_causes(uows)}
    if section == "templates":
        templates = notifications.list_templates(uows, actor)
        notice, lang = query.get("notice"), query.get("language", "zh-CN")
        chosen = None
        if notice:
            chosen = notifications.get_template(uows, actor, notice, lang)
        return {"templates": templates, "chosen": chosen}
    return {
        "users": staff_auth.list_users(uows, actor),
        "roles": USER_ROLES,
        "may_manage_users": may(actor.role, Operation.MANAGE_TOKENS),
    }


async def section_page(
    request: Request,
    caller: Caller,
    section: str,
    *,
    error: str | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
) -> Response:
    if section not in SECTIONS:
        raise NotFoundError(f"no settings section {section!r}")
    query = dict(request.query_params)
    if form is not None and section == "templates":
        query.update({"notice": form.get("notice", ""), "language": form.get("language", "")})
    context = await run(caller.box, _load, caller, section, query)
    lang = language(request)
    flash = translate("c_saved", lang) if request.query_params.get("saved") else None
    return await page(
        request,
        "console/settings.html",
        {
            **context,
            "section": section,
            "sections": [(s, SECTION_LABELS[s]) for s in SECTIONS],
            "error": error,
            "flash": flash,
            "form": form or {},
            "languages": LANGUAGES,
        },
        status,
        caller.actor,
    )


@router.get(HOME, response_class=HTMLResponse)
async def settings_home(request: Request) -> Response:
    async def body() -> Response:
        return await section_page(request, settings_editor(request), "sla")

    return await guarded(request, body)


@router.get(HOME + "/{section}", response_class=HTMLResponse)
async def settings_section(request: Request, section: str) -> Response:
    async def body() -> Response:
        return await section_page(request, settings_editor(request), section)

    return await guarded(request, body)


# ---------------------------------------------------------------------------- changing
def _tristate(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _sla_rows(form: FormData) -> list[dict[str, Any]]:
    rows = int(field_text(form, "rows")) if field_text(form, "rows").isdigit() else 0
    rules: list[dict[str, Any]] = []
    for i in range(min(rows, 500)):
        if not field_text(form, f"step_{i}") or field_text(form, f"delete_{i}"):
            continue
        minutes = field_text(form, f"minutes_{i}")
        raw = {
            "step": field_text(form, f"step_{i}"),
            "minutes": int(minutes) if minutes.isdigit() else minutes,
            "business_hours": bool(field_text(form, f"business_hours_{i}")),
            "channel": field_text(form, f"channel_{i}") or None,
            "type": field_text(form, f"type_{i}") or None,
            "tier": field_text(form, f"tier_{i}") or None,
            "fast_track": _tristate(field_text(form, f"fast_track_{i}")),
            "order_shipped": _tristate(field_text(form, f"order_shipped_{i}")),
            "remind_at": field_text(form, f"remind_at_{i}") or None,
            "on_breach": field_text(form, f"on_breach_{i}") or None,
            "preset": field_text(form, f"preset_{i}") or None,
        }
        rule = checked_by(SlaRuleBody, raw, f"rule {i + 1}")
        rules.append(rule.model_dump(exclude={"id"}))
    return rules


async def apply_change(
    request: Request, section: str, action: Any, *args: Any, **kwargs: Any
) -> Response:
    """Run a settings use case; a refusal of the input shows the section again (422)."""
    caller = settings_editor(request)
    try:
        await run(caller.box, action, caller.box.uows, caller.actor, *args, **kwargs)
    except InvalidInputError as exc:
        return await section_page(request, caller, section, error=exc.message, status=422)
    return RedirectResponse(f"{HOME}/{section}?saved=1", status_code=303)


@router.post(HOME + "/sla", response_class=HTMLResponse)
async def save_sla(request: Request) -> Response:
    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        try:
            rules = _sla_rows(form)
        except InvalidInputError as exc:
            return await section_page(request, caller, "sla", error=exc.message, status=422)
        return await apply_change(request, "sla", sla_settings.replace_rules, rules)

    return await guarded(request, body)


@router.post(HOME + "/calendar", response_class=HTMLResponse)
async def save_calendar(request: Request) -> Response:
    """The shop's own holidays and make-up working days (the whole list, as shown)."""

    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        rows = int(field_text(form, "rows")) if field_text(form, "rows").isdigit() else 0
        days = []
        try:
            for i in range(min(rows, 1000)):
                if not field_text(form, f"day_{i}") or field_text(form, f"delete_{i}"):
                    continue
                raw = {
                    "day": field_text(form, f"day_{i}"),
                    "kind": field_text(form, f"kind_{i}"),
                    "name": field_text(form, f"name_{i}"),
                }
                days.append(checked_by(CalendarDay, raw, f"day {i + 1}").model_dump())
        except InvalidInputError as exc:
            return await section_page(request, caller, "calendar", error=exc.message, status=422)
        return await apply_change(request, "calendar", sla_settings.replace_calendar_days, days)

    return await guarded(request, body)


@router.post(HOME + "/sla/preset", response_class=HTMLResponse)
async def sla_preset(request: Request) -> Response:
    async def body() -> Response:
        form = await read_form(request)
        return await apply_change(
            request, "sla", sla_settings.load_preset, field_text(form, "preset")
        )

    return await guarded(request, body)


def _labels(form: FormData, model: type[BaseModel], where: str) -> Any:
    return checked_by(
        model,
        {
            "label_zh": field_text(form, "label_zh"),
            "label_en": field_text(form, "label_en"),
            "active": bool(field_text(form, "active")),
        },
        where,
    )


@router.post(HOME + "/reasons", response_class=HTMLResponse)
async def save_reason(request: Request) -> Response:
    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        try:
            code = _code(field_text(form, "code"))
            checked: ReasonPut = _labels(form, ReasonPut, code)
        except InvalidInputError as exc:
            return await section_page(request, caller, "reasons", error=exc.message, status=422)
        position = field_text(form, "position")
        command = reasons.PutReason(
            code,
            checked.label_zh,
            checked.label_en,
            checked.active,
            int(position) if position.isdigit() else None,
        )
        return await apply_change(request, "reasons", reasons.put_reason, command)

    return await guarded(request, body)


@router.post(HOME + "/root-causes", response_class=HTMLResponse)
async def save_root_cause(request: Request) -> Response:
    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        try:
            code = _code(field_text(form, "code"))
            checked: TagBody = _labels(form, TagBody, code)
        except InvalidInputError as exc:
            return await section_page(request, caller, "root-causes", error=exc.message, status=422)
        return await apply_change(
            request,
            "root-causes",
            care.put_root_cause,
            code,
            checked.label_zh,
            checked.label_en,
            checked.active,
        )

    return await guarded(request, body)
