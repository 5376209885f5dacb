"""Refund records: the money of one approved request on its way back, one record per route
and payment, and the one place a record's status changes.

A record is created when a request is executed and is never deleted. Its idempotency key
is derived from its id (``refund_key``) and never changes: every call to a gateway for the
record, first try or retry after a crash, carries the same key (Alipay ``out_request_no``,
WeChat Pay ``out_refund_no``, Stripe ``Idempotency-Key``), so the gateway refunds it at most
once. ``RefundRecord._move`` checks ``RECORD_TRANSITIONS``; nothing else assigns ``status``.

- ``pending``: created, or sent and not yet confirmed; the worker owns it.
- ``succeeded``: the gateway (or finance, with a reference) confirmed the money went back.
- ``failed``: the gateway said definitely not refunded; finance may retry (same record, same
  key) or switch route (a new record replaces this one).
- ``needs_reconciliation``: the outcome stayed unknown after the allowed attempts; finance
  settles it from the gateway's statement (never by refunding again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from refundflow.domain.errors import ConflictError, IllegalTransitionError
from refundflow.domain.money import Money


class RecordStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NEEDS_RECONCILIATION = "needs_reconciliation"


class PayoutRoute(StrEnum):
    """How a record's money travels (a request's ``original`` route becomes the route of
    each payment's method)."""

    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    STRIPE = "stripe"
    BANK_TRANSFER = "bank_transfer"
    STORE_CREDIT = "store_credit"
    E_WALLET = "e_wallet"


GATEWAY_ROUTES = frozenset({PayoutRoute.ALIPAY, PayoutRoute.WECHAT_PAY, PayoutRoute.STRIPE})
LEDGER_ROUTES = frozenset({PayoutRoute.STORE_CREDIT, PayoutRoute.E_WALLET})

R = RecordStatus
RECORD_TRANSITIONS: dict[RecordStatus, frozenset[RecordStatus]] = {
    R.PENDING: frozenset({R.SUCCEEDED, R.FAILED, R.NEEDS_RECONCILIATION}),
    R.NEEDS_RECONCILIATION: frozenset({R.SUCCEEDED, R.FAILED}),
    R.FAILED: frozenset({R.PENDING}),  # a retry: same record, same key
    R.SUCCEEDED: frozenset(),
}
FINAL: frozenset[RecordStatus] = frozenset({R.SUCCEEDED, R.FAILED, R.NEEDS_RECONCILIATION})


def refund_key(record_id: int, prefix: str = "rf") -> str:
    """The idempotency key of record ``record_id``: derived from the id alone, so that every
    attempt, by any worker, before or after any crash, sends the same key. Letters and
    digits only, under 32 characters: valid for Alipay, WeChat Pay and Stripe alike."""
    if record_id <= 0:
        raise ValueError("a record id is positive")
    return f"{prefix}{record_id:012d}"


@dataclass(frozen=True, slots=True)
class RecordChange:
    at: datetime
    from_status: RecordStatus
    to_status: RecordStatus
    reason: str | None
    actor: str


@dataclass(slots=True)
class RefundRecord:
    """One refund of ``amount`` from payment ``payment_id`` of the request's order by
    ``route``."""

    id: int
    request_id: int
    order_id: int
    payment_id: int | None
    route: PayoutRoute
    amount: Money
    status: RecordStatus
    idempotency_key: str
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    gateway_reference: str | None = None
    payout_account: dict[str, str] | None = None
    payout_batch_id: int | None = None
    replaced_by: int | None = None
    last_error: str | None = None
    completed_at: datetime | None = None
    claimed_until: datetime | None = None
    changes: list[RecordChange] = field(default_factory=list)

    # ------------------------------------------------------------------ views
    @property
    def is_live(self) -> bool:
        """Not replaced by a record on another route."""
        return self.replaced_by is None

    @property
    def holds_payment(self) -> bool:
        """Whether this record's amount counts against its payment's captured money: every
        record does until another one replaces it (a failed record may still be retried)."""
        return self.replaced_by is None

    @property
    def in_doubt(self) -> bool:
        """Sent at least once with no answer we trust yet: only the gateway knows."""
        return self.status is RecordStatus.PENDING and self.attempts > 0

    # ------------------------------------------------------------------ the chokepoint
    def _move(self, to: RecordStatus, at: datetime, reason: str | None, actor: str) -> None:
        if to not in RECORD_TRANSITIONS[self.status]:
            raise IllegalTransitionError(
                f"refund {self.id} is {self.status.value} and cannot become {to.value}",
                details={"refund_id": self.id, "status": self.status.value, "to": to.value},
            )
        self.changes.append(RecordChange(at, self.status, to, reason, actor))
        self.status = to
        self.updated_at = at
        self.completed_at = at if to in FINAL else None

    def succeed(
        self, at: datetime, *, reference: str | None, actor: str = "system", reason: str = ""
    ) -> None:
        if reference:
            self.gateway_reference = reference
        self.last_error = None
        self._move(RecordStatus.SUCCEEDED, at, reason or None, actor)

    def fail(self, at: datetime, *, reason: str, actor: str = "system") -> None:
        self.last_error = reason
        self._move(RecordStatus.FAILED, at, reason, actor)

    def escalate(self, at: datetime, *, reason: str) -> None:
        """Too many unknown outcomes: finance reconciles it from the statement."""
        self.last_error = reason
        self._move(RecordStatus.NEEDS_RECONCILIATION, at, reason, "system")

    def reopen(self, at: datetime, *, actor: str, reason: str | None = None) -> None:
        """A retry of a failed record: the same record and key go to the worker again."""
        self._move(RecordStatus.PENDING, at, reason, actor)

    def replace(self, new_record_id: int, at: datetime) -> None:
        """Switching route: only a record that definitely failed may be replaced."""
        if self.status is not RecordStatus.FAILED or self.replaced_by is not None:
            raise ConflictError(
                f"refund {self.id} is {self.status.value}: only a failed refund can be "
                "replaced by one on another route",
                details={"refund_id": self.id, "status": self.status.value},
            )
        self.replaced_by = new_record_id
        self.updated_at = at

    def as_view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "route": self.route.value,
            "amount": self.amount.text(),
            "currency": self.amount.currency,
            "status": self.status.value,
            "idempotency_key": self.idempotency_key,
            "gateway_reference": self.gateway_reference,
            "attempts": self.attempts,
            "payment_id": self.payment_id,
            "replaced_by": self.replaced_by,
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
        }


def all_succeeded(records: list[RefundRecord]) -> bool:
    live = [r for r in records if r.is_live]
    return all(r.status is RecordStatus.SUCCEEDED for r in live)


def any_failed(records: list[RefundRecord]) -> bool:
    return any(r.status is RecordStatus.FAILED for r in records if r.is_live)
