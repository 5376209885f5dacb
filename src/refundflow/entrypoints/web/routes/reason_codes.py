"""Settings that managers edit without code: reason codes (more come with the console)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from refundflow.domain.permissions import Operation
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic, Strict
from refundflow.services import reasons

router = APIRouter(prefix="/api/v1/reason-codes", tags=["settings"])

ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorPublic} for s in (401, 403, 422)}


class ReasonPut(Strict):
    label_zh: str = Field(min_length=1, max_length=100, examples=["质量问题"])
    label_en: str = Field(min_length=1, max_length=100, examples=["Quality issue"])
    active: bool = True
    position: int | None = Field(None, ge=0, le=1000)


class ReasonPublic(BaseModel):
    code: str
    label_zh: str
    label_en: str
    active: bool
    position: int


@router.get(
    "",
    summary="Reason codes, in display order",
    response_model=list[ReasonPublic],
    responses=ERRORS,
)
async def list_reason_codes(caller: CallerDep) -> Json:
    return Json(await run(caller.box, reasons.list_reasons, caller.box.uows, caller.actor))


@router.put(
    "/{code}",
    dependencies=[allowed(Operation.MANAGE_SETTINGS)],
    summary="Add or change a reason code (deactivate instead of deleting)",
    response_model=ReasonPublic,
    responses=ERRORS,
)
async def put_reason_code(
    body: ReasonPut,
    caller: CallerDep,
    code: str = Path(pattern=r"^[a-z][a-z0-9_]{1,39}$"),
) -> Json:
    cmd = reasons.PutReason(code, body.label_zh, body.label_en, body.active, body.position)
    return Json(await run(caller.box, reasons.put_reason, caller.box.uows, caller.actor, cmd))
