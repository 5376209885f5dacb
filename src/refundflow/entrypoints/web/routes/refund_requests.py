"""Refund requests: create, read, list, and every lifecycle action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.lifecycle import Action, RequestType, Status
from refundflow.domain.permissions import Operation
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import (
    ActionBody,
    ErrorPublic,
    RefundRequestCreate,
    RefundRequestPage,
    RefundRequestPublic,
)
from refundflow.services import actions, intake, queries
from refundflow.services.unit_of_work import RequestFilter

router = APIRouter(prefix="/api/v1/refund-requests", tags=["refund requests"])

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorPublic} for s in (401, 403, 404, 409, 422)
}
RequestRef = Annotated[
    str,
    Path(
        description="the request's id (123) or number (RF20261126-000123)",
        pattern=r"^(\d{1,18}|RF\d{8}-\d{6,18})$",
    ),
]


@router.post(
    "",
    dependencies=[allowed(Operation.CREATE_REQUEST)],
    summary="Ask for a refund",
    status_code=201,
    response_model=RefundRequestPublic,
    responses=ERRORS,
)
async def create_refund_request(
    body: RefundRequestCreate,
    caller: CallerDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="retry safely: the same key and body return the first response",
        ),
    ] = None,
) -> Json:
    cmd = intake.SubmitRefundRequest(
        order_no=body.order_no,
        type=body.type.value,
        reason=body.reason,
        lines=[(line.sku, line.quantity) for line in body.lines],
        description=body.description,
        include_shipping=body.include_shipping,
        refund_route=body.refund_route.value,
        intake_channel=body.intake_channel.value,
        language=body.language,
        amount=body.amount,
        exchange_sku=body.exchange_sku,
        exchange_name=body.exchange_name,
        exchange_price=body.exchange_price,
    )
    result = await run(
        caller.box,
        intake.submit_refund_request,
        caller.box.uows,
        cmd,
        caller.actor,
        idempotency_key=idempotency_key,
    )
    response = Json(result.view, status_code=201)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get(
    "",
    summary="Find refund requests, newest first",
    response_model=RefundRequestPage,
    responses=ERRORS,
)
async def list_refund_requests(
    caller: CallerDep,
    status: Status | None = None,
    type: RequestType | None = None,
    q: Annotated[
        str | None,
        Query(max_length=64, description="a request number, order number or tracking number"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=20, description="from next_cursor")] = None,
) -> Json:
    before_id = None
    if cursor is not None:
        if not cursor.isdigit():
            raise InvalidInputError("cursor must be a next_cursor value from an earlier page")
        before_id = int(cursor)
    items, next_id = await run(
        caller.box,
        queries.list_requests,
        caller.box.uows,
        RequestFilter(status=status, type=type, q=q),
        caller.actor,
        before_id=before_id,
        limit=limit,
    )
    return Json({"items": items, "next_cursor": str(next_id) if next_id is not None else None})


@router.get(
    "/{request_id}",
    summary="A refund request with its timeline",
    response_model=RefundRequestPublic,
    responses=ERRORS,
)
async def get_refund_request(request_id: RequestRef, caller: CallerDep) -> Response:
    document = await run(caller.box, queries.get_request, caller.box.uows, request_id, caller.actor)
    return Response(document, media_type="application/json")


async def _may_act(request: Request, caller: CallerDep) -> None:
    """Refuse a role the table leaves out of this action before the body is validated."""
    try:
        action = Action(request.path_params.get("action", ""))
    except ValueError:
        return  # not an action: the route's own validation answers
    actions.require_allowed(caller.actor, action)


@router.post(
    "/{request_id}/{action}",
    dependencies=[Depends(_may_act)],
    summary="Move a request along its lifecycle",
    description="Answers 409 with the allowed actions when the request's status does not "
    "allow this one.",
    response_model=RefundRequestPublic,
    responses=ERRORS,
)
async def act_on_refund_request(
    request_id: RequestRef,
    action: Action,
    caller: CallerDep,
    body: ActionBody | None = None,
) -> Json:
    data = body or ActionBody()
    view = await run(
        caller.box,
        actions.perform,
        caller.box.uows,
        request_id,
        action,
        caller.actor,
        actions.ActionInput(
            reason=data.reason,
            note=data.note,
            amount=data.amount,
            requires_return=data.requires_return,
            carrier=data.carrier,
            tracking_no=data.tracking_no,
            result=data.result,
            reference=data.reference,
            grades=[(g.sku, g.grade, g.note) for g in data.grades] if data.grades else None,
            delivered_at=data.delivered_at,
            percent=data.percent,
            route=data.route,
            account_name=data.account_name,
            bank_name=data.bank_name,
            account_no=data.account_no,
        ),
        options=caller.box.payout_options,
    )
    return Json(view)
