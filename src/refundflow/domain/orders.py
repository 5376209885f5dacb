"""Customers, orders, their lines and payments: what was bought and what was paid."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.money import Money, total


class Tier(StrEnum):
    STANDARD = "standard"
    SILVER = "silver"
    GOLD = "gold"
    VIP = "vip"


class PaymentMethod(StrEnum):
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    STRIPE = "stripe"
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    E_WALLET = "e_wallet"
    STORE_CREDIT = "store_credit"
    CASH_ON_DELIVERY = "cash_on_delivery"


class OrderStatus(StrEnum):
    """Where the goods are, as the policy sees it."""

    UNSHIPPED = "unshipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


CHANNEL_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def check_channel(channel: str) -> str:
    if not CHANNEL_PATTERN.match(channel):
        raise InvalidInputError(
            f"channel {channel!r} must be a lowercase name such as 'own_site', 'tmall', 'jd'",
            details={"field": "channel"},
        )
    return channel


@dataclass(slots=True)
class Customer:
    name: str
    email: str | None = None
    phone: str | None = None
    tier: Tier = Tier.STANDARD
    id: int | None = None


@dataclass(slots=True)
class OrderLine:
    """``quantity`` units of ``sku`` at ``unit_price``, less ``discount`` for the whole line."""

    sku: str
    name: str
    category: str
    quantity: int
    unit_price: Money
    discount: Money
    id: int | None = None

    def check(self) -> None:
        if self.quantity < 1:
            raise InvalidInputError(
                f"line {self.sku}: quantity must be at least 1", details={"sku": self.sku}
            )
        if self.unit_price.is_negative() or self.discount.is_negative():
            raise InvalidInputError(
                f"line {self.sku}: prices and discounts cannot be negative",
                details={"sku": self.sku},
            )
        if self.discount > self.unit_price.times(self.quantity):
            raise InvalidInputError(
                f"line {self.sku}: the discount exceeds the line's price", details={"sku": self.sku}
            )

    @property
    def net(self) -> Money:
        """What the customer paid for the whole line."""
        return self.unit_price.times(self.quantity) - self.discount


@dataclass(slots=True)
class Payment:
    method: PaymentMethod
    amount: Money
    reference: str | None = None
    id: int | None = None

    def check(self) -> None:
        if not self.amount.amount > 0:
            raise InvalidInputError("a payment amount must be greater than zero")


@dataclass(slots=True)
class Order:
    order_no: str
    channel: str
    currency: str
    customer: Customer
    lines: list[OrderLine]
    payments: list[Payment]
    shipping_fee: Money
    placed_at: datetime
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    _by_sku: dict[str, OrderLine] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_sku = {line.sku: line for line in self.lines}

    def check(self) -> None:
        """Refuse an order that breaks a rule of form. Called where an order is built from
        input; orders loaded from the database were checked when they were stored."""
        check_channel(self.channel)
        if not self.lines:
            raise InvalidInputError("an order needs at least one line", details={"field": "lines"})
        if len(self._by_sku) != len(self.lines):
            counts = Counter(line.sku for line in self.lines)
            duplicate = next(sku for sku, count in counts.items() if count > 1)
            raise InvalidInputError(
                f"sku {duplicate} appears twice: merge them into one line with the total",
                details={"sku": duplicate},
            )
        for line in self.lines:
            line.check()
        for payment in self.payments:
            payment.check()
        amounts = [self.shipping_fee, *(payment.amount for payment in self.payments)]
        for line in self.lines:  # a line's net is in its prices' currency
            amounts += (line.unit_price, line.discount)
        for amount in amounts:
            if amount.currency != self.currency:
                raise InvalidInputError(
                    f"every amount must be in the order's currency {self.currency}",
                    details={"field": "currency"},
                )
        if self.shipping_fee.is_negative():
            raise InvalidInputError("shipping_fee cannot be negative")

    def same_as(self, stored: Order) -> bool:
        """Whether storing this order over ``stored`` would change nothing (a re-sent order,
        a re-run import). A customer e-mail or phone left out keeps the stored one."""
        mine, theirs = self.customer, stored.customer
        return (
            self.channel == stored.channel
            and self.currency == stored.currency
            and self.shipping_fee == stored.shipping_fee
            and self.placed_at == stored.placed_at
            and self.paid_at == stored.paid_at
            and self.shipped_at == stored.shipped_at
            and self.delivered_at == stored.delivered_at
            and mine.name == theirs.name
            and mine.tier == theirs.tier
            and (mine.email is None or mine.email == theirs.email)
            and (mine.phone is None or mine.phone == theirs.phone)
            and _lines_key(self.lines) == _lines_key(stored.lines)
            and _payments_key(self.payments) == _payments_key(stored.payments)
        )

    def line(self, sku: str) -> OrderLine | None:
        return self._by_sku.get(sku)

    @property
    def goods_total(self) -> Money:
        return total([line.net for line in self.lines], self.currency)

    @property
    def total(self) -> Money:
        return self.goods_total + self.shipping_fee

    @property
    def paid(self) -> Money:
        return total([payment.amount for payment in self.payments], self.currency)

    @property
    def status(self) -> OrderStatus:
        if self.delivered_at is not None:
            return OrderStatus.DELIVERED
        if self.shipped_at is not None:
            return OrderStatus.SHIPPED
        return OrderStatus.UNSHIPPED


def _lines_key(lines: list[OrderLine]) -> list[tuple[object, ...]]:
    return sorted(
        (line.sku, line.name, line.category, line.quantity, line.unit_price, line.discount)
        for line in lines
    )


def _payments_key(payments: list[Payment]) -> list[tuple[object, ...]]:
    return sorted(
        ((p.method.value, p.amount.minor, p.reference or "") for p in payments),
    )
