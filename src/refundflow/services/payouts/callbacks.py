"""Gateway callbacks: verified by the adapter, deduplicated and applied here.

A callback is answered fast: one short transaction. Its event id is recorded first (the
unique index on (route, event_id) turns a duplicate into a no-op). A callback is matched to
the record it speaks of by our key (or the gateway's refund number); it never creates a
record, so a notification echoing a refund we started is not recorded twice, and one for a
refund made outside refundflow (the gateway's dashboard) is kept for finance as
``unmatched``. Its amount must equal our record's; otherwise nothing changes and finance
sees ``amount_mismatch``. Terminal states stay terminal: a late or reordered callback that
contradicts a final record is kept as ``conflict`` for finance, never applied.
"""

from __future__ import annotations

from refundflow.domain.money import Money
from refundflow.domain.payouts import PayoutRoute, RecordStatus, RefundRecord
from refundflow.domain.requests import RefundRequest
from refundflow.services.payouts.ports import CallbackEvent, Outcome
from refundflow.services.payouts.records import with_record
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory


def _find(uow: UnitOfWork, route: PayoutRoute, event: CallbackEvent) -> RefundRecord | None:
    record = uow.refunds.by_key(event.key) if event.key else None
    if record is None and event.reference:
        record = uow.refunds.by_reference(route.value, event.reference)
    return record if record is not None and record.route is route else None


def _expected(uow: UnitOfWork, record: RefundRecord, event: CallbackEvent) -> Money:
    """What the callback's amount should be: the record's, or for a gateway that reports the
    trade's total refunded, the sum of this payment's refunds that succeeded plus this one."""
    if not event.cumulative or record.payment_id is None:
        return record.amount
    total = record.amount
    for other in uow.refunds.for_order(record.order_id):
        if (
            other.id != record.id
            and other.payment_id == record.payment_id
            and other.route is record.route
            and other.status is RecordStatus.SUCCEEDED
        ):
            total = total + other.amount
    return total


def receive_callback(uows: UnitOfWorkFactory, route: PayoutRoute, event: CallbackEvent) -> str:
    """Apply a verified callback; return what became of it."""
    with uows() as uow:
        now = uow.now()
        row = uow.gateway_events.claim(route.value, event.event_id, now)
        if row is None:
            uow.commit()
            return "duplicate"
        record = _find(uow, route, event)
        if record is None:
            uow.gateway_events.settle(
                row, None, "unmatched", f"{event.outcome.value} {event.key or event.reference}"
            )
            uow.commit()
            return "unmatched"

        def change(_: RefundRequest, locked: RefundRecord) -> str:
            if event.amount is not None and event.amount != _expected(uow, locked, event):
                return "amount_mismatch"
            actor = f"{route.value} callback"
            open_ = locked.status in (RecordStatus.PENDING, RecordStatus.NEEDS_RECONCILIATION)
            if event.outcome is Outcome.SUCCEEDED:
                if open_:
                    locked.succeed(now, reference=event.reference, actor=actor)
                    return "applied"
                return "ignored" if locked.status is RecordStatus.SUCCEEDED else "conflict"
            if event.outcome is Outcome.FAILED:
                if open_:
                    locked.fail(
                        now, reason=f"the gateway reported failure ({event.event_id})", actor=actor
                    )
                    return "applied"
                return "ignored" if locked.status is RecordStatus.FAILED else "conflict"
            if event.reference and not locked.gateway_reference:
                locked.gateway_reference = event.reference
            return "ignored"  # processing: an older state, or news we have already

        outcome: str = with_record(uow, record.id, change)
        uow.gateway_events.settle(row, record.id, outcome, event.outcome.value)
        uow.commit()
    return outcome
