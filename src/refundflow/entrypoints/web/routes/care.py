"""Complaints, the contact log, compensation and root causes of a refund request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, Field

from refundflow.domain.permissions import Operation
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.routes.refund_requests import RequestRef
from refundflow.entrypoints.web.schemas import DecimalString, ErrorPublic, Strict
from refundflow.services import care

router = APIRouter(tags=["customer care"])
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorPublic} for s in (401, 403, 404, 409, 422)
}


class ComplaintBody(Strict):
    source: Literal["phone", "chat", "email", "portal", "platform", "social"]
    severity: Literal["low", "medium", "high"] = "medium"
    text: str = Field(min_length=1, max_length=2000)


class ResolveBody(Strict):
    resolution: str = Field(min_length=1, max_length=2000)


class ContactBody(Strict):
    channel: Literal["call", "chat", "email", "sms"]
    direction: Literal["in", "out"] = "out"
    summary: str = Field(min_length=1, max_length=2000)


class CompensationBody(Strict):
    kind: Literal["coupon", "points", "store_credit"]
    amount: DecimalString | None = None
    points: int | None = Field(None, ge=1, le=10**7)
    code: str | None = Field(None, max_length=64)
    expires_at: AwareDatetime | None = None


class RootCauseBody(Strict):
    code: str = Field(min_length=1, max_length=40)


@router.post(
    "/api/v1/refund-requests/{request_id}/complaints",
    dependencies=[allowed(Operation.OPEN_COMPLAINT)],
    status_code=201,
    summary="Open a complaint (raises priority, senior queue)",
    responses=ERRORS,
)
async def open_complaint(request_id: RequestRef, body: ComplaintBody, caller: CallerDep) -> Json:
    view = await run(
        caller.box,
        care.open_complaint,
        caller.box.uows,
        caller.actor,
        request_id,
        source=body.source,
        severity=body.severity,
        text=body.text,
    )
    return Json(view, status_code=201)


@router.get("/api/v1/complaints", summary="Complaints, newest first", responses=ERRORS)
async def list_complaints(
    caller: CallerDep,
    state: Annotated[Literal["open", "resolved"] | None, Query()] = None,
) -> Json:
    return Json(
        await run(caller.box, care.list_complaints, caller.box.uows, caller.actor, state=state)
    )


@router.post(
    "/api/v1/complaints/{complaint_id}/resolve",
    dependencies=[allowed(Operation.CUSTOMER_CARE)],
    summary="Resolve a complaint",
    responses=ERRORS,
)
async def resolve(
    caller: CallerDep, body: ResolveBody, complaint_id: int = Path(ge=1, le=10**12)
) -> Json:
    return Json(
        await run(
            caller.box,
            care.resolve_complaint,
            caller.box.uows,
            caller.actor,
            complaint_id,
            body.resolution,
        )
    )


@router.get(
    "/api/v1/refund-requests/{request_id}/contacts", summary="The contact log", responses=ERRORS
)
async def contacts(request_id: RequestRef, caller: CallerDep) -> Json:
    return Json(await run(caller.box, care.contacts, caller.box.uows, caller.actor, request_id))


@router.post(
    "/api/v1/refund-requests/{request_id}/contacts",
    dependencies=[allowed(Operation.CUSTOMER_CARE)],
    status_code=201,
    summary="Log a call, chat or e-mail with the customer",
    responses=ERRORS,
)
async def log_contact(request_id: RequestRef, body: ContactBody, caller: CallerDep) -> Json:
    view = await run(
        caller.box,
        care.log_contact,
        caller.box.uows,
        caller.actor,
        request_id,
        channel=body.channel,
        direction=body.direction,
        summary=body.summary,
    )
    return Json(view, status_code=201)


@router.get(
    "/api/v1/refund-requests/{request_id}/compensations",
    summary="Compensation given on a request, with its cost",
    responses=ERRORS,
)
async def request_compensations(request_id: RequestRef, caller: CallerDep) -> Json:
    return Json(
        await run(caller.box, care.compensations, caller.box.uows, caller.actor, ref=request_id)
    )


@router.post(
    "/api/v1/refund-requests/{request_id}/compensations",
    dependencies=[allowed(Operation.CUSTOMER_CARE)],
    status_code=201,
    summary="Give a coupon, points or store credit",
    responses=ERRORS,
)
async def compensate(request_id: RequestRef, body: CompensationBody, caller: CallerDep) -> Json:
    view = await run(
        caller.box,
        care.issue_compensation,
        caller.box.uows,
        caller.actor,
        request_id,
        kind=body.kind,
        amount=body.amount,
        points=body.points,
        code=body.code,
        expires_at=body.expires_at,
    )
    return Json(view, status_code=201)


@router.get(
    "/api/v1/customers/{customer_id}/compensations",
    summary="The compensation ledger of a customer",
    responses=ERRORS,
)
async def customer_compensations(
    caller: CallerDep, customer_id: int = Path(ge=1, le=10**12)
) -> Json:
    return Json(
        await run(
            caller.box, care.compensations, caller.box.uows, caller.actor, customer_id=customer_id
        )
    )


@router.post(
    "/api/v1/refund-requests/{request_id}/root-cause",
    dependencies=[allowed(Operation.TAG_ROOT_CAUSE)],
    summary="Tag why this refund happened",
    responses=ERRORS,
)
async def root_cause(request_id: RequestRef, body: RootCauseBody, caller: CallerDep) -> Json:
    return Json(
        await run(
            caller.box, care.tag_root_cause, caller.box.uows, caller.actor, request_id, body.code
        )
    )
