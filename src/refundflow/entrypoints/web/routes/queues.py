"""Queues and their work items: each role's open steps, soonest due first."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import Field

from refundflow.domain.permissions import Operation
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic, Strict
from refundflow.services import care, queues
from refundflow.services.unit_of_work import QueueFilter

router = APIRouter(tags=["queues"])
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorPublic} for s in (401, 403, 404, 409, 422)
}
ItemId = Annotated[int, Path(ge=1, le=10**12)]


class AssignBody(Strict):
    owner: str = Field(min_length=1, max_length=64, description="the staff member's id")


class FollowUpBody(Strict):
    channel: str = Field("call", pattern="^(call|chat|email|sms)$")
    summary: str = Field(min_length=1, max_length=2000)


@router.get(
    "/api/v1/queues/{queue}",
    summary="A queue's open steps, soonest due first (cs, cs_senior, warehouse, finance, "
    "manager = escalated)",
    responses=ERRORS,
)
async def list_queue(
    caller: CallerDep,
    queue: Annotated[str, Path(max_length=16)],
    type: Annotated[str | None, Query(max_length=24)] = None,
    reason: Annotated[str | None, Query(max_length=40)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    tier: Annotated[str | None, Query(max_length=16)] = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    step: Annotated[str | None, Query(max_length=24)] = None,
    min_amount: Annotated[Decimal | None, Query(ge=0, le=10**12)] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
) -> Json:
    filters = QueueFilter(
        type=type,
        reason=reason,
        channel=channel,
        tier=tier,
        owner=owner,
        step=step,
        min_amount_minor=int(min_amount * 100) if min_amount is not None else None,
        overdue_at=caller.box.uows.clock() if overdue else None,
    )
    items, next_cursor = await run(
        caller.box,
        queues.list_queue,
        caller.box.uows,
        caller.actor,
        queue,
        filters,
        limit=limit,
        cursor=cursor,
    )
    return Json({"items": items, "next_cursor": next_cursor})


@router.post("/api/v1/work-items/{item_id}/claim", summary="Take a step", responses=ERRORS)
async def claim(caller: CallerDep, item_id: ItemId) -> Json:
    return Json(await run(caller.box, queues.claim, caller.box.uows, caller.actor, item_id))


@router.post(
    "/api/v1/work-items/{item_id}/release",
    summary="Give a step back to its queue",
    responses=ERRORS,
)
async def release(caller: CallerDep, item_id: ItemId) -> Json:
    return Json(await run(caller.box, queues.release, caller.box.uows, caller.actor, item_id))


@router.post(
    "/api/v1/work-items/{item_id}/assign",
    dependencies=[allowed(Operation.ASSIGN_WORK)],
    summary="Give a step to someone (managers)",
    responses=ERRORS,
)
async def assign(caller: CallerDep, item_id: ItemId, body: AssignBody) -> Json:
    return Json(
        await run(caller.box, queues.assign, caller.box.uows, caller.actor, item_id, body.owner)
    )


@router.post(
    "/api/v1/work-items/{item_id}/complete",
    dependencies=[allowed(Operation.CUSTOMER_CARE)],
    summary="Record a follow-up call (回访) and close it",
    responses=ERRORS,
)
async def complete(caller: CallerDep, item_id: ItemId, body: FollowUpBody) -> Json:
    return Json(
        await run(
            caller.box,
            care.complete_follow_up,
            caller.box.uows,
            caller.actor,
            item_id,
            channel=body.channel,
            summary=body.summary,
        )
    )
