"""Orders in: create or update an order by its number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from refundflow.domain.errors import ConflictError, NotFoundError
from refundflow.domain.money import check_currency
from refundflow.domain.orders import Customer, Order, OrderLine, Payment, PaymentMethod, Tier
from refundflow.services.parsing import parse_enum, parse_money, parse_text, parse_time
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from refundflow.services.views import order_view


@dataclass(frozen=True, slots=True)
class CustomerInput:
    name: str
    email: str | None = None
    phone: str | None = None
    tier: str = "standard"


@dataclass(frozen=True, slots=True)
class LineInput:
    sku: str
    name: str
    quantity: int
    unit_price: str
    category: str = "general"
    discount: str = "0"


@dataclass(frozen=True, slots=True)
class PaymentInput:
    method: str
    amount: str
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class UpsertOrder:
    order_no: str
    channel: str
    currency: str
    customer: CustomerInput
    lines: list[LineInput]
    placed_at: datetime
    payments: list[PaymentInput] = field(default_factory=list)
    shipping_fee: str = "0"
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


def build_order(cmd: UpsertOrder) -> Order:
    """The domain order an upsert describes; every field is checked and named on error."""
    currency = check_currency(cmd.currency)
    customer = Customer(
        name=parse_text(cmd.customer.name, "customer.name", limit=100),
        email=parse_text(cmd.customer.email, "customer.email", limit=254, required=False) or None,
        phone=parse_text(cmd.customer.phone, "customer.phone", limit=32, required=False) or None,
        tier=parse_enum(Tier, cmd.customer.tier, "customer.tier"),
    )
    lines = [
        OrderLine(
            sku=parse_text(line.sku, f"lines[{i}].sku", limit=64),
            name=parse_text(line.name, f"lines[{i}].name", limit=200),
            category=parse_text(line.category, f"lines[{i}].category", limit=64),
            quantity=line.quantity,
            unit_price=parse_money(line.unit_price, currency, f"lines[{i}].unit_price"),
            discount=parse_money(line.discount, currency, f"lines[{i}].discount"),
        )
        for i, line in enumerate(cmd.lines)
    ]
    payments = [
        Payment(
            method=parse_enum(PaymentMethod, payment.method, f"payments[{i}].method"),
            amount=parse_money(payment.amount, currency, f"payments[{i}].amount"),
            reference=parse_text(
                payment.reference, f"payments[{i}].reference", limit=128, required=False
            )
            or None,
        )
        for i, payment in enumerate(cmd.payments)
    ]
    placed_at = parse_time(cmd.placed_at, "placed_at")
    assert placed_at is not None
    order = Order(
        order_no=parse_text(cmd.order_no, "order_no", limit=64),
        channel=cmd.channel,
        currency=currency,
        customer=customer,
        lines=lines,
        payments=payments,
        shipping_fee=parse_money(cmd.shipping_fee, currency, "shipping_fee"),
        placed_at=placed_at,
        paid_at=parse_time(cmd.paid_at, "paid_at"),
        shipped_at=parse_time(cmd.shipped_at, "shipped_at"),
        delivered_at=parse_time(cmd.delivered_at, "delivered_at"),
    )
    order.check()
    return order


def _carry_over(existing: Order, order: Order, uow: UnitOfWork) -> None:
    """Give ``order`` the ids of ``existing`` and refuse changes that would let refunds
    exceed what was bought or paid."""
    if order.currency != existing.currency:
        raise ConflictError(
            f"order {existing.order_no} is in {existing.currency}; its currency cannot change",
            details={"field": "currency"},
        )
    holds = uow.orders.holds(existing)
    for old in existing.lines:
        new = order.line(old.sku)
        hold = holds.line(old)
        if new is None:
            if hold.units:
                raise ConflictError(
                    f"line {old.sku} has refund requests and cannot be removed",
                    details={"sku": old.sku},
                )
            continue
        new.id = old.id
        if hold.units and (
            new.quantity != old.quantity
            or new.unit_price != old.unit_price
            or new.discount != old.discount
        ):
            raise ConflictError(
                f"line {old.sku} has refund requests: its quantity and prices cannot change",
                details={"sku": old.sku},
            )
    if order.paid < holds.money_held:
        raise ConflictError(
            f"refund requests already hold {holds.money_held}; payments cannot drop below it",
            details={"field": "payments"},
        )
    old_payments = {(p.method, p.reference): p for p in existing.payments}
    for payment in order.payments:
        match = old_payments.get((payment.method, payment.reference))
        if match is not None:
            payment.id = match.id
    # A payment that refunds were taken from keeps at least what they took (issue 5).
    kept = {p.id: p for p in order.payments if p.id is not None}
    for payment_id, used in uow.refunds.used_by_payment(existing.id or 0).items():
        if payment_id not in kept or kept[payment_id].amount < used:
            raise ConflictError(
                f"refunds already take {used} from payment {payment_id}: it cannot be removed "
                "or lowered below that",
                details={"field": "payments"},
            )
    order.id = existing.id
    order.customer.id = existing.customer.id
    order.created_at = existing.created_at


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def store_order(uow: UnitOfWork, order: Order) -> str:
    """Store a checked order by its number in the current transaction: add it, update the
    stored one, or leave it alone when nothing would change. Returns which it was."""
    existing = uow.orders.get(order.order_no, lock=True)
    now = uow.now()
    order.updated_at = now
    if existing is None:
        order.customer.id = uow.orders.find_customer(order.customer.email, order.customer.phone)
        order.created_at = now
        uow.orders.add(order)
        return CREATED
    _carry_over(existing, order, uow)
    if order.same_as(existing):
        order.updated_at = existing.updated_at
        return UNCHANGED
    uow.orders.update(order)
    return UPDATED


def upsert_order(uows: UnitOfWorkFactory, cmd: UpsertOrder) -> tuple[dict[str, Any], bool]:
    """Create the order, or update the one with the same ``order_no``.

    Returns the order's view and whether it was created.
    """
    order = build_order(cmd)
    with uows() as uow:
        outcome = store_order(uow, order)
        view = order_view(order, uow.orders.holds(order))
        uow.commit()
    return view, outcome == CREATED


def get_order(uows: UnitOfWorkFactory, order_no: str) -> dict[str, Any]:
    with uows(write=False) as uow:
        order = uow.orders.get(order_no)
        if order is None:
            raise NotFoundError(f"no order {order_no}", details={"order_no": order_no})
        return order_view(order, uow.orders.holds(order))
