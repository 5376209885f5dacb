"""Shop webhooks in: Shopify and WooCommerce push orders (and Shopify refunds) here.

No API token: a delivery is authenticated by its HMAC signature over the raw body, checked
in constant time before the body is parsed. A refused delivery (401 bad signature, 409
conflict, 422 unusable payload) changes nothing; the shop retries non-2xx answers.
Topics we do not use are acknowledged (200) and ignored.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from fastapi import APIRouter, Request

from refundflow.adapters.channels import shopify, woocommerce
from refundflow.adapters.channels.payloads import parse_body
from refundflow.adapters.channels.signatures import verify_base64_hmac
from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.web.deps import run
from refundflow.entrypoints.web.responses import Json, error
from refundflow.entrypoints.web.schemas import ErrorPublic
from refundflow.services import shop_sync

log = logging.getLogger("refundflow.integrations")
router = APIRouter(prefix="/api/v1/integrations", tags=["shop integrations"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "applied, unchanged, stale (older than what we have) or ignored"},
    **{s: {"model": ErrorPublic} for s in (401, 409, 422, 503)},
}
WOO_PING = re.compile(rb"webhook_id=\d+")


def _secrets(*values: str | None) -> list[str]:
    return [v for v in values if v]


def _not_configured(shop: str, variable: str) -> Json:
    log.warning("%s webhook refused: %s is not set", shop, variable)
    return error(
        503,
        "not_configured",
        f"{shop} webhooks are not configured here: set {variable}",
        {"setting": variable},
    )


@router.post(
    "/shopify/webhooks",
    summary="Shopify webhooks: orders/create, orders/updated, orders/fulfilled, refunds/create",
    description="Signed with `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body, "
    "keyed with REFUNDFLOW_SHOPIFY_WEBHOOK_SECRET; during a rotation the previous secret "
    "is accepted too). The topic comes from `X-Shopify-Topic`.",
    responses=RESPONSES,
)
async def shopify_webhook(request: Request) -> Json:
    box: Container = request.app.state.container
    settings = box.settings
    secrets = _secrets(settings.shopify_webhook_secret, settings.shopify_webhook_previous_secret)
    if not secrets:
        return _not_configured("Shopify", "REFUNDFLOW_SHOPIFY_WEBHOOK_SECRET")
    body = await request.body()
    verify_base64_hmac(body, request.headers.get("x-shopify-hmac-sha256"), secrets, "Shopify")
    topic = request.headers.get("x-shopify-topic", "")
    if topic in shopify.ORDER_TOPICS:
        shop_order = shopify.order_from_payload(parse_body(body))
        result = await run(box, shop_sync.sync_shop_order, box.uows, shop_order)
    elif topic == shopify.REFUND_TOPIC:
        order_no, refund = shopify.refund_from_payload(parse_body(body))
        result = await run(
            box, shop_sync.record_shop_refund, box.uows, shopify.SOURCE, order_no, refund
        )
    else:
        return Json({"outcome": "ignored", "topic": topic})
    return Json({**result.view(), "topic": topic})


@router.post(
    "/woocommerce/webhooks",
    summary="WooCommerce webhooks: order.created, order.updated",
    description="Signed with `X-WC-Webhook-Signature` (base64 HMAC-SHA256 of the raw body, "
    "keyed with REFUNDFLOW_WOOCOMMERCE_WEBHOOK_SECRET). The unsigned form-encoded ping "
    "`webhook_id=<id>` that WooCommerce sends when a webhook is saved is acknowledged and "
    "changes nothing.",
    responses=RESPONSES,
)
async def woocommerce_webhook(request: Request) -> Json:
    box: Container = request.app.state.container
    settings = box.settings
    secrets = [
        # WooCommerce signs with the secret HTML-entity-decoded (it stores it escaped).
        html.unescape(s)
        for s in _secrets(
            settings.woocommerce_webhook_secret, settings.woocommerce_webhook_previous_secret
        )
    ]
    if not secrets:
        return _not_configured("WooCommerce", "REFUNDFLOW_WOOCOMMERCE_WEBHOOK_SECRET")
    body = await request.body()
    signature = request.headers.get("x-wc-webhook-signature")
    if signature is None and WOO_PING.fullmatch(body.strip()):
        return Json({"outcome": "ping"})
    verify_base64_hmac(body, signature, secrets, "WooCommerce")
    topic = request.headers.get("x-wc-webhook-topic", "")
    if topic not in woocommerce.ORDER_TOPICS:
        return Json({"outcome": "ignored", "topic": topic})
    shop_order = woocommerce.order_from_payload(parse_body(body))
    result = await run(box, shop_sync.sync_shop_order, box.uows, shop_order)
    return Json({**result.view(), "topic": topic})
