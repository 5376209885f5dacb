"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291),
through ``pywebpush``: for customers who allowed notifications on the portal.

The push service answers 201 with the message's URL in ``Location`` (the reference); 404 and
410 mean the subscription is gone (it is revoked); 429 and 5xx are retried.
"""

from __future__ import annotations

import base64
import json

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from refundflow.adapters.channels.http import TIMEOUT
from refundflow.services.notifications.ports import (
    Message,
    PermanentChannelError,
    RetryableChannelError,
)


def load_vapid(private_key: str) -> Vapid02:
    """A VAPID key from PEM text, or from base64url (raw 32 bytes or DER)."""
    if "-----BEGIN" in private_key:
        return Vapid02.from_pem(private_key.encode())
    return Vapid02.from_string(private_key)


def application_server_key(vapid: Vapid02) -> str:
    """The public key browsers subscribe with (``applicationServerKey``), base64url."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class WebPushChannel:
    def __init__(self, private_key: str, subject: str, *, ttl: int = 86_400) -> None:
        self.vapid = load_vapid(private_key)
        self.subject = subject
        self.ttl = ttl

    def send(self, message: Message) -> str:
        payload = json.dumps(
            {"title": message.subject, "body": message.short, "data": dict(message.data)},
            ensure_ascii=False,
        )
        try:
            response = webpush(
                subscription_info={"endpoint": message.to, "keys": dict(message.keys)},
                data=payload,
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},  # a new dict: pywebpush adds aud and exp
                ttl=self.ttl,
                timeout=TIMEOUT,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            detail = f"Web Push: {exc.message}"
            if status is None or status in (408, 429) or status >= 500:
                raise RetryableChannelError(detail) from None
            raise PermanentChannelError(detail, gone=status in (404, 410)) from None
        except requests.RequestException as exc:
            raise RetryableChannelError(f"Web Push: {type(exc).__name__}: {exc}") from None
        assert isinstance(response, requests.Response)
        return response.headers.get("Location") or f"webpush:{response.status_code}"
