"""Shopify and WooCommerce webhooks in, with the vendors' published samples, signed as the
shops sign them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.services.clock import ManualClock
from tests.conftest import snapshot
from tests.integration.api import Api
from tests.shops import (
    SHOPIFY_SECRET,
    WOO_SECRET,
    sample,
    shopify_compact,
    shopify_headers,
    woo_headers,
    woo_wire,
)

SHOPIFY = "/api/v1/integrations/shopify/webhooks"
WOO = "/api/v1/integrations/woocommerce/webhooks"
ORDER_NO = "SHOPIFY-820982911946154508"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        environment="test",
        token_cache_seconds=0,
        shopify_webhook_secret=SHOPIFY_SECRET,
        woocommerce_webhook_secret=WOO_SECRET,
    )


def shopify_post(client: TestClient, body: bytes, topic: str, **headers: str) -> Any:
    return client.post(SHOPIFY, content=body, headers={**shopify_headers(body, topic), **headers})


def paid_order_sample() -> bytes:
    """The orders/create sample as it would read once paid (the published one is voided)."""
    payload = json.loads(sample("shopify_orders_create.json"))
    payload.update(
        financial_status="paid",
        total_outstanding="0.00",
        cancelled_at=None,
        cancel_reason=None,
        updated_at="2022-01-01T09:00:00-05:00",
    )
    return json.dumps(payload, separators=(",", ":")).encode()


def test_the_published_shopify_order_sample_is_stored_exactly(client: TestClient, api: Api) -> None:
    response = shopify_post(client, sample("shopify_orders_create.json"), "orders/create")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "outcome": "created",
        "order_no": ORDER_NO,
        "requests": [],
        "topic": "orders/create",
    }
    order = api.get(f"/api/v1/orders/{ORDER_NO}").json()
    assert (order["channel"], order["currency"], order["placed_at"]) == (
        "shopify",
        "USD",
        "2022-01-01T00:00:00+00:00",
    )
    assert [(li["sku"], li["unit_price"]) for li in order["lines"]] == [
        ("SKU2006-001", "89.99"),
        ("LENS-PROTECT-2YR", "19.99"),
        ("CASE-LEATHER-PREM", "24.99"),
        ("SKU2006-020", "159.99"),
        ("SKU2006-035", "119.99"),
    ]
    assert (order["goods_total"], order["paid"], order["payments"]) == ("414.95", "0.00", [])
    assert order["customer"]["email"] == "john@example.com"


def test_a_tampered_body_or_a_wrong_secret_is_refused_with_401_and_nothing_stored(
    client: TestClient, box: Container
) -> None:
    body = sample("shopify_orders_create.json")
    tampered = body.replace(b'"89.99"', b'"0.01"', 1)
    before = snapshot(box)
    cases = [
        (tampered, shopify_headers(body, "orders/create")),  # signature of the original
        (body, shopify_headers(body, "orders/create", secret="another-shops-secret")),
        (body, {**shopify_headers(body, "orders/create"), "X-Shopify-Hmac-Sha256": ""}),
        (body, {**shopify_headers(body, "orders/create"), "X-Shopify-Hmac-Sha256": "not base64!"}),
    ]
    for content, headers in cases:
        response = client.post(SHOPIFY, content=content, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "invalid_signature"
    woo = sample("woocommerce_order.json")
    forged = {
        **woo_headers(woo),
        "X-WC-Webhook-Signature": woo_headers(b"{}")["X-WC-Webhook-Signature"],
    }
    assert client.post(WOO, content=woo, headers=forged).status_code == 401
    unsigned = {k: v for k, v in woo_headers(woo).items() if k != "X-WC-Webhook-Signature"}
    assert client.post(WOO, content=woo, headers=unsigned).status_code == 401
    assert snapshot(box) == before


def test_a_replayed_delivery_stores_nothing_new(
    client: TestClient, box: Container, clock: ManualClock
) -> None:
    body = shopify_compact(sample("shopify_orders_create.json"))
    assert shopify_post(client, body, "orders/create").json()["outcome"] == "created"
    before = snapshot(box)
    clock.advance(timedelta(minutes=5))
    for topic in ("orders/create", "orders/updated"):
        again = shopify_post(client, body, topic)
        assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    assert snapshot(box) == before


def test_an_older_delivery_of_an_order_than_the_one_applied_is_ignored(
    client: TestClient, box: Container, api: Api
) -> None:
    assert (
        shopify_post(client, paid_order_sample(), "orders/updated").json()["outcome"] == "created"
    )
    before = snapshot(box)
    older = shopify_compact(sample("shopify_orders_create.json"))  # updated 09:00 earlier
    response = shopify_post(client, older, "orders/create")
    assert response.json()["outcome"] == "stale"
    assert snapshot(box) == before
    assert api.get(f"/api/v1/orders/{ORDER_NO}").json()["paid"] == "404.95"


def test_the_previous_secret_is_accepted_only_while_it_is_configured(
    client: TestClient, box: Container
) -> None:
    body = sample("shopify_orders_create.json")
    old = "shpss_the_secret_before_the_rotation_0000"
    headers = shopify_headers(body, "orders/create", secret=old)
    assert client.post(SHOPIFY, content=body, headers=headers).status_code == 401
    box.settings = box.settings.model_copy(update={"shopify_webhook_previous_secret": old})
    assert client.post(SHOPIFY, content=body, headers=headers).status_code == 200


def test_an_unconfigured_shop_is_refused_and_told_which_setting_to_set(
    client: TestClient, box: Container
) -> None:
    box.settings = box.settings.model_copy(update={"shopify_webhook_secret": None})
    body = sample("shopify_orders_create.json")
    response = shopify_post(client, body, "orders/create")
    assert response.status_code == 503
    assert "REFUNDFLOW_SHOPIFY_WEBHOOK_SECRET" in response.json()["error"]["message"]


def test_the_refund_sample_on_the_voided_order_sample_is_refused_and_stores_nothing(
    client: TestClient, box: Container
) -> None:
    shopify_post(client, sample("shopify_orders_create.json"), "orders/create")
    before = snapshot(box)
    response = shopify_post(client, sample("shopify_refunds_create.json"), "refunds/create")
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "balance_exceeded"
    assert "85.00 USD" in response.json()["error"]["message"]
    assert snapshot(box) == before


def test_a_shopify_refund_becomes_a_refunded_request_and_the_balance_follows(
    client: TestClient, box: Container, api: Api
) -> None:
    shopify_post(client, paid_order_sample(), "orders/create")
    refund = sample("shopify_refunds_create.json")
    response = shopify_post(client, refund, "refunds/create")
    assert response.status_code == 200, response.text
    (number,) = response.json()["requests"]
    request = api.get(f"/api/v1/refund-requests/{number}").json()
    assert (request["status"], request["type"], request["reason"]) == (
        "refunded",
        "refund_only",
        "other",
    )
    assert (request["amount_requested"], request["amount_refunded"]) == ("85.00", "85.00")
    assert request["description"] == "Things were damaged"
    assert [e["action"] for e in request["timeline"]] == [
        "submit",
        "approve",
        "execute",
        "mark-refunded",
    ]
    assert request["timeline"][0]["actor"] == {
        "kind": "integration",
        "role": "integration",
        "id": "shopify",
        "name": "Shopify",
    }
    assert request["timeline"][-1]["data"]["reference"] == "shopify:890088186047892319"
    order = api.get(f"/api/v1/orders/{ORDER_NO}").json()
    assert order["refundable"]["amount"] == "319.95", "404.95 paid − 85.00 refunded"
    assert all(line["refundable_quantity"] == 0 for line in order["lines"])

    before = snapshot(box)
    again = shopify_post(client, refund, "refunds/create")
    assert again.json()["outcome"] == "unchanged"
    assert snapshot(box) == before


def test_a_refund_that_arrives_before_its_order_is_refused_so_the_shop_retries(
    client: TestClient, box: Container
) -> None:
    before = snapshot(box)
    response = shopify_post(client, sample("shopify_refunds_create.json"), "refunds/create")
    assert response.status_code == 409
    assert "has not been received yet" in response.json()["error"]["message"]
    assert snapshot(box) == before


def test_the_published_woocommerce_sample_is_stored_from_its_wire_form(
    client: TestClient, box: Container, api: Api
) -> None:
    wire = woo_wire(json.loads(sample("woocommerce_order.json")))
    response = client.post(WOO, content=wire, headers=woo_headers(wire))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "created"
    order = api.get("/api/v1/orders/WOO-727").json()
    assert [(li["sku"], li["name"], li["net"]) for li in order["lines"]] == [
        ("WOO-PRODUCT-93", "Woo Single #1", "6.00"),
        ("Bar3", "Ship Your Idea – Color: Black, Size: M Test", "12.00"),
    ]
    assert (order["paid"], order["shipping_fee"], order["placed_at"]) == (
        "29.35",
        "10.00",
        "2017-03-22T19:28:02+00:00",
    )
    # The same order, pretty-printed as published, signed over its own bytes: no change.
    before = snapshot(box)
    verbatim = sample("woocommerce_order.json")
    again = client.post(WOO, content=verbatim, headers=woo_headers(verbatim, "order.updated"))
    assert again.json()["outcome"] == "unchanged"
    assert snapshot(box) == before


def test_a_woocommerce_refund_in_the_order_becomes_a_refunded_request(
    client: TestClient, api: Api
) -> None:
    payload = json.loads(sample("woocommerce_order.json"))
    payload["refunds"] = [{"id": 730, "reason": "Broken &amp; returned", "total": "-5.00"}]
    payload["date_modified_gmt"] = "2017-03-23T08:00:00"
    wire = woo_wire(payload)
    response = client.post(WOO, content=wire, headers=woo_headers(wire, "order.updated"))
    assert response.status_code == 200, response.text
    (number,) = response.json()["requests"]
    request = api.get(f"/api/v1/refund-requests/{number}").json()
    assert (request["status"], request["amount_refunded"], request["lines"]) == (
        "refunded",
        "5.00",
        [],
    )
    assert request["description"] == "Broken & returned"
    assert api.get("/api/v1/orders/WOO-727").json()["refundable"]["amount"] == "24.35"


def test_woocommerce_pings_and_unknown_topics_are_acknowledged_and_change_nothing(
    client: TestClient, box: Container
) -> None:
    before = snapshot(box)
    ping = client.post(
        WOO,
        content=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (ping.status_code, ping.json()) == (200, {"outcome": "ping"})
    product = woo_wire({"id": 93, "name": "Woo Single #1"})
    other = client.post(WOO, content=product, headers=woo_headers(product, "product.updated"))
    assert other.json() == {"outcome": "ignored", "topic": "product.updated"}
    body = sample("shopify_orders_create.json")
    assert shopify_post(client, body, "customers/create").json()["outcome"] == "ignored"
    assert snapshot(box) == before


def test_fields_the_shop_adds_later_are_ignored(client: TestClient) -> None:
    payload = json.loads(sample("shopify_orders_create.json"))
    payload["a_field_from_api_version_2030_01"] = {"nested": [1, 2.5, None]}
    payload["line_items"][0]["unheard_of"] = "x"
    body = json.dumps(payload).encode()
    assert shopify_post(client, body, "orders/create").json()["outcome"] == "created"


def test_one_refund_delivered_twice_at_once_is_recorded_once(box: Container, api: Api) -> None:
    """Shops retry while the first delivery may still be running: both must not record."""
    import threading

    from refundflow.services.shop_sync import ShopRefund, record_shop_refund

    wire = woo_wire(json.loads(sample("woocommerce_order.json")))
    api.client.post(WOO, content=wire, headers=woo_headers(wire))
    refund = ShopRefund(external_id="731", amount="5.00", note="twice")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def deliver() -> None:
        barrier.wait()
        outcomes.append(record_shop_refund(box.uows, "woocommerce", "WOO-727", refund).outcome)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "unchanged", "unchanged", "unchanged"]
    assert api.get("/api/v1/orders/WOO-727").json()["refundable"]["amount"] == "24.35"
