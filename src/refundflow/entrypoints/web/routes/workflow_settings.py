"""Service levels, the shop's calendar and root-cause tags: settings managers edit."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from refundflow.domain.permissions import Operation
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic, Strict
from refundflow.services import care, sla_settings

router = APIRouter(tags=["settings"])
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorPublic} for s in (401, 403, 422)}


class SlaRuleBody(Strict):
    step: str = Field(examples=["review"])
    minutes: int = Field(ge=1, le=365 * 24 * 60)
    business_hours: bool = False
    channel: str | None = Field(None, max_length=32)
    type: str | None = Field(None, max_length=24)
    tier: str | None = Field(None, max_length=16)
    fast_track: bool | None = None
    order_shipped: bool | None = None
    remind_at: str | None = Field(None, pattern=r"^0?\.\d{1,4}$", examples=["0.75"])
    on_breach: Literal["auto_approve", "auto_cancel", "auto_confirm_receipt"] | None = None
    preset: str | None = Field(None, max_length=16)
    id: int | None = Field(None, description="ignored on input")


class CalendarDay(Strict):
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2027-02-06"])
    kind: Literal["holiday", "workday"]
    name: str = Field("", max_length=100)


class TagBody(Strict):
    label_zh: str = Field(min_length=1, max_length=100)
    label_en: str = Field(min_length=1, max_length=100)
    active: bool = True


@router.get("/api/v1/sla-rules", summary="Service-level rules", responses=ERRORS)
async def list_sla_rules(caller: CallerDep) -> Json:
    return Json(await run(caller.box, sla_settings.list_rules, caller.box.uows, caller.actor))


@router.put(
    "/api/v1/sla-rules",
    dependencies=[allowed(Operation.MANAGE_SETTINGS)],
    summary="Replace every service-level rule",
    responses=ERRORS,
)
async def put_sla_rules(body: list[SlaRuleBody], caller: CallerDep) -> Json:
    raw = [rule.model_dump(exclude={"id"}) for rule in body]
    return Json(
        await run(caller.box, sla_settings.replace_rules, caller.box.uows, caller.actor, raw)
    )


@router.post(
    "/api/v1/sla-rules/presets/{name}",
    summary="Restore a platform preset (taobao, wechat_store, jd, own_site)",
    responses=ERRORS,
)
async def load_preset(caller: CallerDep, name: str = Path(max_length=16)) -> Json:
    return Json(
        await run(caller.box, sla_settings.load_preset, caller.box.uows, caller.actor, name)
    )


@router.get(
    "/api/v1/calendar/days", summary="The shop's own holidays and working days", responses=ERRORS
)
async def calendar_days(caller: CallerDep) -> Json:
    return Json(await run(caller.box, sla_settings.calendar_days, caller.box.uows, caller.actor))


@router.put(
    "/api/v1/calendar/days",
    dependencies=[allowed(Operation.MANAGE_SETTINGS)],
    summary="Replace the shop's own calendar days",
    responses=ERRORS,
)
async def put_calendar_days(body: list[CalendarDay], caller: CallerDep) -> Json:
    return Json(
        await run(
            caller.box,
            sla_settings.replace_calendar_days,
            caller.box.uows,
            caller.actor,
            [day.model_dump() for day in body],
        )
    )


@router.get("/api/v1/root-cause-tags", summary="Root-cause tags", responses=ERRORS)
async def root_cause_tags(caller: CallerDep) -> Json:
    return Json(await run(caller.box, care.root_causes, caller.box.uows))


@router.put(
    "/api/v1/root-cause-tags/{code}",
    dependencies=[allowed(Operation.MANAGE_SETTINGS)],
    summary="Add or change a root-cause tag",
    responses=ERRORS,
)
async def put_root_cause_tag(
    body: TagBody, caller: CallerDep, code: str = Path(pattern=r"^[a-z][a-z0-9_]{1,39}$")
) -> Json:
    return Json(
        await run(
            caller.box,
            care.put_root_cause,
            caller.box.uows,
            caller.actor,
            code,
            body.label_zh,
            body.label_en,
            body.active,
        )
    )
