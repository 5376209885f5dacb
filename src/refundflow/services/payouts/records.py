"""Record-level finance actions and queues: mark one record paid or failed, what needs a
person, and the helper that saves a record with its request (status and document)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from refundflow.domain.lifecycle import Action
from refundflow.domain.money import Money
from refundflow.domain.payouts import GATEWAY_ROUTES, RecordStatus, RefundRecord
from refundflow.domain.permissions import may
from refundflow.domain.requests import RefundRequest
from refundflow.services.payouts.execution import settle
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from refundflow.services.views import store_request


def actor_name(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id}" if actor.id else actor.kind.value


def require_finance(actor: Actor, what: str = "settle refunds") -> None:
    if not may(actor.role, Action.MARK_REFUNDED):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot {what}")


def with_record(
    uow: UnitOfWork, record_id: int, change: Callable[[RefundRequest, RefundRecord], Any]
) -> Any:
    """Lock the request then the record, apply ``change``, save both, settle the request."""
    found = uow.refunds.get(record_id)
    if found is None:
        raise NotFoundError(f"no refund {record_id}", details={"refund_id": record_id})
    request = uow.requests.get(found.request_id, lock=True)
    record = uow.refunds.get(record_id, lock=True)
    assert request is not None and record is not None
    result = change(request, record)
    uow.refunds.save(record)
    settle(uow, request, uow.refunds.for_request(request.id))
    store_request(uow, request)
    return result


def _check_settleable(record: RefundRecord, what: str) -> None:
    if record.status not in (RecordStatus.PENDING, RecordStatus.NEEDS_RECONCILIATION):
        raise ConflictError(
            f"refund {record.id} is {record.status.value}; only an open refund can be marked "
            f"{what}",
            details={"refund_id": record.id, "status": record.status.value},
        )
    if record.route in GATEWAY_ROUTES and record.in_doubt:
        raise ConflictError(
            f"refund {record.id} was sent to {record.route.value} and its answer is not in yet",
            details={"refund_id": record.id},
        )


def mark_paid(
    uows: UnitOfWorkFactory, record_id: int, reference: str, actor: Actor
) -> dict[str, Any]:
    """Finance confirms one record paid (a bank transfer with its bank reference)."""
    require_finance(actor)
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInputError("reference is required", details={"field": "reference"})
    with uows() as uow:
        now = uow.now()

        def change(_: RefundRequest, record: RefundRecord) -> None:
            _check_settleable(record, "paid")
            record.succeed(
                now, reference=reference, actor=actor_name(actor), reason="marked paid by finance"
            )

        with_record(uow, record_id, change)
        view = record_view(uow, record_id)
        uow.commit()
    return view


def mark_failed(
    uows: UnitOfWorkFactory, record_id: int, reason: str, actor: Actor
) -> dict[str, Any]:
    require_finance(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInputError("reason is required", details={"field": "reason"})
    with uows() as uow:
        now = uow.now()

        def change(_: RefundRequest, record: RefundRecord) -> None:
            _check_settleable(record, "failed")
            record.fail(now, reason=reason, actor=actor_name(actor))

        with_record(uow, record_id, change)
        view = record_view(uow, record_id)
        uow.commit()
    return view


def record_view(uow: UnitOfWork, record_id: int) -> dict[str, Any]:
    record = uow.refunds.get(record_id)
    if record is None:
        raise NotFoundError(f"no refund {record_id}", details={"refund_id": record_id})
    return {
        **record.as_view(),
        "request_id": record.request_id,
        "payout_account": record.payout_account,
        "payout_batch_id": record.payout_batch_id,
        "attempt_log": uow.refunds.attempts_of(record_id),
    }


def get_record(uows: UnitOfWorkFactory, record_id: int, actor: Actor) -> dict[str, Any]:
    require_finance(actor, "read refunds")
    with uows(write=False) as uow:
        return record_view(uow, record_id)


def finance_queue(uows: UnitOfWorkFactory, actor: Actor) -> dict[str, Any]:
    """What needs a person: records to reconcile, failed ones, bank transfers to pay, and
    callbacks that matched nothing or disagreed with our records."""
    require_finance(actor, "read the payout queue")
    with uows(write=False) as uow:
        reconcile = uow.refunds.in_status([RecordStatus.NEEDS_RECONCILIATION])
        failed = [r for r in uow.refunds.in_status([RecordStatus.FAILED]) if r.is_live]
        bank = uow.refunds.in_status([RecordStatus.PENDING], route="bank_transfer")
        events = uow.gateway_events.unmatched()
    return {
        "needs_reconciliation": [r.as_view() for r in reconcile],
        "failed": [r.as_view() for r in failed],
        "bank_transfers_to_pay": [r.as_view() for r in bank],
        "callbacks_to_check": events,
    }


def finance_desk(uows: UnitOfWorkFactory, actor: Actor) -> dict[str, Any]:
    """The finance screen's payout part: the queue, the latest bank batches and the latest
    reconciliation runs."""
    queue = finance_queue(uows, actor)
    with uows(write=False) as uow:
        batches = uow.refunds.recent_batches()
        runs = uow.gateway_events.recent_runs()
    for batch in batches:
        batch["total"] = Money.from_minor(batch.pop("total_minor"), batch["currency"]).text()
    for row in (*batches, *runs):
        row["created_at"] = row["created_at"].isoformat()
    return {**queue, "batches": batches, "runs": runs}
