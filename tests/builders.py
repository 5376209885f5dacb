"""Small builders for domain objects in tests: defaults everywhere, override what matters."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.balances import Holds, price_request
from refundflow.domain.lifecycle import RequestType, Status
from refundflow.domain.money import Money
from refundflow.domain.orders import Customer, Order, OrderLine, Payment, PaymentMethod
from refundflow.domain.permissions import Role
from refundflow.domain.requests import IntakeChannel, RefundRequest, RefundRoute

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def cny(text: str) -> Money:
    return Money(Decimal(text), "CNY")


def staff(role: Role = Role.CS) -> Actor:
    return Actor(ActorKind.STAFF, role, f"{role.value}-1", f"{role.value} user")


def line(
    sku: str = "SKU-1",
    quantity: int = 1,
    price: str = "100.00",
    discount: str = "0",
    line_id: int = 1,
) -> OrderLine:
    return OrderLine(sku, f"item {sku}", "apparel", quantity, cny(price), cny(discount), id=line_id)


def order(*lines: OrderLine, shipping: str = "0", paid: str | None = None) -> Order:
    chosen = list(lines) or [line()]
    built = Order(
        order_no="O-1",
        channel="own_site",
        currency="CNY",
        customer=Customer("张伟", "zw@example.cn", "13800138000", id=1),
        lines=chosen,
        payments=[],
        shipping_fee=cny(shipping),
        placed_at=T0,
        id=1,
    )
    amount = cny(paid) if paid is not None else built.total
    if amount.amount > 0:
        built.payments.append(Payment(PaymentMethod.ALIPAY, amount, "ALI-1", id=1))
    return built


def request(
    status: Status = Status.PENDING_REVIEW,
    type: RequestType = RequestType.RETURN_AND_REFUND,
    *,
    the_order: Order | None = None,
    appealed: bool = False,
    goods_received: bool = False,
) -> RefundRequest:
    """A request placed directly in ``status`` (the way the repository loads one)."""
    source = the_order or order()
    pricing = price_request(
        source,
        Holds("CNY"),
        [(source.lines[0].sku, 1)],
        include_shipping=False,
        moves_money=type is not RequestType.EXCHANGE,
    )
    built = RefundRequest.submit(
        request_id=7,
        number="RF20261120-000007",
        order=source,
        pricing=pricing,
        include_shipping=False,
        type=type,
        reason="quality_issue",
        description="",
        refund_route=RefundRoute.ORIGINAL,
        intake_channel=IntakeChannel.API,
        actor=staff(),
        at=T0,
    )
    built.pull_events()
    built.status = status
    built.appealed = appealed
    built.goods_received = goods_received
    if status in (
        Status.AWAITING_RETURN,
        Status.RECEIVED,
        Status.REFUND_PENDING,
        Status.REFUNDING,
        Status.REFUND_FAILED,
        Status.REFUNDED,
        Status.EXCHANGE_PENDING,
        Status.EXCHANGED,
    ):
        built.amount_approved = built.amount_requested
    return built
