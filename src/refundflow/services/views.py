"""The plain representations the API and the pages show (built in one place each)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from refundflow.domain.balances import Holds, balance
from refundflow.domain.money import Money
from refundflow.domain.orders import Order
from refundflow.domain.requests import RefundRequest, TimelineEvent
from refundflow.services.unit_of_work import UnitOfWork


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def money(amount: Money | None) -> str | None:
    return amount.text() if amount is not None else None


def order_view(order: Order, holds: Holds) -> dict[str, Any]:
    left = balance(order, holds)
    by_line = {item.line.sku: item for item in left.lines}
    customer = order.customer
    return {
        "order_no": order.order_no,
        "channel": order.channel,
        "currency": order.currency,
        "status": order.status.value,
        "placed_at": iso(order.placed_at),
        "paid_at": iso(order.paid_at),
        "shipped_at": iso(order.shipped_at),
        "delivered_at": iso(order.delivered_at),
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "tier": customer.tier.value,
        },
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "category": line.category,
                "quantity": line.quantity,
                "unit_price": line.unit_price.text(),
                "discount": line.discount.text(),
                "net": line.net.text(),
                "refundable_quantity": by_line[line.sku].units_refundable,
                "refundable_amount": by_line[line.sku].value_refundable.text(),
            }
            for line in order.lines
        ],
        "payments": [
            {"method": p.method.value, "amount": p.amount.text(), "reference": p.reference}
            for p in order.payments
        ],
        "shipping_fee": order.shipping_fee.text(),
        "goods_total": order.goods_total.text(),
        "total": order.total.text(),
        "paid": order.paid.text(),
        "refundable": {
            "amount": left.money_refundable.text(),
            "shipping": left.shipping_refundable.text(),
        },
    }


def timeline_view(event: TimelineEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "actor": event.actor.as_dict(),
        "action": event.action,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value,
        "reason": event.reason,
        "data": event.data,
    }


def request_view(request: RefundRequest, timeline: list[TimelineEvent] | None) -> dict[str, Any]:
    """The request as the API shows it; ``timeline=None`` leaves the timeline out (lists)."""
    view = {
        "id": request.id,
        "number": request.number,
        "order_no": request.order_no,
        "customer_id": request.customer_id,
        "type": request.type.value,
        "reason": request.reason,
        "description": request.description,
        "status": request.status.value,
        "allowed_actions": [action.value for action in request.allowed_actions()],
        "currency": request.currency,
        "amount_requested": request.amount_requested.text(),
        "amount_approved": money(request.amount_approved),
        "amount_refunded": money(request.amount_refunded),
        "include_shipping": request.include_shipping,
        "shipping_amount": request.shipping_amount.text(),
        "refund_route": request.refund_route.value,
        "intake_channel": request.intake_channel.value,
        "requires_return": request.requires_return,
        "appealed": request.appealed,
        "language": request.language,
        "priority": request.priority,
        "fast_track": request.fast_track,
        "channel": request.channel,
        "customer_tier": request.customer_tier,
        "finance_approval": (
            {"required": True, "approved_by": request.finance_approved_by}
            if request.finance_approval_required
            else None
        ),
        "root_cause": request.root_cause,
        "exchange": (
            {
                "sku": request.exchange_sku,
                "name": request.exchange_name,
                "price": money(request.exchange_price),
                "difference": money(request.exchange_difference),
                "amount_payable": money(request.amount_payable),
            }
            if request.exchange_sku
            else None
        ),
        "parent_id": request.parent_id,
        "decision": request.decision.as_dict(request.language) if request.decision else None,
        "return_shipment": (
            {"carrier": request.return_carrier, "tracking_no": request.return_tracking_no}
            if request.return_tracking_no
            else None
        ),
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "amount": line.amount.text(),
                "grade": line.grade,
            }
            for line in request.lines
        ],
        "created_at": request.created_at.isoformat(),
        "updated_at": request.updated_at.isoformat(),
    }
    if timeline is not None:
        view["timeline"] = [timeline_view(event) for event in timeline]
    return view


def store_request(uow: UnitOfWork, request: RefundRequest, *, new: bool = False) -> dict[str, Any]:
    """Write the request, its new timeline events and domain events, bring its work item in
    line with its status (owner, deadline, timers) and store its refreshed document — all in
    the current transaction — and return the document. This is the only way services write
    a request, so the document reads serve never lags the request."""
    from refundflow.services import audit
    from refundflow.services.workflow import sync_work

    changes = list(request.new_timeline)  # saving drains them from the request
    timeline = ([] if new else uow.requests.timeline(request.id)) + changes
    if new:
        uow.requests.add(request)
    else:
        uow.requests.save(request)
    for event in changes:  # every state change is in the audit chain too
        audit.record(
            uow,
            event.actor,
            f"request.{event.action}",
            f"request:{request.id}",
            {
                "from": event.from_status.value if event.from_status else None,
                "to": event.to_status.value,
                "requested": request.amount_requested.text(),
                "approved": money(request.amount_approved),
                "refunded": money(request.amount_refunded),
            },
        )
    item = sync_work(uow, request, new=new)
    view = request_view(request, timeline)
    # The refund records: part of the document, so reads stay one lookup.
    view["refunds"] = [] if new else [r.as_view() for r in uow.refunds.for_request(request.id)]
    view["next_step"] = (
        {
            "queue": item.queue,
            "step": item.step,
            "due_at": iso(item.due_at),
            "owner": item.owner,
            "work_item_id": item.id,
        }
        if item is not None
        else None
    )
    uow.requests.put_document(request.id, view, new=new)
    return view
