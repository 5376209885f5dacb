"""Reconciliation: a gateway's statement matched against our records.

Each refund line of the statement is matched by our key (``out_request_no``,
``out_refund_no``, Stripe metadata) or by the gateway's refund number:

- ``matched``: same amount; a record of ours still open (in doubt, or waiting for
  reconciliation) is settled as succeeded by it — the statement is the gateway's word;
- ``amount_mismatch``: same refund, different amount; nothing changes;
- ``status_mismatch``: the gateway refunded what we hold as failed; nothing changes;
- ``missing_ours``: a refund we have no record of (made in the gateway's dashboard);
- ``missing_theirs``: a record we hold as succeeded, completed within the statement's
  period, that the statement does not list.

Mismatches are listed for finance and stored with the run; nothing here ever issues a
refund, so a mismatch can never be "repaired" by paying again.
"""

from __future__ import annotations

from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.payouts import PayoutRoute, RecordStatus, RefundRecord
from refundflow.domain.requests import RefundRequest
from refundflow.services.payouts.ports import StatementRow
from refundflow.services.payouts.records import actor_name, require_finance, with_record
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory


def _find(uow: UnitOfWork, route: PayoutRoute, row: StatementRow) -> RefundRecord | None:
    record = uow.refunds.by_key(row.key) if row.key else None
    if record is None and row.reference:
        record = uow.refunds.by_reference(route.value, row.reference)
    return record if record is not None and record.route is route else None


def _item(
    kind: str, record: RefundRecord | None, row: StatementRow | None, detail: str = ""
) -> dict[str, Any]:
    amount = row.amount if row is not None else (record.amount if record else None)
    return {
        "kind": kind,
        "refund_id": record.id if record else None,
        "reference": (row.reference or row.key)
        if row is not None
        else record and (record.gateway_reference or record.idempotency_key),
        "currency": amount.currency if amount else None,
        "ours_minor": record.amount.minor if record else None,
        "theirs_minor": row.amount.minor if row is not None else None,
        "detail": detail,
    }


def reconcile(
    uows: UnitOfWorkFactory,
    route: PayoutRoute,
    rows: list[StatementRow],
    *,
    source: str,
    actor: Actor,
) -> dict[str, Any]:
    require_finance(actor, "reconcile statements")
    items: list[dict[str, Any]] = []
    resolved: list[int] = []
    with uows() as uow:
        now = uow.now()
        seen: set[int] = set()
        for row in rows:
            if not row.succeeded:
                continue
            record = _find(uow, route, row)
            if record is None:
                items.append(_item("missing_ours", None, row, "not refunded through refundflow"))
                continue
            seen.add(record.id)
            if row.amount != record.amount:
                items.append(_item("amount_mismatch", record, row))
                continue
            if record.status is RecordStatus.FAILED:
                items.append(_item("status_mismatch", record, row, "we hold it as failed"))
                continue
            if record.status is not RecordStatus.SUCCEEDED:

                def change(_: RefundRequest, locked: RefundRecord, r: StatementRow = row) -> None:
                    if locked.status in (RecordStatus.PENDING, RecordStatus.NEEDS_RECONCILIATION):
                        locked.succeed(
                            now,
                            reference=r.reference,
                            actor=actor_name(actor),
                            reason=f"reconciled from {source}",
                        )

                with_record(uow, record.id, change)
                resolved.append(record.id)
            items.append(_item("matched", record, row))
        times = [row.at for row in rows if row.at is not None]
        if times:
            for record in uow.refunds.completed_between(route.value, min(times), max(times)):
                if record.id not in seen:
                    items.append(_item("missing_theirs", record, None, "not in the statement"))
        summary: dict[str, Any] = {"rows": len(rows)}
        for kind in (
            "matched",
            "amount_mismatch",
            "status_mismatch",
            "missing_ours",
            "missing_theirs",
        ):
            summary[kind] = sum(1 for item in items if item["kind"] == kind)
        summary["resolved"] = resolved
        run_id = uow.gateway_events.add_run(
            route.value, source, summary, items, actor_name(actor), now
        )
        uow.commit()
    return {
        "run_id": run_id,
        "route": route.value,
        "summary": summary,
        "mismatches": [item for item in items if item["kind"] != "matched"],
    }
