"""Execute, retry, mark-refunded and mark-failed: the request-level payout actions.

``execute`` allocates the approved amount over the order's payments under the order's row
lock (per payment: succeeded + in-flight ≤ captured), writes one record per part and one
``refund.due`` outbox row per record, and moves the request to ``refunding`` — all in the
transaction of ``actions.perform``. A worker then calls the gateways (``delivery``).

The request follows its records (``settle``): every live record succeeded → ``refunded``
(actor system); no record still pending and one failed → ``refund_failed``. Records in
``needs_reconciliation`` keep the request in ``refunding`` until finance settles them.

What finance's request-level actions do now:
- ``mark-refunded`` (reference required): finance confirms that the money of every open
  record went back (a bank transfer paid, a record finance found refunded in the gateway's
  statement). Refused for a gateway record in doubt (sent, no trusted answer yet): only the
  gateway knows, so finance waits for its answer or for ``needs_reconciliation``.
- ``mark-failed`` (reason required): finance declares the open records failed (the bank
  returned the transfer; the statement shows no refund). Same refusal for records in doubt.
- ``retry`` (optional ``route``): failed records go back to the worker with the same key,
  or, with another route, each is replaced by a new record (new key) on that route.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from refundflow.domain.actors import Actor
from refundflow.domain.allocation import AllocationRule, allocate
from refundflow.domain.errors import ConflictError, InvalidInputError
from refundflow.domain.events import DomainEvent
from refundflow.domain.lifecycle import Action, Status
from refundflow.domain.money import Money
from refundflow.domain.payouts import (
    GATEWAY_ROUTES,
    PayoutRoute,
    RecordStatus,
    RefundRecord,
    all_succeeded,
    refund_key,
)
from refundflow.domain.requests import RefundRequest
from refundflow.services.unit_of_work import UnitOfWork

REFUND_DUE = "refund.due"


@dataclass(frozen=True, slots=True)
class PayoutOptions:
    """The merchant's payout settings the use cases need."""

    rule: AllocationRule = field(default_factory=AllocationRule)
    key_prefix: str = "rf"


def refund_due(record: RefundRecord) -> DomainEvent:
    """The outbox row that hands ``record`` to a worker."""
    return DomainEvent(
        REFUND_DUE,
        f"refund:{record.id}",
        record.updated_at,
        {"refund_id": record.id, "request_id": record.request_id, "route": record.route.value},
    )


def _actor_name(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id}" if actor.id else actor.kind.value


def _new_record(
    uow: UnitOfWork,
    request: RefundRequest,
    payment_id: int | None,
    route: PayoutRoute,
    amount: Money,
    options: PayoutOptions,
    account: dict[str, str] | None,
) -> RefundRecord:
    now = uow.now()
    record_id = uow.refunds.next_id()
    record = RefundRecord(
        id=record_id,
        request_id=request.id,
        order_id=request.order_id,
        payment_id=payment_id,
        route=route,
        amount=amount,
        status=RecordStatus.PENDING,
        idempotency_key=refund_key(record_id, options.key_prefix),
        created_at=now,
        updated_at=now,
        payout_account=account if route is PayoutRoute.BANK_TRANSFER else None,
    )
    uow.refunds.add(record)
    request.events.append(refund_due(record))
    return record


def execute(
    uow: UnitOfWork,
    request: RefundRequest,
    actor: Actor,
    options: PayoutOptions,
    account: dict[str, str] | None = None,
) -> list[RefundRecord]:
    """Move ``request`` to ``refunding`` and write its records (the caller holds the
    request's row lock; this takes the order's)."""
    now = uow.now()
    request.execute(actor, now)
    order = uow.orders.get_by_id(request.order_id, lock=True)
    assert order is not None
    amount = request.amount_approved or request.amount_requested
    parts = allocate(
        amount,
        order.payments,
        uow.refunds.used_by_payment(order.id or 0),
        request.refund_route,
        options.rule,
    )
    records = [
        _new_record(uow, request, part.payment.id, part.route, part.amount, options, account)
        for part in parts
    ]
    settle(uow, request, records)
    return records


