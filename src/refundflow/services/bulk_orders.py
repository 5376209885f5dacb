"""Orders in bulk (file imports, API batches): many checked orders in one transaction.

Same rules as one order at a time (``services.orders.store_order``): an order is stored
whole or not at all, customers are matched by phone then e-mail, an order that exists is
updated under the same checks (its lines with refund requests cannot change), and one that
would not change is left alone — so re-sending the same orders writes nothing. The path is
set-wise: existing orders and customers are looked up in batches and new orders, lines and
payments are written with one executemany per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from refundflow.domain.errors import InvalidInputError, RefundflowError
from refundflow.domain.orders import Customer, Order
from refundflow.services.orders import (
    CREATED,
    UNCHANGED,
    UPDATED,
    UpsertOrder,
    build_order,
    store_order,
)
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Stored:
    """What happened to one order: created, updated, unchanged, or failed with ``error``."""

    order_no: str
    status: str
    error: RefundflowError | None = None


def _differs(stored: Customer, new: Customer) -> bool:
    return (
        stored.name != new.name
        or stored.tier != new.tier
        or (new.email is not None and new.email != stored.email)
        or (new.phone is not None and new.phone != stored.phone)
    )


def _match_customers(uow: UnitOfWork, new: list[Order]) -> list[Customer]:
    """Give each new order's customer the id of the customer it matches (phone first, then
    e-mail), let orders of one new customer share one object, and return the stored
    customers whose details these orders change (the latest order's details win)."""
    phones = sorted({o.customer.phone for o in new if o.customer.phone})
    emails = sorted({o.customer.email for o in new if o.customer.email})
    by_phone, by_email = uow.bulk_orders.customers_by_contact(phones, emails)
    fresh_by_phone: dict[str, Customer] = {}
    fresh_by_email: dict[str, Customer] = {}
    matched: dict[int, Customer] = {}
    for order in new:
        customer = order.customer
        phone, email = customer.phone, customer.email
        customer_id = (by_phone.get(phone) if phone else None) or (
            by_email.get(email) if email else None
        )
        if customer_id is not None:
            customer.id = customer_id
            matched[customer_id] = customer
            continue
        shared = (fresh_by_phone.get(phone) if phone else None) or (
            fresh_by_email.get(email) if email else None
        )
        if shared is not None:
            shared.name, shared.tier = customer.name, customer.tier
            shared.email = email or shared.email
            shared.phone = phone or shared.phone
            order.customer = customer = shared
        if customer.phone:
            fresh_by_phone.setdefault(customer.phone, customer)
        if customer.email:
            fresh_by_email.setdefault(customer.email, customer)
    stored = uow.bulk_orders.customers(sorted(matched))
    return [c for cid, c in matched.items() if _differs(stored[cid], c)]


def store_orders(
    uows: UnitOfWorkFactory, orders: Sequence[Order], *, dry_run: bool = False
) -> list[Stored]:
    """Store checked orders with distinct numbers in one transaction (rolled back when
    ``dry_run``); one result per order, in order."""
    if not orders:
        return []
    results: dict[int, Stored] = {}
    with uows() as uow:
        now = uow.now()
        existing = uow.bulk_orders.existing([o.order_no for o in orders])
        new = [o for o in orders if o.order_no not in existing]
        for i, order in enumerate(orders):
            if order.order_no not in existing:
                continue
            try:
                results[i] = Stored(order.order_no, store_order(uow, order))
            except RefundflowError as error:  # refused before anything of it was written
                results[i] = Stored(order.order_no, FAILED, error)
        for order in new:
            order.created_at = order.updated_at = now
        changed = _match_customers(uow, new)
        uow.bulk_orders.update_customers(changed, now)
        uow.bulk_orders.add_many(new)
        if not dry_run:
            uow.commit()
    return [results.get(i) or Stored(o.order_no, CREATED) for i, o in enumerate(orders)]


def _failure(index: int, order_no: str | None, error: RefundflowError) -> dict[str, Any]:
    return {
        "index": index,
        "order_no": order_no,
        "status": FAILED,
        "error": {"code": error.code, "message": error.message, "details": error.details},
    }


def upsert_order_batch(
    uows: UnitOfWorkFactory, items: Sequence[UpsertOrder | RefundflowError]
) -> dict[str, Any]:
    """Create or update up to 1,000 orders; each item succeeds or fails on its own (an
    item that arrives as an error failed its shape check). One transaction for the lot."""
    results: list[dict[str, Any] | None] = [None] * len(items)
    orders: list[Order] = []
    positions: list[int] = []
    first_at: dict[str, int] = {}
    for i, item in enumerate(items):
        if isinstance(item, RefundflowError):
            results[i] = _failure(i, None, item)
            continue
        try:
            order = build_order(item)
        except RefundflowError as error:
            results[i] = _failure(i, item.order_no, error)
            continue
        if order.order_no in first_at:
            results[i] = _failure(
                i,
                order.order_no,
                InvalidInputError(
                    f"order {order.order_no} is already item {first_at[order.order_no]} of "
                    "this batch; send it once",
                    details={"order_no": order.order_no},
                ),
            )
            continue
        first_at[order.order_no] = i
        orders.append(order)
        positions.append(i)
    for i, stored in zip(positions, store_orders(uows, orders), strict=True):
        if stored.error is not None:
            results[i] = _failure(i, stored.order_no, stored.error)
        else:
            results[i] = {"index": i, "order_no": stored.order_no, "status": stored.status}
    done = [r for r in results if r is not None]
    counts = {
        s: sum(1 for r in done if r["status"] == s) for s in (CREATED, UPDATED, UNCHANGED, FAILED)
    }
    return {**counts, "results": done}
