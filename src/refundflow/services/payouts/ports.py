"""The ``PaymentGateway`` port and the values that cross it.

Adapters (``refundflow.adapters.gateways``) speak each gateway's protocol; the use cases see
only these types. A gateway answer is one of:

- ``succeeded`` / ``failed``: final, the gateway said so (signature checked);
- ``processing``: the gateway has the refund and will finish it later (WeChat Pay, Stripe
  ``pending``, a bank transfer waiting for finance's batch); ask again or wait for a callback;
- ``not_found``: a query found no refund under the key: nothing was refunded;
- ``unknown``: the call may or may not have reached the gateway (timeout, reset, 5xx, a body
  we cannot read or whose signature fails): only the same key may be sent again;
- ``transient``: refused before processing (429, not configured): try again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from refundflow.domain.errors import RefundflowError
from refundflow.domain.money import Money
from refundflow.domain.payouts import PayoutRoute


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PROCESSING = "processing"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"
    TRANSIENT = "transient"


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """What a gateway needs to know about the payment a record refunds."""

    method: str | None
    reference: str | None  # the gateway's trade / transaction / payment-intent id
    captured: Money | None
    order_no: str
    customer_id: int
    request_number: str


@dataclass(frozen=True, slots=True)
class RefundInstruction:
    record_id: int
    key: str
    route: PayoutRoute
    amount: Money
    payment: PaymentFacts
    reason: str = ""
    payout_account: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class GatewayResult:
    outcome: Outcome
    reference: str | None = None
    amount: Money | None = None
    detail: str = ""
    poll_after: float | None = None  # seconds; None: do not poll (a callback or finance ends it)


class PaymentGateway(Protocol):
    """One refund route. ``refund`` sends the record (same key every time); ``query`` asks
    what became of it."""

    route: PayoutRoute

    def refund(self, instruction: RefundInstruction) -> GatewayResult: ...

    def query(self, instruction: RefundInstruction) -> GatewayResult: ...


class GatewayNotConfiguredError(RefundflowError):
    code = "gateway_not_configured"


class ForgedCallbackError(RefundflowError):
    """A callback whose signature does not verify (or that cannot be read): ignored."""

    code = "bad_signature"


@dataclass(frozen=True, slots=True)
class CallbackEvent:
    """A gateway's notification about one refund, after its signature was verified."""

    event_id: str
    key: str | None
    reference: str | None
    outcome: Outcome
    amount: Money | None = None
    cumulative: bool = False  # Alipay reports the trade's total refunded, not this refund
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatementRow:
    """One refund line of a gateway's statement."""

    key: str | None
    reference: str | None
    amount: Money
    succeeded: bool
    at: datetime | None = None
