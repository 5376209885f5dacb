"""The refundable balance of an order, and the pricing of the units a request asks for.

Two limits hold whatever the concurrency (the caller holds the order's lock):
- per line: units asked ≤ units bought − units held by live requests (open or completed);
- per order: money asked ≤ money paid − money held by live requests.
A line's value is shared among its units by cumulative rounding, and the request that takes
the last unit takes exactly what is left, so refunding a basket line by line, in any split,
adds up to what was paid to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from refundflow.domain.errors import BalanceExceededError, InvalidInputError
from refundflow.domain.money import Money
from refundflow.domain.orders import Order, OrderLine


@dataclass(frozen=True, slots=True)
class LineHold:
    """Units of one order line held by live requests, and the value of those units."""

    units: int
    value: Money


@dataclass(slots=True)
class Holds:
    """What the live requests of one order hold (rejected and cancelled ones hold nothing)."""

    currency: str
    lines: dict[int, LineHold] = field(default_factory=dict)
    shipping: bool = False
    money: Money | None = None

    def line(self, line: OrderLine) -> LineHold:
        assert line.id is not None
        return self.lines.get(line.id) or LineHold(0, Money.zero(self.currency))

    @property
    def money_held(self) -> Money:
        return self.money if self.money is not None else Money.zero(self.currency)


@dataclass(frozen=True, slots=True)
class LineBalance:
    line: OrderLine
    units_refundable: int
    value_refundable: Money


@dataclass(frozen=True, slots=True)
class Balance:
    lines: list[LineBalance]
    shipping_refundable: Money
    money_refundable: Money


@dataclass(frozen=True, slots=True)
class PricedLine:
    line: OrderLine
    quantity: int
    amount: Money


@dataclass(frozen=True, slots=True)
class Pricing:
    lines: list[PricedLine]
    shipping: Money
    amount: Money


def balance(order: Order, holds: Holds) -> Balance:
    lines = []
    for line in order.lines:
        hold = holds.line(line)
        lines.append(LineBalance(line, line.quantity - hold.units, line.net - hold.value))
    shipping = Money.zero(order.currency) if holds.shipping else order.shipping_fee
    money = order.paid - holds.money_held
    return Balance(
        lines, shipping, money if not money.is_negative() else Money.zero(order.currency)
    )


def value_of_units(line: OrderLine, hold: LineHold, quantity: int) -> Money:
    """The value of ``quantity`` more units of ``line`` after the ``hold``'s units."""
    remaining = line.net - hold.value
    if hold.units + quantity == line.quantity:
        return remaining
    value = line.net.share(hold.units + quantity, line.quantity) - line.net.share(
        hold.units, line.quantity
    )
    if value > remaining:
        return remaining
    return value if not value.is_negative() else Money.zero(line.net.currency)


def price_request(
    order: Order,
    holds: Holds,
    asked: list[tuple[str, int]],
    *,
    include_shipping: bool,
    moves_money: bool,
    goodwill: Money | None = None,
) -> Pricing:
    """Price what a request asks for, or refuse it if it exceeds the refundable balance.

    ``moves_money`` is false for an exchange: its units are held, but no money goes back.
    ``goodwill`` is money given back without any goods (a late delivery, a price
    difference): it holds no units, only money.
    """
    currency = order.currency
    seen: set[str] = set()
    priced: list[PricedLine] = []
    for sku, quantity in asked:
        if sku in seen:
            raise InvalidInputError(
                f"sku {sku} is listed twice: ask for the total quantity once",
                details={"sku": sku},
            )
        seen.add(sku)
        line = order.line(sku)
        if line is None:
            raise InvalidInputError(
                f"sku {sku} is not on order {order.order_no}",
                details={"sku": sku, "order_no": order.order_no},
            )
        if quantity < 1:
            raise InvalidInputError(f"sku {sku}: quantity must be at least 1", details={"sku": sku})
        hold = holds.line(line)
        refundable = line.quantity - hold.units
        if quantity > refundable:
            raise BalanceExceededError(
                f"sku {sku}: {quantity} asked but only {refundable} of {line.quantity} "
                "units are still refundable",
                details={"sku": sku, "asked": quantity, "refundable": refundable},
            )
        priced.append(PricedLine(line, quantity, value_of_units(line, hold, quantity)))
    if goodwill is not None:
        if priced or include_shipping:
            raise InvalidInputError(
                "a goodwill amount stands alone: no lines and no shipping fee with it",
                details={"field": "amount"},
            )
        if goodwill.currency != currency or not goodwill.amount > 0:
            raise InvalidInputError(
                f"a goodwill amount is a positive amount in {currency}",
                details={"field": "amount"},
            )
    elif not priced and not include_shipping:
        raise InvalidInputError(
            "a request needs at least one line, include_shipping, or a goodwill amount",
            details={"field": "lines"},
        )
    shipping = Money.zero(currency)
    if include_shipping:
        if holds.shipping:
            raise BalanceExceededError(
                "the shipping fee is already part of another refund request",
                details={"field": "include_shipping"},
            )
        shipping = order.shipping_fee
    amount = Money.zero(currency)
    if moves_money:
        for priced_line in priced:
            amount = amount + priced_line.amount
        amount = amount + shipping
        if goodwill is not None:
            amount = goodwill
        left = order.paid - holds.money_held
        if left.is_negative():
            left = Money.zero(currency)
        if amount > left:
            raise BalanceExceededError(
                f"{amount} asked but only {left} of what was paid is still refundable",
                details={"asked": amount.text(), "refundable": left.text()},
            )
    return Pricing(priced, shipping, amount)


def price_shop_refund(
    order: Order,
    holds: Holds,
    asked: list[tuple[str, int]],
    *,
    include_shipping: bool,
    amount: Money,
) -> Pricing:
    """Price a refund the shop has already paid out, for the record.

    The units must still be refundable here (the same per-line limit as any request), and
    the money is what the shop actually refunded — it may differ from the units' value — but
    never more than was paid less what other requests hold.
    """
    currency = order.currency
    if amount.currency != currency:
        raise InvalidInputError(f"the refund must be in {currency}", details={"field": "amount"})
    if amount.is_negative():
        raise InvalidInputError("a refund amount cannot be negative", details={"field": "amount"})
    lines: list[PricedLine] = []
    shipping = Money.zero(currency)
    if asked or include_shipping:
        priced = price_request(
            order, holds, asked, include_shipping=include_shipping, moves_money=False
        )
        lines, shipping = priced.lines, priced.shipping
    left = order.paid - holds.money_held
    if left.is_negative():
        left = Money.zero(currency)
    if amount > left:
        raise BalanceExceededError(
            f"the shop refunded {amount} but only {left} of what was paid is still refundable "
            f"on order {order.order_no}",
            details={"asked": amount.text(), "refundable": left.text()},
        )
    return Pricing(lines, shipping, amount)
