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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from math import ceil
from typing import NamedTuple

DAY = timedelta(days=1)
WINDOW_90 = timedelta(days=90)
WINDOW_30 = timedelta(days=30)
ZERO = Decimal(0)
RATE_ZERO = Decimal("0.0000")
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

    def facts_at(
        self,
        at: datetime,
        tier: str,
        quota: Mapping[str, Decimal],
        *,
        orders: int | None = None,
    ) -> dict[str, object]:
        """The history facts as of ``at``; ``orders`` (placed by then) may be given by a
        caller that counted them already, instead of ``orders_placed``."""
        if orders is None:
            orders = bisect_right(self.orders_placed, at)
        if not self.requests:  # a customer's first request: nothing to count
            full = quota.get(tier, ZERO)
            return {
                "customer_refunds_90d": 0,
                "customer_refund_amount_90d": ZERO,
                "customer_refund_rate": RATE_ZERO,
                "customer_orders": orders,
                "first_order": orders == 1,
                "complaint_open": self.complaint_open,
                "trust_quota_left": full if full > ZERO else ZERO,
            }
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
        left = quota.get(tier, ZERO) - approved_30
        return {
            "customer_refunds_90d": count_90,
            "customer_refund_amount_90d": refunded_90,
            "customer_refund_rate": (
                Decimal(len(refunded_orders)) / Decimal(orders) if orders else ZERO
            ).quantize(RATE_ZERO),
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
# Own facts that take a computation (the others are the request's and order's values).
TIMED_FACTS = frozenset({"order_status", "days_since_delivery", "days_since_payment"})


@dataclass(frozen=True, slots=True)
class FactPlan:
    """Which computed facts a policy reads (the order's timeline, the customer's history),
    so that a simulation works out no more than it needs."""

    timed: frozenset[str] = TIMED_FACTS
    history: bool = True

    @classmethod
    def of(cls, names: Iterable[str]) -> FactPlan:
        wanted = set(names)
        return cls(frozenset(wanted & TIMED_FACTS), bool(wanted & HISTORY_FACTS))


EVERY_FACT = FactPlan()


def facts_for(
    request: RequestSide,
    order: OrderSide,
    tier: str,
    history: CustomerHistory,
    at: datetime,
    quota: Mapping[str, Decimal],
    *,
    plan: FactPlan = EVERY_FACT,
    orders: int | None = None,
) -> dict[str, object]:
    """The facts a rule may test (policy/facts.py) for a request made at ``at``; a ``plan``
    leaves out the timed and history facts a policy does not read; ``orders`` is the number
    of orders the customer had placed by ``at`` when the caller already knows it."""
    facts: dict[str, object] = {
        "amount": request.amount,
        "order_total": order.total,
        "currency": request.currency,
        "type": request.type,
        "reason": request.reason,
        "category": request.categories,
        "sku": request.skus,
        "channel": order.channel,
        "intake_channel": request.intake_channel,
        "payment_method": order.payment_methods,
        "customer_tier": tier,
    }
    timed = plan.timed
    if timed:
        if "order_status" in timed:
            facts["order_status"] = order_status_at(order, at)
        if "days_since_delivery" in timed:
            facts["days_since_delivery"] = days_since(order.delivered_at, at)
        if "days_since_payment" in timed:
            facts["days_since_payment"] = days_since(order.paid_at, at)
    if plan.history:
        facts.update(history.facts_at(at, tier, quota, orders=orders))
    return facts
