"""The vendors' published webhook samples (tests/fixtures/vendor-payloads, byte for byte as
in shared/fixtures) and how the shops sign them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "fixtures" / "vendor-payloads"
SHOPIFY_SECRET = "shpss_test_client_secret_0123456789abcdef"
WOO_SECRET = "wc&amp;secret-0123456789"  # as WooCommerce stores it: HTML-escaped


def sample(name: str) -> bytes:
    """The exact bytes of a published sample."""
    return (PAYLOADS / name).read_bytes()


def loads(body: bytes) -> Any:
    return json.loads(body)


def shopify_signature(body: bytes, secret: str = SHOPIFY_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def woo_signature(body: bytes, secret: str = "wc&secret-0123456789") -> str:
    """WooCommerce keys the HMAC with the secret HTML-entity-decoded."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def woo_wire(payload: Any) -> bytes:
    """A payload as WooCommerce sends it: compact JSON (PHP's json_encode) with '/' escaped
    as '\\/' and non-ASCII as \\uXXXX."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def shopify_compact(body: bytes) -> bytes:
    """The same order as Shopify puts it on the wire (compact), ids kept exact."""
    return json.dumps(json.loads(body), separators=(",", ":")).encode()


def shopify_headers(body: bytes, topic: str, secret: str = SHOPIFY_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify_signature(body, secret),
        "X-Shopify-Shop-Domain": "jsmith.myshopify.com",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    }


def woo_headers(body: bytes, topic: str = "order.created") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://example.com/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": "a1b2c3",
        "X-WC-Webhook-Signature": woo_signature(body),
    }
