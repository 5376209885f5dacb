"""Orders in (from the shop or an integration) and out (with refundable balances)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query

from refundflow.domain.errors import PermissionDeniedError
from refundflow.domain.permissions import Operation, may
from refundflow.domain.privacy import masked_order
from refundflow.entrypoints.web.deps import CallerDep, allowed, run
from refundflow.entrypoints.web.responses import Json
from refundflow.entrypoints.web.schemas import ErrorPublic, OrderCreate, OrderPublic
from refundflow.services import orders as orders_service
from refundflow.services import privacy

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorPublic} for s in (401, 403, 404, 409, 422)
}

UNMASK_HELP = (
    "show the customer's phone in full (cs, manager, admin); the look is audited. "
    "Without it the phone reads 138****1234."
)


def to_command(body: OrderCreate) -> orders_service.UpsertOrder:
    return orders_service.UpsertOrder(
        order_no=body.order_no,
        channel=body.channel,
        currency=body.currency,
        customer=orders_service.CustomerInput(
            name=body.customer.name,
            email=body.customer.email,
            phone=body.customer.phone,
            tier=body.customer.tier.value,
        ),
        lines=[
            orders_service.LineInput(
                sku=line.sku,
                name=line.name,
                category=line.category,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
            )
            for line in body.lines
        ],
        payments=[
            orders_service.PaymentInput(p.method.value, p.amount, p.reference)
            for p in body.payments
        ],
        shipping_fee=body.shipping_fee,
        placed_at=body.placed_at,
        paid_at=body.paid_at,
        shipped_at=body.shipped_at,
        delivered_at=body.delivered_at,
    )


@router.post(
    "",
    dependencies=[allowed(Operation.UPSERT_ORDER)],
    summary="Create or update an order by order_no",
    response_model=OrderPublic,
    status_code=201,
    responses={200: {"model": OrderPublic, "description": "updated"}, **ERRORS},
)
async def upsert_order(body: OrderCreate, caller: CallerDep) -> Json:
    if not may(caller.actor.role, Operation.UPSERT_ORDER):
        raise PermissionDeniedError("only integration tokens push orders in")
    view, created = await run(
        caller.box, orders_service.upsert_order, caller.box.uows, to_command(body)
    )
    return Json(masked_order(view), status_code=201 if created else 200)


@router.get(
    "/{order_no}",
    summary="An order with its lines, payments and refundable balances",
    response_model=OrderPublic,
    responses=ERRORS,
)
async def get_order(
    caller: CallerDep,
    order_no: str = Path(max_length=64),
    unmask: bool = Query(False, description=UNMASK_HELP),
) -> Json:
    if not may(caller.actor.role, Operation.READ_ORDER):
        raise PermissionDeniedError(f"the {caller.actor.role.value} role cannot read orders")
    return Json(
        await run(caller.box, privacy.order, caller.box.uows, caller.actor, order_no, unmask=unmask)
    )
