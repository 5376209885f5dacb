"""Facts: computed by one function from the request, its order, the customer and the
customer's history, the same way for a live decision and for a simulation.

History facts are taken *as of* the request's time ``at``: only orders placed and requests
made before it count, and refunds and approvals count from the moment they happened. For
a live decision ``at`` is now; a simulation feeds each customer's requests in time order
and asks before adding each one, so it sees exactly what a live decision would have seen
(except that a request cancelled later is treated as cancelled throughout).

- ``customer_refunds_90d``: the customer's other requests made in the 90 days before
  ``at``, cancelled ones excluded;
- ``customer_refund_amount_90d``: money refunded to the customer in those 90 days;
- ``customer_refund_rate``: orders with a refund ÷ orders placed (0 without orders);
- ``customer_orders``: orders placed; ``first_order``: exactly one;
- ``trust_quota_left``: the tier's rolling 30-day quota less what the policy approved in
  the last 30 days (cancelled and rejected requests give it back), never below 0.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from math import ceil
from typing import NamedTuple

DAY = timedelta(days=1)
WINDOW_90 = timedelta(days=90)
WINDOW_30 = timedelta(days=30)
ZERO = Decimal(0)
RELEASED = ("cancelled", "rejected")


class PastRequest(NamedTuple):
    """An earlier request of the customer (a tuple: a simulation makes millions)."""

    created_at: datetime
    status: str
    order_id: int
    approved_at: datetime | None = None
    approved_by_policy: bool = False
    amount_approved: Decimal = ZERO
    refunded_at: datetime | None = None
    amount_refunded: Decimal = ZERO


@dataclass(slots=True)
class CustomerHistory:
    """What one customer did before: order times (kept sorted) and earlier requests."""

    orders_placed: list[datetime] = field(default_factory=list)
    requests: list[PastRequest] = field(default_factory=list)
    complaint_open: bool = False

    @classmethod
    def of(
        cls,
        orders_placed: Iterable[datetime],
        requests: Iterable[PastRequest],
        *,
        complaint_open: bool = False,
    ) -> CustomerHistory:
        return cls(sorted(orders_placed), list(requests), complaint_open)

    def facts_at(self, at: datetime, tier: str, quota: Mapping[str, Decimal]) -> dict[str, object]:
        since_90 = at - WINDOW_90
        since_30 = at - WINDOW_30
        count_90 = 0
        refunded_90 = ZERO
        approved_30 = ZERO
        refunded_orders: set[int] = set()
        for past in self.requests:
            if past.created_at > at:  # made after (a simulation never holds such a request)
                continue
            live = past.status not in RELEASED
            if live and past.created_at > since_90:
                count_90 += 1
            refunded_at = past.refunded_at
            if refunded_at is not None and refunded_at <= at:
                refunded_orders.add(past.order_id)
                if refunded_at > since_90:
                    refunded_90 += past.amount_refunded
            approved_at = past.approved_at
            if (
                live
                and past.approved_by_policy
                and approved_at is not None
                and since_30 < approved_at <= at
            ):
                approved_30 += past.amount_approved
        orders = bisect_right(self.orders_placed, at)
        left = quota.get(tier, ZERO) - approved_30
        return {
            "customer_refunds_90d": count_90,
            "customer_refund_amount_90d": refunded_90,
            "customer_refund_rate": (
                Decimal(len(refunded_orders)) / Decimal(orders) if orders else ZERO
            ).quantize(Decimal("0.0001")),
            "customer_orders": orders,
            "first_order": orders == 1,
            "complaint_open": self.complaint_open,
            "trust_quota_left": left if left > ZERO else ZERO,
        }


@dataclass(slots=True)
class RequestSide:
    """The request's own facts, as plain values."""

    amount: Decimal
    currency: str
    type: str
    reason: str
    categories: frozenset[str]
    skus: frozenset[str]
    intake_channel: str


@dataclass(slots=True)
class OrderSide:
    total: Decimal
    channel: str
    payment_methods: frozenset[str]
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None


def days_since(then: datetime | None, at: datetime) -> int | None:
    """The day of ``at`` counted from ``then``: the first 24 hours are day 1, so
    "within 7 days" is ``<= 7``; unknown (None) before ``then`` happened."""
    if then is None or then > at:
        return None
    return max(0, ceil((at - then) / DAY))


def order_status_at(order: OrderSide, at: datetime) -> str:
    if order.delivered_at is not None and order.delivered_at <= at:
        return "delivered"
    if order.shipped_at is not None and order.shipped_at <= at:
        return "shipped"
    return "unshipped"


HISTORY_FACTS = frozenset(
    {
        "customer_refunds_90d",
        "customer_refund_amount_90d",
        "customer_refund_rate",
        "customer_orders",
        "first_order",
        "complaint_open",
        "trust_quota_left",
    }
)

Side = Callable[[RequestSide, OrderSide, str, datetime], object]
_OWN: dict[str, Side] = {
    "amount": lambda r, o, tier, at: r.amount,
    "order_total": lambda r, o, tier, at: o.total,
    "currency": lambda r, o, tier, at: r.currency,
    "type": lambda r, o, tier, at: r.type,
    "reason": lambda r, o, tier, at: r.reason,
    "category": lambda r, o, tier, at: r.categories,
    "sku": lambda r, o, tier, at: r.skus,
    "channel": lambda r, o, tier, at: o.channel,
    "intake_channel": lambda r, o, tier, at: r.intake_channel,
    "payment_method": lambda r, o, tier, at: o.payment_methods,
    "order_status": lambda r, o, tier, at: order_status_at(o, at),
    "days_since_delivery": lambda r, o, tier, at: days_since(o.delivered_at, at),
    "days_since_payment": lambda r, o, tier, at: days_since(o.paid_at, at),
    "customer_tier": lambda r, o, tier, at: tier,
}
ALL_FACTS: tuple[str, ...] = (*_OWN, *sorted(HISTORY_FACTS))


@dataclass(frozen=True, slots=True)
class FactPlan:
    """Which facts to compute: the request's own (each by its function) and whether the
    customer's history is needed at all."""

    own: tuple[tuple[str, Side], ...]
    history: tuple[str, ...]

    @classmethod
    def of(cls, names: Iterable[str]) -> FactPlan:
        wanted = tuple(dict.fromkeys(names))
        return cls(
            tuple((name, _OWN[name]) for name in wanted if name not in HISTORY_FACTS),
            tuple(name for name in wanted if name in HISTORY_FACTS),
        )

    def needs(self, *names: str) -> bool:
        return any(name == own for own, _ in self.own for name in names) or any(
            name in self.history for name in names
        )


EVERY_FACT = FactPlan.of(ALL_FACTS)


def facts_for(
    request: RequestSide,
    order: OrderSide,
    tier: str,
    history: CustomerHistory,
    at: datetime,
    quota: Mapping[str, Decimal],
    *,
    plan: FactPlan = EVERY_FACT,
) -> dict[str, object]:
    """The facts a rule may test (policy/facts.py) for a request made at ``at``; a ``plan``
    limits them to those a policy reads (a simulation computes no more than it needs)."""
    facts = {name: compute(request, order, tier, at) for name, compute in plan.own}
    if plan.history:
        past = history.facts_at(at, tier, quota)
        for name in plan.history:
            facts[name] = past[name]
    return facts
