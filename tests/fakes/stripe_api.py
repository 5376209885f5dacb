"""A local Stripe API: ``POST /v1/refunds`` (form-encoded, ``Idempotency-Key`` replayed for
the same parameters, refused for different ones) and ``GET /v1/refunds?payment_intent=…``.

It checks the secret key, refuses refunds past the payment intent's captured amount, and
sends webhooks signed the way Stripe does (``Stripe-Signature: t=…,v1=HMAC-SHA256``).
``fail`` makes the refund itself fail (``status: failed``), and Stripe replays that failure
for the same key, as the real one does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.fakes.base import FakeGateway, Refund


class FakeStripe(FakeGateway):
    name = "stripe"

    def __init__(self) -> None:
        super().__init__()
        self.api_key = "sk_test_" + secrets.token_hex(12)
        self.webhook_secret = "whsec_" + secrets.token_hex(16)
        self.replays: dict[str, tuple[str, int, bytes]] = {}  # key → (params, status, body)

    def settings_env(self, timeout: float = 1.0) -> dict[str, str]:
        return {
            "REFUNDFLOW_STRIPE_API_KEY": self.api_key,
            "REFUNDFLOW_STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "REFUNDFLOW_STRIPE_BASE_URL": self.url,
            "REFUNDFLOW_GATEWAY_TIMEOUT_SECONDS": str(timeout),
        }

    @staticmethod
    def _object(refund: Refund) -> dict[str, Any]:
        return {
            "id": refund.refund_id,
            "object": "refund",
            "amount": refund.amount_minor,
            "currency": "usd",
            "payment_intent": refund.trade,
            "status": refund.status,
            "failure_reason": refund.extra.get("failure_reason"),
            "metadata": {"refundflow_key": refund.key},
            "created": int(refund.created_at),
        }

    def _json(self, status: int, content: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return (
            status,
            {"Content-Type": "application/json", "Request-Id": "req_" + uuid.uuid4().hex},
            (json.dumps(content).encode()),
        )

    def handle(
        self, handler: BaseHTTPRequestHandler, method: str, path: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            self.bad_requests.append(path)
            return self._json(
                401,
                {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}},
            )
        url = urlsplit(path)
        op = "refund" if method == "POST" else "query"
        fault = self.next_fault(op)
        if fault == "5xx":
            return 502, {"Content-Type": "text/html"}, b"<html>502 Bad Gateway</html>"
        if fault == "429":
            return self._json(
                429,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "rate_limit",
                        "message": "Too many requests",
                    }
                },
            )
        if method == "POST" and url.path == "/v1/refunds":
            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
            key = handler.headers.get("Idempotency-Key") or ""
            status, content = self._refund(params, key, fail=fault == "fail")
        elif method == "GET" and url.path == "/v1/refunds":
            query = dict(parse_qsl(url.query))
            with self.lock:
                data = [
                    self._object(r)
                    for r in self.refunds.values()
                    if r.trade == query.get("payment_intent")
                ]
            status, content = (
                200,
                {"object": "list", "data": data, "has_more": False, "url": "/v1/refunds"},
            )
        else:
            status, content = (
                404,
                {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}},
            )
        self.after_processing(fault)
        if fault == "malformed":
            return 200, {"Content-Type": "application/json"}, b'{"id": "re_'
        return self._json(status, content)

    def _refund(
        self, params: dict[str, str], key: str, *, fail: bool
    ) -> tuple[int, dict[str, Any]]:
        canonical = json.dumps(params, sort_keys=True)
        with self.lock:
            if key in self.replays:
                seen, status, stored = self.replays[key]
                self.calls[key] += 1
                if seen != canonical:
                    return 400, {
                        "error": {
                            "type": "idempotency_error",
                            "message": "Keys for idempotent requests can only be used with "
                            "the same parameters they were first used with.",
                        }
                    }
                return status, json.loads(stored)
            trade = params.get("payment_intent", "")
            amount = int(params.get("amount", "0"))
            captured = self.trades.get(trade)
            if captured is None:
                status, content = (
                    400,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "resource_missing",
                            "message": f"No such payment_intent: '{trade}'",
                        }
                    },
                )
            elif self.refunded_minor(trade) + amount > captured:
                status, content = (
                    400,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "amount_too_large",
                            "message": "Refund amount is greater than unrefunded amount on charge",
                        }
                    },
                )
            else:
                refund, _ = self.process(
                    key,
                    trade,
                    amount,
                    lambda: Refund(
                        key,
                        trade,
                        amount,
                        "failed" if fail else "succeeded",
                        "re_" + uuid.uuid4().hex[:24],
                        extra={"failure_reason": "expired_or_canceled_card"} if fail else {},
                    ),
                )
                status, content = 200, self._object(refund)
            if key:
                self.calls[key] += 0 if status == 200 else 1
                self.replays[key] = (canonical, status, json.dumps(content).encode())
            return status, content

    # ------------------------------------------------------------------ webhooks
    def event(
        self,
        key: str,
        *,
        event_id: str | None = None,
        status: str | None = None,
        forged: bool = False,
    ) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            refund = self.refunds[key]
            obj = self._object(refund)
        if status is not None:
            obj["status"] = status
        payload = json.dumps(
            {
                "id": event_id or "evt_" + uuid.uuid4().hex[:24],
                "object": "event",
                "api_version": "2024-06-20",
                "created": int(time.time()),
                "type": "refund.updated",
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": key},
                "data": {"object": obj},
            }
        ).encode()
        timestamp = str(int(time.time()))
        secret = ("whsec_forged" if forged else self.webhook_secret).encode()
        signature = hmac.new(secret, f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
        return payload, {
            "Content-Type": "application/json",
            "Stripe-Signature": f"t={timestamp},v1={signature}",
        }

    def notify(self, url: str, key: str, **kwargs: Any) -> httpx.Response:
        payload, headers = self.event(key, **kwargs)
        return httpx.post(url, content=payload, headers=headers, timeout=10)