def retry(
    uow: UnitOfWork,
    request: RefundRequest,
    actor: Actor,
    options: PayoutOptions,
    *,
    route: PayoutRoute | None,
    reason: str | None,
    account: dict[str, str] | None = None,
) -> list[RefundRecord]:
    """Send the failed records again: the same records and keys, or new records on ``route``
    that replace them (a failed record is definitely not refunded, so a new key is safe)."""
    now = uow.now()
    request.retry(actor, now, reason=reason)
    uow.orders.get_by_id(request.order_id, lock=True)  # the per-payment cap's lock
    records = uow.refunds.for_request(request.id, lock=True)
    failed = [r for r in records if r.is_live and r.status is RecordStatus.FAILED]
    if not failed:
        raise ConflictError("this request has no failed refund to retry")
    who = _actor_name(actor)
    for record in failed:
        if route is None or route is record.route:
            record.reopen(now, actor=who, reason=reason)
            if account and record.route is PayoutRoute.BANK_TRANSFER:
                record.payout_account = account
            record.payout_batch_id = None
            uow.refunds.save(record)
            request.events.append(refund_due(record))
        else:
            new = _new_record(
                uow, request, record.payment_id, route, record.amount, options, account
            )
            record.replace(new.id, now)
            uow.refunds.save(record)
            records.append(new)
    return records


def _open_records(uow: UnitOfWork, request: RefundRequest, what: str) -> list[RefundRecord]:
    records = uow.refunds.for_request(request.id, lock=True)
    open_ = [
        r
        for r in records
        if r.is_live and r.status in (RecordStatus.PENDING, RecordStatus.NEEDS_RECONCILIATION)
    ]
    for record in open_:
        if record.route in GATEWAY_ROUTES and record.in_doubt:
            raise ConflictError(
                f"refund {record.id} was sent to {record.route.value} and its answer is not in "
                f"yet: wait for it (or for needs_reconciliation) before marking it {what}",
                details={"refund_id": record.id, "attempts": record.attempts},
            )
    return open_


def mark_refunded(
    uow: UnitOfWork, request: RefundRequest, actor: Actor, reference: str | None
) -> None:
    request.check(Action.MARK_REFUNDED)
    if not reference or not reference.strip():
        raise InvalidInputError(
            "mark-refunded needs the reference of the payment that sent the money back "
            "(bank reference or gateway refund number)",
            details={"field": "reference"},
        )
    now = uow.now()
    for record in _open_records(uow, request, "paid"):
        record.succeed(
            now,
            reference=reference.strip(),
            actor=_actor_name(actor),
            reason="marked paid by finance",
        )
        uow.refunds.save(record)
    request.mark_refunded(actor, now, reference=reference)


def mark_failed(uow: UnitOfWork, request: RefundRequest, actor: Actor, reason: str | None) -> None:
    request.check(Action.MARK_FAILED)
    if not reason or not reason.strip():
        raise InvalidInputError("reason is required", details={"field": "reason"})
    now = uow.now()
    for record in _open_records(uow, request, "failed"):
        record.fail(now, reason=reason or "", actor=_actor_name(actor))
        uow.refunds.save(record)
    request.mark_failed(actor, now, reason=reason)


def settle(uow: UnitOfWork, request: RefundRequest, records: list[RefundRecord]) -> None:
    """Move a ``refunding`` request where its records say (actor: system)."""
    if request.status is not Status.REFUNDING:
        return
    live = [r for r in records if r.is_live]
    now = uow.now()
    if all_succeeded(live):
        references = ", ".join(sorted({r.gateway_reference or r.idempotency_key for r in live}))
        request.mark_refunded(Actor.system(), now, reference=references[:128] or None)
    elif not any(r.status is RecordStatus.PENDING for r in live) and any(
        r.status is RecordStatus.FAILED for r in live
    ):
        reasons = "; ".join(
            f"{r.route.value}: {r.last_error or 'failed'}"
            for r in live
            if r.status is RecordStatus.FAILED
        )
        request.mark_failed(Actor.system(), now, reason=reasons[:500])
