"""Webhook subscriptions (managers): subscribe an ERP or inventory system to signed events,
rotate its secret, read the delivery log, replay a delivery."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.permissions import Operation
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.integration_schemas import (
    DeliveryDetail,
    DeliveryPage,
    SecretRotation,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionUpdate,
)
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic
from refundflow.services import webhooks

router = APIRouter(tags=["webhooks"])
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorPublic} for s in (401, 403, 404, 422)}
Id = Annotated[int, Path(ge=1, le=2**62)]


@router.post(
    "/api/v1/webhook-subscriptions",
    dependencies=[allowed(Operation.MANAGE_WEBHOOKS)],
    summary="Subscribe a URL to events (the answer shows the secret, once)",
    status_code=201,
    response_model=SubscriptionPublic,
    responses=ERRORS,
)
async def create_subscription(body: SubscriptionCreate, caller: CallerDep) -> Json:
    data = webhooks.SubscriptionInput(
        url=body.url, events=body.events, description=body.description, secret=body.secret
    )
    view = await run(caller.box, webhooks.create_subscription, caller.box.uows, caller.actor, data)
    return Json(view, status_code=201)


@router.get(
    "/api/v1/webhook-subscriptions",
    summary="Every subscription",
    response_model=list[SubscriptionPublic],
    responses=ERRORS,
)
async def list_subscriptions(caller: CallerDep) -> Json:
    return Json(await run(caller.box, webhooks.list_subscriptions, caller.box.uows, caller.actor))


@router.get(
    "/api/v1/webhook-subscriptions/{subscription_id}",
    summary="One subscription",
    response_model=SubscriptionPublic,
    responses=ERRORS,
)
async def get_subscription(subscription_id: Id, caller: CallerDep) -> Json:
    return Json(
        await run(
            caller.box, webhooks.get_subscription, caller.box.uows, caller.actor, subscription_id
        )
    )


@router.patch(
    "/api/v1/webhook-subscriptions/{subscription_id}",
    dependencies=[allowed(Operation.MANAGE_WEBHOOKS)],
    summary="Change the URL, the events, the description, or pause it (active: false)",
    response_model=SubscriptionPublic,
    responses=ERRORS,
)
async def update_subscription(
    subscription_id: Id, body: SubscriptionUpdate, caller: CallerDep
) -> Json:
    data = webhooks.SubscriptionInput(
        url=body.url, events=body.events, description=body.description, active=body.active
    )
    return Json(
        await run(
            caller.box,
            webhooks.update_subscription,
            caller.box.uows,
            caller.actor,
            subscription_id,
            data,
        )
    )


@router.post(
    "/api/v1/webhook-subscriptions/{subscription_id}/rotate-secret",
    dependencies=[allowed(Operation.MANAGE_WEBHOOKS)],
    summary="A new secret; the old one keeps signing for overlap_hours",
    response_model=SubscriptionPublic,
    responses=ERRORS,
)
async def rotate_secret(
    subscription_id: Id, caller: CallerDep, body: SecretRotation | None = None
) -> Json:
    data = body or SecretRotation()
    return Json(
        await run(
            caller.box,
            webhooks.rotate_secret,
            caller.box.uows,
            caller.actor,
            subscription_id,
            secret=data.secret,
            overlap_hours=data.overlap_hours,
        )
    )


@router.get(
    "/api/v1/webhook-subscriptions/{subscription_id}/deliveries",
    summary="The delivery log, newest first: status, attempts, latency, response excerpt",
    response_model=DeliveryPage,
    responses=ERRORS,
)
async def list_deliveries(
    subscription_id: Id,
    caller: CallerDep,
    status: Annotated[str | None, Query(description="pending, delivered or failed")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> Json:
    if cursor is not None and not cursor.isdigit():
        raise InvalidInputError("cursor must be a next_cursor value from an earlier page")
    items, next_id = await run(
        caller.box,
        webhooks.list_deliveries,
        caller.box.uows,
        caller.actor,
        subscription_id,
        status=status,
        before_id=int(cursor) if cursor else None,
        limit=limit,
    )
    return Json({"items": items, "next_cursor": str(next_id) if next_id else None})


@router.get(
    "/api/v1/webhook-deliveries/{delivery_id}",
    summary="One delivery with its body and every attempt",
    response_model=DeliveryDetail,
    responses=ERRORS,
)
async def get_delivery(delivery_id: Id, caller: CallerDep) -> Json:
    return Json(
        await run(caller.box, webhooks.get_delivery, caller.box.uows, caller.actor, delivery_id)
    )


@router.post(
    "/api/v1/webhook-deliveries/{delivery_id}/replay",
    summary="Send a delivery again (same event id and body), retried for another 24 hours",
    status_code=202,
    response_model=DeliveryDetail,
    responses=ERRORS,
)
async def replay_delivery(delivery_id: Id, caller: CallerDep) -> Json:
    view = await run(
        caller.box, webhooks.replay_delivery, caller.box.uows, caller.actor, delivery_id
    )
    return Json(view, status_code=202)
