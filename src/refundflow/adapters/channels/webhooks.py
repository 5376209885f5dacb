"""Signed HTTP webhooks: to an SMS gateway of the merchant's choosing, and to the merchant's
app backend (which pushes to its own app).

Each POST carries a JSON body and

    X-Refundflow-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
    Idempotency-Key: notification-<id>

The receiver recomputes the HMAC over the raw body, compares in constant time and refuses
old timestamps (replays); a retried delivery carries the same Idempotency-Key. 2xx is
success (a JSON ``id`` in the answer becomes the provider reference), 408/429/5xx are
retried, other 4xx are not; for app push 404/410 also mean the device is gone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from refundflow.adapters.channels.http import check, post
from refundflow.services.notifications.ports import Message

SIGNATURE_HEADER = "X-Refundflow-Signature"


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_webhook(
    secret: str, body: bytes, header: str, *, now: float, tolerance: float = 300.0
) -> bool:
    """The receiver's side (documented for merchants; used by the tests)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if not parts.get("t", "").isdigit() or abs(now - int(parts["t"])) > tolerance:
        return False
    expected = sign_webhook(secret, body, int(parts["t"])).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class SignedWebhook:
    def __init__(self, url: str, secret: str, provider: str) -> None:
        self.url = url
        self.secret = secret
        self.provider = provider

    def deliver(self, message: Message, payload: dict[str, Any], *, gone: frozenset[int]) -> str:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign_webhook(self.secret, body, int(time.time())),
            "Idempotency-Key": f"notification-{message.id}",
        }
        response = post(self.url, content=body, headers=headers)
        check(response, self.provider, gone=gone)
        try:
            reply = response.json()
        except ValueError:
            reply = None
        if isinstance(reply, dict) and reply.get("id"):
            return str(reply["id"])
        return f"{self.provider}:{message.id}"


class WebhookSmsChannel:
    def __init__(self, url: str, secret: str) -> None:
        self.hook = SignedWebhook(url, secret, "sms-webhook")

    def send(self, message: Message) -> str:
        payload = {
            "id": f"notification-{message.id}",
            "to": message.to,
            "text": message.short,
            "template": message.sms_template,
            "params": dict(message.sms_params),
            "language": message.language,
        }
        return self.hook.deliver(message, payload, gone=frozenset())


class AppPushChannel:
    """``message.to`` is the app's own user or device id (the subscription's endpoint)."""

    def __init__(self, url: str, secret: str) -> None:
        self.hook = SignedWebhook(url, secret, "app-push")

    def send(self, message: Message) -> str:
        payload = {
            "id": f"notification-{message.id}",
            "recipient": message.to,
            "title": message.subject,
            "body": message.short,
            "data": dict(message.data),
            "language": message.language,
        }
        return self.hook.deliver(message, payload, gone=frozenset({404, 410}))
