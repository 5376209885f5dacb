"""WooCommerce's order webhooks (the REST API v3 order resource) mapped to our orders.

Field choices, from the WooCommerce REST API documentation:
- the order is ``WOO-<id>`` (``number`` can be restyled by plugins);
- times are the ``*_gmt`` fields, which are UTC without an offset (the others are the
  site's local time, also without one); placed = ``date_created_gmt``, paid =
  ``date_paid_gmt``, shipped = ``date_completed_gmt`` (WooCommerce's "completed" means
  fulfilled; it has no delivery date);
- a line's ``price`` is a JSON number, so it is not used: the unit price is the line's
  ``subtotal`` (before coupons) ÷ quantity, rounded up to the currency's minor unit, and the
  discount is what makes the line's net exactly its ``total`` (after coupons); taxes stay
  out of line values;
- item names arrive HTML-escaped (``&ndash;``) and are unescaped;
- the payment is the order ``total`` once ``date_paid_gmt`` is set and the status is not
  pending, failed or cancelled; its method comes from ``payment_method``;
- each entry of ``refunds`` (id, reason, negative total) is a money-only refund the shop made.
"""

from __future__ import annotations

import html
from decimal import ROUND_UP, Decimal
from typing import Any

from refundflow.adapters.channels.payloads import money, quantity, text, time
from refundflow.domain.errors import InvalidInputError
from refundflow.domain.money import currency_exponent
from refundflow.services.orders import CustomerInput, LineInput, PaymentInput, UpsertOrder
from refundflow.services.shop_sync import ShopOrder, ShopRefund

SOURCE = "woocommerce"
CHANNEL = "woocommerce"
ORDER_TOPICS = frozenset({"order.created", "order.updated"})
UNPAID = frozenset({"pending", "failed", "cancelled", "checkout-draft"})
METHODS = {
    "bacs": "bank_transfer",
    "cheque": "bank_transfer",
    "cod": "cash_on_delivery",
    "stripe": "stripe",
    "paypal": "e_wallet",
    "ppcp-gateway": "e_wallet",
    "alipay": "alipay",
    "wechat": "wechat_pay",
    "wechatpay": "wechat_pay",
}


def order_no(order_id: Any) -> str:
    return f"WOO-{text(order_id)}"


def _unit_price(subtotal: Decimal, units: int, currency: str) -> Decimal:
    quantum = Decimal(1).scaleb(-currency_exponent(currency))
    return (subtotal / units).quantize(quantum, ROUND_UP)


def _lines(payload: dict[str, Any], currency: str) -> list[LineInput]:
    lines = []
    seen: set[str] = set()
    for i, item in enumerate(payload.get("line_items") or []):
        units = quantity(item.get("quantity"), f"line_items[{i}].quantity")
        if units < 1:
            continue  # a line fully removed from the order
        sku = text(item.get("sku"))
        if not sku:
            variation = text(item.get("variation_id"))
            sku = f"WOO-PRODUCT-{text(item.get('product_id'))}"
            if variation and variation != "0":
                sku += f"-{variation}"
        if sku in seen:
            sku = f"{sku}~{text(item.get('id'))}"
        seen.add(sku)
        subtotal = Decimal(money(item.get("subtotal"), f"line_items[{i}].subtotal"))
        net = Decimal(money(item.get("total"), f"line_items[{i}].total"))
        unit = _unit_price(subtotal, units, currency)
        lines.append(
            LineInput(
                sku=sku,
                name=html.unescape(text(item.get("name"))) or sku,
                quantity=units,
                unit_price=str(unit),
                discount=str(unit * units - net),
            )
        )
    return lines


def _customer(payload: dict[str, Any]) -> CustomerInput:
    billing = payload.get("billing") or {}
    name = " ".join(
        p for p in (text(billing.get("first_name")), text(billing.get("last_name"))) if p
    )
    email = text(billing.get("email")) or None
    return CustomerInput(
        name=html.unescape(name) or email or "WooCommerce customer",
        email=email,
        phone=text(billing.get("phone")) or None,
    )


def order_from_payload(payload: dict[str, Any]) -> ShopOrder:
    order_id = payload.get("id")
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise InvalidInputError("id is missing", details={"field": "id"})
    external_id = str(order_id)
    currency = text(payload.get("currency"))
    placed_at = time(payload.get("date_created_gmt"), "date_created_gmt", naive_is_utc=True)
    if placed_at is None:
        raise InvalidInputError(
            "date_created_gmt is missing", details={"field": "date_created_gmt"}
        )
    paid_at = time(payload.get("date_paid_gmt"), "date_paid_gmt", naive_is_utc=True)
    payments = []
    if paid_at is not None and text(payload.get("status")) not in UNPAID:
        method = METHODS.get(text(payload.get("payment_method")).lower(), "card")
        reference = text(payload.get("transaction_id")) or f"woo-order-{external_id}"
        payments.append(PaymentInput(method, money(payload.get("total"), "total"), reference))
    refunds = [
        ShopRefund(
            external_id=text(refund.get("id")),
            amount=str(abs(Decimal(money(refund.get("total"), f"refunds[{i}].total")))),
            note=html.unescape(text(refund.get("reason")))[:2000],
        )
        for i, refund in enumerate(payload.get("refunds") or [])
    ]
    return ShopOrder(
        source=SOURCE,
        external_id=external_id,
        updated_at=time(payload.get("date_modified_gmt"), "date_modified_gmt", naive_is_utc=True),
        order=UpsertOrder(
            order_no=order_no(external_id),
            channel=CHANNEL,
            currency=currency,
            customer=_customer(payload),
            lines=_lines(payload, currency),
            placed_at=placed_at,
            payments=payments,
            shipping_fee=money(payload.get("shipping_total") or "0", "shipping_total"),
            paid_at=paid_at if payments else None,
            shipped_at=time(
                payload.get("date_completed_gmt"), "date_completed_gmt", naive_is_utc=True
            ),
        ),
        refunds=refunds,
    )
