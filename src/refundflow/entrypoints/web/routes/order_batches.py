"""Orders in by the batch: up to 1,000 orders in one call, each accepted or refused on its
own (per-item results; an order is never half-written)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError

from refundflow.domain.errors import InvalidInputError, PermissionDeniedError, RefundflowError
from refundflow.domain.permissions import Operation, may
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.errors import field_name
from refundflow.entrypoints.web.integration_schemas import OrderBatch, OrderBatchResult
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.routes.orders import ERRORS, to_command
from refundflow.entrypoints.web.schemas import OrderCreate
from refundflow.services import bulk_orders
from refundflow.services.orders import UpsertOrder

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])


def _item(raw: dict[str, Any]) -> UpsertOrder | RefundflowError:
    try:
        return to_command(OrderCreate.model_validate(raw))
    except ValidationError as exc:
        problems = [
            {"field": field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        first = problems[0]
        return InvalidInputError(
            f"{first['field']}: {first['message']}", details={"errors": problems}
        )


@router.post(
    "/batch",
    dependencies=[allowed(Operation.UPSERT_ORDER)],
    summary="Create or update up to 1,000 orders; per-item results",
    description="Each item has the shape of POST /api/v1/orders and succeeds or fails on its "
    "own: `status` is created, updated, unchanged or failed (with the error). The answer "
    "is 200 whenever the batch itself was readable.",
    response_model=OrderBatchResult,
    responses=ERRORS,
)
async def upsert_order_batch(body: OrderBatch, caller: CallerDep) -> Json:
    if not may(caller.actor.role, Operation.UPSERT_ORDER):
        raise PermissionDeniedError("only integration tokens push orders in")
    items = [_item(raw) for raw in body.orders]
    return Json(await run(caller.box, bulk_orders.upsert_order_batch, caller.box.uows, items))
