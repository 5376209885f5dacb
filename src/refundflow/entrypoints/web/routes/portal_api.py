"""The customer portal over JSON: sign in with a one-time code, then see and act on one's
own orders and requests (anything else answers 404), with a live event stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio
import orjson
from fastapi import APIRouter, File, Request, UploadFile
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from refundflow.domain.errors import NotFoundError
from refundflow.domain.lifecycle import Action
from refundflow.entrypoints.web.deps import ContainerDep, run
from refundflow.entrypoints.web.portal_auth import CustomerDep
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.routes.refund_requests import RequestRef
from refundflow.entrypoints.web.schemas import ErrorPublic, RefundRequestCreate, Strict
from refundflow.services import actions, customer, intake, portal, uploads

router = APIRouter(prefix="/api/v1/portal", tags=["customer portal"])
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorPublic} for s in (401, 404, 409, 422)}
LOOKUP_ANSWER = {
    "status": "accepted",
    "message": "如果订单号与联系方式匹配，验证码已发送，10 分钟内有效。"
    " / If the order and contact match, a code is on its way; it is valid for 10 minutes.",
}
CUSTOMER_ACTIONS = {Action.CANCEL, Action.RETURN_SHIPMENT, Action.APPEAL}
STREAM_POLL_SECONDS = 1.0


class LookupBody(Strict):
    order_no: str = Field(min_length=1, max_length=64)
    contact: str = Field(
        min_length=3, max_length=254, description="the phone or e-mail on the order"
    )
    language: Literal["zh-CN", "en"] = Field("zh-CN", description="the code message's language")


class VerifyBody(LookupBody):
    code: str = Field(pattern=r"^\d{6}$")


class TokenPublic(BaseModel):
    token: str


class PortalActionBody(Strict):
    reason: str | None = Field(None, max_length=500)
    carrier: str | None = Field(None, max_length=64)
    tracking_no: str | None = Field(None, max_length=64)


def command(body: RefundRequestCreate) -> intake.SubmitRefundRequest:
    return intake.SubmitRefundRequest(
        order_no=body.order_no,
        type=body.type.value,
        reason=body.reason,
        lines=[(line.sku, line.quantity) for line in body.lines],
        description=body.description,
        include_shipping=body.include_shipping,
        refund_route=body.refund_route.value,
        intake_channel="portal",
        language=body.language,
        exchange_sku=body.exchange_sku,
        exchange_name=body.exchange_name,
        exchange_price=body.exchange_price,
    )


@router.post("/lookup", status_code=202, summary="Ask for a one-time code (same answer always)")
async def lookup(body: LookupBody, box: ContainerDep) -> Json:
    await run(
        box,
        portal.request_code,
        box.uows,
        box.notifier,
        body.order_no,
        body.contact,
        body.language,
    )
    return Json(LOOKUP_ANSWER, status_code=202)


@router.post(
    "/verify",
    summary="Trade the code for a session token",
    response_model=TokenPublic,
    responses=ERRORS,
)
async def verify(body: VerifyBody, box: ContainerDep) -> Json:
    token = await run(box, portal.verify_code, box.uows, body.order_no, body.contact, body.code)
    return Json({"token": token})


@router.get("/orders/{order_no}", summary="One of my orders", responses=ERRORS)
async def my_order(order_no: str, caller: CustomerDep) -> Json:
    return Json(await run(caller.box, customer.own_order, caller.box.uows, caller.actor, order_no))


@router.get("/refund-requests", summary="My refund requests", responses=ERRORS)
async def my_requests(caller: CustomerDep) -> Json:
    return Json(await run(caller.box, customer.own_requests, caller.box.uows, caller.actor))


@router.post(
    "/refund-requests/preview",
    summary="What the policy would decide (nothing stored)",
    responses=ERRORS,
)
async def preview(body: RefundRequestCreate, caller: CustomerDep) -> Json:
    return Json(
        await run(caller.box, customer.preview, caller.box.uows, caller.actor, command(body))
    )


@router.post("/refund-requests", status_code=201, summary="Ask for a refund", responses=ERRORS)
async def create(body: RefundRequestCreate, caller: CustomerDep) -> Json:
    submitted = await run(
        caller.box, intake.submit_refund_request, caller.box.uows, command(body), caller.actor
    )
    return Json(portal.customer_view(submitted.view), status_code=201)


@router.get("/refund-requests/{request_id}", summary="One of my requests", responses=ERRORS)
async def my_request(request_id: RequestRef, caller: CustomerDep) -> Json:
    return Json(
        await run(caller.box, customer.own_request, caller.box.uows, caller.actor, request_id)
    )


@router.post(
    "/refund-requests/{request_id}/photos",
    status_code=201,
    summary="Add photos (JPEG, PNG or WebP; at most 6 per request)",
    responses=ERRORS,
)
async def add_photos(
    request_id: RequestRef, caller: CustomerDep, photos: Annotated[list[UploadFile], File()]
) -> Json:
    data = [await photo.read(uploads.MAX_BYTES + 1) for photo in photos]
    ids = await run(
        caller.box,
        uploads.add_photos,
        caller.box.uows,
        caller.box.photos,
        caller.actor,
        request_id,
        data,
    )
    return Json({"photos": ids}, status_code=201)


@router.post(
    "/refund-requests/{request_id}/{action}",
    summary="cancel, return-shipment, appeal",
    responses=ERRORS,
)
async def act(
    request_id: RequestRef,
    action: Literal["cancel", "return-shipment", "appeal"],
    caller: CustomerDep,
    body: PortalActionBody | None = None,
) -> Json:
    data = body or PortalActionBody()
    view = await run(
        caller.box,
        actions.perform,
        caller.box.uows,
        request_id,
        Action(action),
        caller.actor,
        actions.ActionInput(reason=data.reason, carrier=data.carrier, tracking_no=data.tracking_no),
    )
    return Json(portal.customer_view(view))


@router.get(
    "/refund-requests/{request_id}/events",
    summary="Live updates (Server-Sent Events)",
    responses=ERRORS,
)
async def events(
    request_id: RequestRef, caller: CustomerDep, request: Request
) -> EventSourceResponse:
    first = await run(caller.box, customer.own_request, caller.box.uows, caller.actor, request_id)
    return EventSourceResponse(stream(request, caller, request_id, first), ping=15)


async def stream(
    request: Request, caller: Any, request_id: str, first: dict[str, Any]
) -> AsyncIterator[dict[str, str]]:
    """The request as it changes: one ``update`` event now and after every change (the
    stream polls the stored request each second: any process may have changed it)."""
    last = orjson.dumps(first)
    yield {"event": "update", "data": last.decode()}
    while not await request.is_disconnected():
        await anyio.sleep(STREAM_POLL_SECONDS)
        try:
            view = await run(
                caller.box, customer.own_request, caller.box.uows, caller.actor, request_id
            )
        except NotFoundError:
            return
        current = orjson.dumps(view)
        if current != last:
            last = current
            yield {"event": "update", "data": current.decode()}
