"""Splitting a request's approved amount over the order's payments (split tender).

A refund takes money back from the payments that brought it in. Each payment gives at most
what it has left: captured − (succeeded + in-flight refunds of it), summed over every record
that still holds it (``RefundRecord.holds_payment``). The caller computes that under the
order's row lock, so two executions can never both spend a payment's last yuan.

The merchant chooses how the amount is spread (``AllocationRule``):
- ``order``: payments in the order of ``method_order`` (e.g. store credit first, then the
  gateways), each emptied before the next is touched;
- ``proportion``: each payment gives its share of the amount by captured value (cumulative
  rounding, so the parts add up to the cent), and whatever a full payment cannot give
  flows to the others in ``method_order``.

The route of each part is the request's route, or for ``original`` the route of the
payment's method (``ROUTE_OF_METHOD``).
"""

from __future__ import annotations

from dataclasses import dataclass

from refundflow.domain.errors import BalanceExceededError, InvalidInputError
from refundflow.domain.money import Money
from refundflow.domain.orders import Payment, PaymentMethod
from refundflow.domain.payouts import PayoutRoute
from refundflow.domain.requests import RefundRoute

M = PaymentMethod
ROUTE_OF_METHOD: dict[PaymentMethod, PayoutRoute] = {
    M.ALIPAY: PayoutRoute.ALIPAY,
    M.WECHAT_PAY: PayoutRoute.WECHAT_PAY,
    M.STRIPE: PayoutRoute.STRIPE,
    M.CARD: PayoutRoute.STRIPE,  # cards are charged through Stripe
    M.BANK_TRANSFER: PayoutRoute.BANK_TRANSFER,
    M.CASH_ON_DELIVERY: PayoutRoute.BANK_TRANSFER,  # cash cannot go back the way it came
    M.E_WALLET: PayoutRoute.E_WALLET,
    M.STORE_CREDIT: PayoutRoute.STORE_CREDIT,
}

DEFAULT_METHOD_ORDER: tuple[PaymentMethod, ...] = (
    M.STORE_CREDIT,
    M.E_WALLET,
    M.ALIPAY,
    M.WECHAT_PAY,
    M.STRIPE,
    M.CARD,
    M.BANK_TRANSFER,
    M.CASH_ON_DELIVERY,
)


@dataclass(frozen=True, slots=True)
class AllocationRule:
    mode: str = "order"  # "order" | "proportion"
    method_order: tuple[PaymentMethod, ...] = DEFAULT_METHOD_ORDER

    def __post_init__(self) -> None:
        if self.mode not in ("order", "proportion"):
            raise InvalidInputError("payout allocation must be 'order' or 'proportion'")

    @classmethod
    def parse(cls, mode: str, order: str) -> AllocationRule:
        names = [part.strip() for part in order.split(",") if part.strip()]
        try:
            methods = tuple(PaymentMethod(name) for name in names)
        except ValueError:
            raise InvalidInputError(
                f"payout method order {order!r} names an unknown payment method"
            ) from None
        rest = tuple(m for m in DEFAULT_METHOD_ORDER if m not in methods)
        return cls(mode, methods + rest)


@dataclass(frozen=True, slots=True)
class Part:
    payment: Payment
    route: PayoutRoute
    amount: Money


def route_for(request_route: RefundRoute, method: PaymentMethod) -> PayoutRoute:
    if request_route is RefundRoute.ORIGINAL:
        return ROUTE_OF_METHOD[method]
    return PayoutRoute(request_route.value)


def allocate(
    amount: Money,
    payments: list[Payment],
    used: dict[int, Money],
    request_route: RefundRoute,
    rule: AllocationRule,
) -> list[Part]:
    """The parts that make up ``amount``; refused if the payments have less left."""
    currency = amount.currency
    rank = {method: i for i, method in enumerate(rule.method_order)}
    ordered = sorted(payments, key=lambda p: (rank.get(p.method, len(rank)), p.id or 0))
    left = {p.id: p.amount - used.get(p.id or 0, Money.zero(currency)) for p in ordered}
    available = Money.zero(currency)
    for value in left.values():
        if not value.is_negative():
            available = available + value
    if amount > available:
        raise BalanceExceededError(
            f"{amount} to refund but the order's payments have only {available} left",
            details={"asked": amount.text(), "refundable": available.text()},
        )
    wanted: dict[int | None, Money] = {p.id: Money.zero(currency) for p in ordered}
    remaining = amount
    if rule.mode == "proportion" and amount:
        captured = sum((p.amount.minor for p in ordered), 0)
        given = 0
        cumulative = 0
        for payment in ordered:
            cumulative += payment.amount.minor
            share = amount.minor * cumulative // captured - given if captured else 0
            given += share
            take = min(Money.from_minor(share, currency), _floor(left[payment.id], currency))
            wanted[payment.id] = take
            remaining = remaining - take
    for payment in ordered:
        if not remaining:
            break
        room = _floor(left[payment.id] - wanted[payment.id], currency)
        take = room if room < remaining else remaining
        wanted[payment.id] = wanted[payment.id] + take
        remaining = remaining - take
    assert not remaining, "available covered the amount"
    return [
        Part(p, route_for(request_route, p.method), wanted[p.id]) for p in ordered if wanted[p.id]
    ]


def _floor(value: Money, currency: str) -> Money:
    return value if not value.is_negative() else Money.zero(currency)
