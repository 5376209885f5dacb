"""Stripe refunds through the official ``stripe`` library pointed at a configurable base
URL: ``POST /v1/refunds`` with ``Idempotency-Key`` = our key (and the key in the refund's
metadata), queried by listing the payment intent's refunds; webhooks verified with
``Stripe-Signature`` (HMAC-SHA256 over ``timestamp.body``) by ``stripe.Webhook``.

Stripe replays the first answer for a key for 24 hours, so a retry with the same key can
never create a second refund. It also replays a *failure*: a refund that failed at Stripe
stays failed under its key, so a retry on the same route ends the same way (switch route).
"""

from __future__ import annotations

from typing import Any

import stripe

from refundflow.adapters.gateways.config import StripeConfig
from refundflow.domain.money import Money
from refundflow.domain.payouts import PayoutRoute
from refundflow.services.payouts.ports import (
    CallbackEvent,
    ForgedCallbackError,
    GatewayResult,
    Outcome,
    RefundInstruction,
)

KEY_FIELD = "refundflow_key"
POLL_SECONDS = 60.0
STATES = {
    "succeeded": Outcome.SUCCEEDED,
    "failed": Outcome.FAILED,
    "canceled": Outcome.FAILED,
    "pending": Outcome.PROCESSING,
    "requires_action": Outcome.PROCESSING,
}


class StripeGateway:
    route = PayoutRoute.STRIPE

    def __init__(self, config: StripeConfig) -> None:
        self.config = config
        self.client = stripe.StripeClient(
            config.api_key,
            base_addresses={"api": config.base_url.rstrip("/")},
            max_network_retries=0,  # the worker retries, with the same key
            http_client=stripe.RequestsClient(timeout=config.timeout),
        )

    def _result(self, obj: Any, instruction: RefundInstruction) -> GatewayResult:
        refund: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        state = str(refund.get("status"))
        outcome = STATES.get(state, Outcome.UNKNOWN)
        amount = refund.get("amount")
        return GatewayResult(
            outcome,
            reference=refund.get("id"),
            amount=Money.from_minor(int(amount), instruction.amount.currency)
            if isinstance(amount, int)
            else None,
            detail=f"status {state}"
            + (f" ({refund.get('failure_reason')})" if refund.get("failure_reason") else ""),
            poll_after=POLL_SECONDS if outcome is Outcome.PROCESSING else None,
        )

    @staticmethod
    def _error(exc: Exception) -> GatewayResult:
        if isinstance(exc, stripe.RateLimitError):
            return GatewayResult(Outcome.TRANSIENT, detail="429 rate limited")
        if isinstance(exc, stripe.InvalidRequestError):
            return GatewayResult(Outcome.FAILED, detail=f"refused: {exc.user_message or exc}"[:300])
        if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
            return GatewayResult(Outcome.TRANSIENT, detail=f"credentials: {exc}"[:300])
        return GatewayResult(Outcome.UNKNOWN, detail=f"{type(exc).__name__}: {exc}"[:300])

    def refund(self, instruction: RefundInstruction) -> GatewayResult:
        try:
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": instruction.payment.reference or "",
                    "amount": instruction.amount.minor,
                    "metadata": {KEY_FIELD: instruction.key},
                },
                options={"idempotency_key": instruction.key},
            )
        except stripe.StripeError as exc:
            return self._error(exc)
        except (ValueError, TypeError, KeyError) as exc:
            return GatewayResult(Outcome.UNKNOWN, detail=f"unreadable answer: {exc}"[:300])
        return self._result(refund, instruction)

    def query(self, instruction: RefundInstruction) -> GatewayResult:
        try:
            page = self.client.v1.refunds.list(
                params={"payment_intent": instruction.payment.reference or "", "limit": 100}
            )
            for refund in page.data:
                data = refund.to_dict()
                if (data.get("metadata") or {}).get(KEY_FIELD) == instruction.key:
                    return self._result(refund, instruction)
        except stripe.StripeError as exc:
            return self._error(exc)
        except (ValueError, TypeError, KeyError) as exc:
            return GatewayResult(Outcome.UNKNOWN, detail=f"unreadable answer: {exc}"[:300])
        return GatewayResult(Outcome.NOT_FOUND, detail="no refund with this key")

    def parse_callback(self, headers: dict[str, str], body: bytes) -> CallbackEvent:
        signature = {k.lower(): v for k, v in headers.items()}.get("stripe-signature")
        if not self.config.webhook_secret:
            raise ForgedCallbackError("no Stripe webhook secret is configured")
        try:
            event = stripe.Webhook.construct_event(body, signature, self.config.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise ForgedCallbackError(f"the webhook does not verify: {exc}"[:200]) from None
        refund = event.to_dict()["data"]["object"]
        if refund.get("object") != "refund":
            return CallbackEvent(event.id, None, None, Outcome.PROCESSING)
        amount = refund.get("amount")
        return CallbackEvent(
            event_id=event.id,
            key=(refund.get("metadata") or {}).get(KEY_FIELD),
            reference=refund.get("id"),
            outcome=STATES.get(str(refund.get("status")), Outcome.PROCESSING),
            amount=Money.from_minor(int(amount), str(refund.get("currency", "usd")).upper())
            if isinstance(amount, int)
            else None,
        )

    @staticmethod
    def callback_answer(ok: bool) -> tuple[int, str, bytes]:
        return (
            (200, "application/json", b'{"received":true}')
            if ok
            else (400, "application/json", b'{"error":"signature"}')
        )
