"""The warehouse desk: scan a parcel to receive it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from refundflow.domain.lifecycle import Action
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic, Strict
from refundflow.services import warehouse

router = APIRouter(tags=["warehouse"])
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorPublic} for s in (401, 403, 404, 409, 422)
}


class ScanBody(Strict):
    code: str = Field(min_length=1, max_length=64, description="request or tracking number")
    note: str | None = Field(None, max_length=500)


@router.post(
    "/api/v1/warehouse/scan",
    dependencies=[allowed(Action.RECEIVE)],
    summary="Receive the parcel a scanned code names",
    responses=ERRORS,
)
async def scan(body: ScanBody, caller: CallerDep) -> Json:
    return Json(
        await run(caller.box, warehouse.scan, caller.box.uows, caller.actor, body.code, body.note)
    )
