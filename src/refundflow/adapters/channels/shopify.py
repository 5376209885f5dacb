"""Shopify's order and refund webhooks (REST resource payloads) mapped to our orders.

Field choices, from Shopify's webhook reference:
- the order is ``SHOPIFY-<id>`` (the immutable id; ``name``/``order_number`` are display
  numbers a shop can restyle); ``processed_at`` is when it was placed;
- amounts are the ``*_set.shop_money`` strings (the shop's currency), never the JSON
  numbers some refund fields carry;
- a line's discount is the sum of its ``discount_allocations`` (Shopify's own allocation of
  line and order discounts; ``total_discount`` is deprecated). An order-level discount that
  Shopify did not allocate is not invented here;
- shipping is what the shipping lines cost after their discounts;
- the payment is what was captured: ``total_price`` once ``financial_status`` is paid,
  partially refunded or refunded; ``total_price − total_outstanding`` when partially paid;
  nothing while pending, authorized, voided or expired;
- shipped when the first fulfillment was created, delivered when a fulfillment's shipment
  status says so (its ``updated_at``);
- a refund's money is the sum of its successful ``refund`` transactions; its units are its
  ``refund_line_items``; shipping is refunded with any ``refund_shipping_lines``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from refundflow.adapters.channels.payloads import money, quantity, shop_money, text, time
from refundflow.domain.errors import InvalidInputError
from refundflow.domain.money import Money
from refundflow.services.orders import CustomerInput, LineInput, PaymentInput, UpsertOrder
from refundflow.services.shop_sync import RefundedLine, ShopOrder, ShopRefund

SOURCE = "shopify"
CHANNEL = "shopify"
ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "orders/paid",
        "orders/cancelled",
    }
)
REFUND_TOPIC = "refunds/create"
PAID = frozenset({"paid", "partially_refunded", "refunded"})
GATEWAYS = {
    "alipay": "alipay",
    "wechat": "wechat_pay",
    "wechat_pay": "wechat_pay",
    "stripe": "stripe",
    "paypal": "e_wallet",
    "shopify_payments": "card",
    "bogus": "card",
    "manual": "bank_transfer",
    "bank_deposit": "bank_transfer",
    "cash_on_delivery": "cash_on_delivery",
    "cash on delivery (cod)": "cash_on_delivery",
    "gift_card": "store_credit",
}


def order_no(order_id: Any) -> str:
    return f"SHOPIFY-{text(order_id)}"


def _id(payload: dict[str, Any], field: str) -> str:
    value = payload.get(field)
    if isinstance(value, bool) or not isinstance(value, int | str) or not text(value):
        raise InvalidInputError(f"{field} is missing", details={"field": field})
    return text(value)


def _line_sku(item: dict[str, Any]) -> str:
    return text(item.get("sku")) or f"SHOPIFY-LINE-{text(item.get('id'))}"


def _discount(item: dict[str, Any], field: str) -> str:
    allocations = item.get("discount_allocations") or []
    total = Decimal(0)
    for i, allocation in enumerate(allocations):
        total += Decimal(
            shop_money(allocation.get("amount_set"), allocation.get("amount"), f"{field}[{i}]")
        )
    return str(total)


def _customer(payload: dict[str, Any]) -> CustomerInput:
    customer = payload.get("customer") or {}
    address = payload.get("billing_address") or payload.get("shipping_address") or {}
    name = " ".join(
        part for part in (text(customer.get("first_name")), text(customer.get("last_name"))) if part
    )
    email = text(customer.get("email")) or text(payload.get("email")) or None
    return CustomerInput(
        name=name or text(address.get("name")) or email or "Shopify customer",
        email=email,
        phone=text(customer.get("phone")) or text(payload.get("phone")) or None,
    )


def _payments(payload: dict[str, Any], currency: str) -> list[PaymentInput]:
    status = text(payload.get("financial_status"))
    total = Money.parse(
        shop_money(payload.get("total_price_set"), payload.get("total_price"), "total_price"),
        currency,
    )
    if status in PAID:
        amount = total
    elif status == "partially_paid":
        outstanding = Money.parse(
            money(payload.get("total_outstanding"), "total_outstanding"), currency
        )
        amount = total - outstanding
    else:
        return []
    if not amount.amount > 0:
        return []
    gateways = [text(g).lower() for g in payload.get("payment_gateway_names") or []]
    method = next((GATEWAYS[g] for g in gateways if g in GATEWAYS), "card")
    return [PaymentInput(method, amount.text(), f"shopify-order-{_id(payload, 'id')}")]


def order_from_payload(payload: dict[str, Any]) -> ShopOrder:
    external_id = _id(payload, "id")
    currency = text(payload.get("currency"))
    lines: list[LineInput] = []
    seen: set[str] = set()
    for i, item in enumerate(payload.get("line_items") or []):
        sku = _line_sku(item)
        if sku in seen:  # one SKU twice (e.g. other properties): keep both lines apart
            sku = f"{sku}~{text(item.get('id'))}"
        seen.add(sku)
        lines.append(
            LineInput(
                sku=sku,
                name=text(item.get("name")) or text(item.get("title")) or sku,
                quantity=quantity(item.get("quantity"), f"line_items[{i}].quantity"),
                unit_price=shop_money(
                    item.get("price_set"), item.get("price"), f"line_items[{i}].price"
                ),
                discount=_discount(item, f"line_items[{i}].discount_allocations"),
            )
        )
    shipping = Decimal(0)
    for i, ship in enumerate(payload.get("shipping_lines") or []):
        if ship.get("is_removed"):
            continue
        shipping += Decimal(
            shop_money(
                ship.get("discounted_price_set"),
                ship.get("discounted_price", ship.get("price")),
                f"shipping_lines[{i}].discounted_price",
            )
        )
    fulfillments = payload.get("fulfillments") or []
    shipped = sorted(
        at for f in fulfillments if (at := time(f.get("created_at"), "fulfillments.created_at"))
    )
    delivered = sorted(
        at
        for f in fulfillments
        if f.get("shipment_status") == "delivered"
        and (at := time(f.get("updated_at"), "fulfillments.updated_at"))
    )
    placed_at = time(payload.get("processed_at") or payload.get("created_at"), "processed_at")
    if placed_at is None:
        raise InvalidInputError("created_at is missing", details={"field": "created_at"})
    payments = _payments(payload, currency)
    return ShopOrder(
        source=SOURCE,
        external_id=external_id,
        updated_at=time(payload.get("updated_at"), "updated_at"),
        order=UpsertOrder(
            order_no=order_no(external_id),
            channel=CHANNEL,
            currency=currency,
            customer=_customer(payload),
            lines=lines,
            placed_at=placed_at,
            payments=payments,
            shipping_fee=str(shipping),
            paid_at=placed_at if payments else None,
            shipped_at=shipped[0] if shipped else None,
            delivered_at=delivered[0] if delivered else None,
        ),
    )


def refund_from_payload(payload: dict[str, Any]) -> tuple[str, ShopRefund]:
    """The order number and the refund a ``refunds/create`` delivery describes."""
    refund_id = _id(payload, "id")
    lines = []
    returned = False
    for i, item in enumerate(payload.get("refund_line_items") or []):
        line_item = item.get("line_item") or {}
        line_id = text(item.get("line_item_id")) or text(line_item.get("id"))
        sku = text(line_item.get("sku")) or f"SHOPIFY-LINE-{line_id}"
        lines.append(
            RefundedLine(
                sku,
                quantity(item.get("quantity"), f"refund_line_items[{i}].quantity"),
                f"{sku}~{line_id}",
            )
        )
        returned |= item.get("restock_type") == "return"
    amount = Decimal(0)
    for i, transaction in enumerate(payload.get("transactions") or []):
        if transaction.get("kind") == "refund" and transaction.get("status") == "success":
            amount += Decimal(money(transaction.get("amount"), f"transactions[{i}].amount"))
    refund = ShopRefund(
        external_id=refund_id,
        amount=str(amount),
        lines=lines,
        include_shipping=bool(payload.get("refund_shipping_lines")),
        returned=returned,
        note=text(payload.get("note"))[:2000],
    )
    return order_no(_id(payload, "order_id")), refund
