"""The shops' published samples mapped to our orders: ids exact, money exact, times UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from refundflow.adapters.channels import shopify, woocommerce
from refundflow.adapters.channels.payloads import parse_body
from refundflow.services.orders import build_order
from tests.shops import sample, shopify_compact, woo_wire


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return []


def test_shopify_ids_above_two_to_the_53_survive_parsing_exactly() -> None:
    payload = parse_body(shopify_compact(sample("shopify_orders_create.json")))
    assert payload["id"] == 820982911946154508
    assert int(float(820982911946154508)) != 820982911946154508, "a double would corrupt it"
    assert shopify.order_from_payload(payload).order.order_no == "SHOPIFY-820982911946154508"


def test_no_json_number_of_a_refund_becomes_a_float() -> None:
    payload = parse_body(sample("shopify_refunds_create.json"))
    assert _floats(payload) == []
    assert payload["refund_line_items"][0]["subtotal"] == Decimal("89.99")


def test_the_shopify_order_sample_maps_to_our_order() -> None:
    shop_order = shopify.order_from_payload(parse_body(sample("shopify_orders_create.json")))
    cmd = shop_order.order
    assert (cmd.channel, cmd.currency) == ("shopify", "USD")
    assert cmd.placed_at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC), "-05:00 kept, stored as UTC"
    assert shop_order.updated_at == datetime(2022, 1, 1, 0, 0, tzinfo=UTC)
    assert [(li.sku, li.quantity, li.unit_price, li.discount) for li in cmd.lines] == [
        ("SKU2006-001", 1, "89.99", "0"),
        ("LENS-PROTECT-2YR", 1, "19.99", "0"),
        ("CASE-LEATHER-PREM", 1, "24.99", "0"),
        ("SKU2006-020", 1, "159.99", "0"),
        ("SKU2006-035", 1, "119.99", "0"),
    ]
    # The customer's own e-mail, not the order's contact e-mail (they differ in the sample).
    assert (cmd.customer.name, cmd.customer.email) == ("John Smith", "john@example.com")
    assert cmd.payments == [], "a voided order captured nothing"
    order = build_order(cmd)
    assert order.goods_total.text() == "414.95"
    assert order.shipping_fee.text() == "0.00", "the shipping line's discounted price"
    assert order.paid.text() == "0.00"


def test_a_paid_shopify_order_is_paid_its_total_price() -> None:
    payload = json.loads(sample("shopify_orders_create.json"))
    payload.update(financial_status="paid", total_outstanding="0.00", cancelled_at=None)
    cmd = shopify.order_from_payload(parse_body(json.dumps(payload).encode())).order
    assert [(p.method, p.amount) for p in cmd.payments] == [("card", "404.95")]
    assert cmd.paid_at == cmd.placed_at


def test_the_shopify_refund_sample_maps_to_units_and_the_money_refunded() -> None:
    order_no, refund = shopify.refund_from_payload(
        parse_body(sample("shopify_refunds_create.json"))
    )
    assert order_no == "SHOPIFY-820982911946154508"
    assert refund.external_id == "890088186047892319"
    assert refund.amount == "85.00", "75.00 + 10.00 of successful refund transactions"
    assert [(line.sku, line.quantity) for line in refund.lines] == [
        ("SKU2006-001", 1),
        ("LENS-PROTECT-2YR", 1),
        ("CASE-LEATHER-PREM", 1),
        ("SKU2006-020", 1),
        ("SKU2006-035", 1),
    ]
    assert (refund.include_shipping, refund.returned, refund.note) == (
        False,
        False,
        "Things were damaged",
    )


def test_the_woocommerce_sample_maps_to_our_order() -> None:
    shop_order = woocommerce.order_from_payload(parse_body(sample("woocommerce_order.json")))
    cmd = shop_order.order
    assert cmd.order_no == "WOO-727"
    assert cmd.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC), "the _gmt field"
    assert cmd.paid_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert [(li.sku, li.name, li.quantity, li.unit_price, li.discount) for li in cmd.lines] == [
        ("WOO-PRODUCT-93", "Woo Single #1", 2, "3.00", "0.00"),
        ("Bar3", "Ship Your Idea – Color: Black, Size: M Test", 1, "12.00", "0.00"),
    ]
    assert [(p.method, p.amount) for p in cmd.payments] == [("bank_transfer", "29.35")]
    assert (cmd.customer.name, cmd.customer.email, cmd.customer.phone) == (
        "John Doe",
        "john.doe@example.com",
        "(555) 555-5555",
    )
    order = build_order(cmd)
    assert (order.goods_total.text(), order.shipping_fee.text()) == ("18.00", "10.00")


def test_the_woocommerce_wire_form_reads_the_same_as_the_sample() -> None:
    payload = json.loads(sample("woocommerce_order.json"))
    wire = woo_wire(payload)
    assert b"https:\\/\\/example.com\\/wp-json" in wire
    assert woocommerce.order_from_payload(parse_body(wire)) == woocommerce.order_from_payload(
        payload
    )


def test_a_woocommerce_line_that_does_not_divide_evenly_keeps_its_total_exact() -> None:
    payload = json.loads(sample("woocommerce_order.json"))
    payload["line_items"][0].update(quantity=3, subtotal="10.00", total="9.00")
    line = woocommerce.order_from_payload(payload).order.lines[0]
    assert (line.unit_price, line.discount) == ("3.34", "1.02")
    assert build_order(woocommerce.order_from_payload(payload).order).lines[0].net.text() == "9.00"


def test_a_fulfilled_shopify_order_is_shipped_then_delivered() -> None:
    payload = json.loads(sample("shopify_orders_create.json"))
    payload["fulfillments"] = [
        {
            "id": 255858046,
            "created_at": "2022-01-02T10:00:00-05:00",
            "updated_at": "2022-01-04T16:30:00-05:00",
            "shipment_status": "delivered",
            "status": "success",
        }
    ]
    cmd = shopify.order_from_payload(payload).order
    assert cmd.shipped_at == datetime(2022, 1, 2, 15, 0, tzinfo=UTC)
    assert cmd.delivered_at == datetime(2022, 1, 4, 21, 30, tzinfo=UTC)


def test_one_sku_on_two_shopify_lines_keeps_both_lines_apart_under_an_alias() -> None:
    payload = json.loads(sample("shopify_orders_create.json"))
    payload["line_items"][1]["sku"] = "SKU2006-001"
    skus = [line.sku for line in shopify.order_from_payload(payload).order.lines]
    assert skus[:2] == ["SKU2006-001", "SKU2006-001~789012345678901234"]
    _, refund = shopify.refund_from_payload(parse_body(sample("shopify_refunds_create.json")))
    assert refund.lines[1].alias == "LENS-PROTECT-2YR~789012345678901234"
