"""The worker's side of a refund: one gateway call per attempt, and what its answer means.

Each delivery of a ``refund.due`` row runs three steps:

1. In a transaction: lock the request and the record; skip a record that is final; take the
   record's claim (``claimed_until``, so two workers never call a gateway for one record at
   the same time); count the attempt; log it. Commit.
2. Outside any transaction: call the gateway. If an earlier attempt may have reached it
   (``attempts > 0``), first *query* by the key; only a definite "not found" sends the
   refund again — with the same key, which the gateway deduplicates anyway.
3. In a transaction: apply the answer to the record through its chokepoint, move the request
   if its records say so, refresh the request's document, log the attempt's outcome.

A crash between any two steps leaves the record ``pending`` with its claim: the row's lease
runs out, another worker takes it, finds ``attempts > 0`` and queries first. After
``max_unknown`` attempts without a trusted answer the record becomes
``needs_reconciliation`` (finance's queue). ``RetryLaterError`` asks the outbox to bring the
row back later (capped exponential backoff with jitter, or the gateway's own delay).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from refundflow.domain.errors import RefundflowError
from refundflow.domain.payouts import PayoutRoute, RecordStatus, RefundRecord
from refundflow.domain.requests import RefundRequest
from refundflow.services import failpoints
from refundflow.services.payouts.execution import settle
from refundflow.services.payouts.ports import (
    GatewayNotConfiguredError,
    GatewayResult,
    Outcome,
    PaymentGateway,
    RefundInstruction,
)
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from refundflow.services.views import store_request


class RetryLaterError(RefundflowError):
    """The row should come back later; ``delay`` in seconds, or None for the backoff."""

    code = "retry_later"

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


def _lock_pair(uow: UnitOfWork, record_id: int) -> tuple[RefundRequest, RefundRecord] | None:
    """Lock the request, then the record (the order every writer takes them in)."""
    found = uow.refunds.get(record_id)
    if found is None:
        return None
    request = uow.requests.get(found.request_id, lock=True)
    record = uow.refunds.get(record_id, lock=True)
    assert request is not None and record is not None
    return request, record


def deliver_refund(
    uows: UnitOfWorkFactory,
    gateways: Mapping[PayoutRoute, PaymentGateway],
    record_id: int,
    *,
    worker: str,
    max_unknown: int = 5,
    lease: timedelta = timedelta(seconds=60),
) -> GatewayResult | None:
    """Make one attempt at ``record_id``; None when there was nothing to do."""
    with uows() as uow:
        pair = _lock_pair(uow, record_id)
        if pair is None or pair[1].status is not RecordStatus.PENDING:
            return None
        request, record = pair
        now = uow.now()
        if record.claimed_until is not None and record.claimed_until > now:
            raise RetryLaterError(
                f"refund {record.id} is being sent by another worker",
                (record.claimed_until - now).total_seconds(),
            )
        gateway = gateways.get(record.route)
        if gateway is None:
            raise GatewayNotConfiguredError(
                f"the {record.route.value} route is not configured: set its REFUNDFLOW_* "
                "settings (nothing was sent)"
            )
        ask_first = record.attempts > 0
        record.attempts += 1
        record.claimed_until = now + lease
        attempt = uow.refunds.start_attempt(
            record.id, "query" if ask_first else "refund", worker, now
        )
        instruction = RefundInstruction(
            record.id,
            record.idempotency_key,
            record.route,
            record.amount,
            uow.refunds.payment_facts(record),
            reason=request.reason,
            payout_account=record.payout_account,
        )
        uow.refunds.save(record)
        store_request(uow, request)
        uow.commit()
    failpoints.hit("refund.before_call")
    result = gateway.query(instruction) if ask_first else None
    if result is None or result.outcome is Outcome.NOT_FOUND:
        result = gateway.refund(instruction)
        if result.outcome is Outcome.NOT_FOUND:
            # Accepted, yet not found under our key: the key may be taken by someone else's
            # refund (two installations sharing a prefix). Never a reason to pay again.
            result = replace(
                result,
                outcome=Outcome.UNKNOWN,
                detail=f"the gateway accepted but cannot find it: {result.detail}",
            )
    failpoints.hit("refund.after_call")
    with uows() as uow:
        pair = _lock_pair(uow, record_id)
        assert pair is not None
        request, record = pair
        retry_in = apply_result(uow, request, record, result, attempt, max_unknown)
        uow.commit()
    failpoints.hit("refund.after_save")
    if retry_in is not None:
        raise RetryLaterError(
            f"refund {record_id}: {result.outcome.value} {result.detail}"[:500],
            retry_in if retry_in > 0 else None,
        )
    return result


def apply_result(
    uow: UnitOfWork,
    request: RefundRequest,
    record: RefundRecord,
    result: GatewayResult,
    attempt: int,
    max_unknown: int,
) -> float | None:
    """Apply a gateway answer; return when to come back (seconds, 0 = the backoff) or None."""
    now = uow.now()
    uow.refunds.finish_attempt(attempt, result.outcome.value, result.detail, now)
    record.claimed_until = None
    retry_in: float | None = None
    if record.status is not RecordStatus.PENDING:
        pass  # a callback or finance settled it meanwhile: terminal states stay terminal
    elif result.outcome is Outcome.SUCCEEDED:
        if result.amount is not None and result.amount != record.amount:
            record.escalate(
                now, reason=f"the gateway refunded {result.amount}, we asked {record.amount}"
            )
        else:
            record.succeed(now, reference=result.reference)
    elif result.outcome is Outcome.FAILED:
        record.fail(now, reason=result.detail or "refused by the gateway")
    elif result.outcome is Outcome.PROCESSING:
        if result.reference:
            record.gateway_reference = result.reference
        record.last_error = None
        retry_in = result.poll_after
    else:
        record.last_error = result.detail or result.outcome.value
        unknown = result.outcome is Outcome.UNKNOWN
        if unknown and uow.refunds.count_outcomes(record.id, Outcome.UNKNOWN.value) >= max_unknown:
            record.escalate(
                now, reason=f"no trusted answer after {max_unknown} attempts: {result.detail}"
            )
        else:
            retry_in = result.poll_after or 0
    record.updated_at = now
    uow.refunds.save(record)
    settle(uow, request, uow.refunds.for_request(request.id))
    store_request(uow, request)
    return retry_in
