"""Bank transfers: finance exports a payout batch (CSV), pays it at the bank, then marks each
record paid with the bank's reference or imports the bank's result file.

A record goes into one batch only (its ``payout_batch_id`` is set under its lock), so the
same refund cannot be sent to the bank twice by exporting twice; the batch file can be
downloaded again as it was. The bank file's ``reference`` column carries our idempotency
key, which the result file echoes back.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import InvalidInputError, NotFoundError
from refundflow.domain.money import Money
from refundflow.domain.payouts import PayoutRoute, RecordStatus, RefundRecord
from refundflow.domain.requests import RefundRequest
from refundflow.services.payouts.records import (
    _check_settleable,
    actor_name,
    require_finance,
    with_record,
)
from refundflow.services.unit_of_work import UnitOfWorkFactory

BATCH_COLUMNS = [
    "reference",
    "refund_id",
    "request_number",
    "amount",
    "currency",
    "account_name",
    "bank_name",
    "account_no",
]
RESULT_COLUMNS = ["reference", "status", "bank_reference", "amount", "reason"]


def export_batch(uows: UnitOfWorkFactory, actor: Actor, currency: str = "CNY") -> dict[str, Any]:
    """A CSV of every pending bank-transfer record with an account and no batch yet."""
    require_finance(actor, "export payout batches")
    with uows() as uow:
        now = uow.now()
        candidates = [
            r
            for r in uow.refunds.in_status([RecordStatus.PENDING], route=PayoutRoute.BANK_TRANSFER)
            if r.payout_batch_id is None and r.amount.currency == currency
        ]
        missing = [r.id for r in candidates if not r.payout_account]
        chosen = [r for r in candidates if r.payout_account]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(BATCH_COLUMNS)
        total = Money.zero(currency)
        numbers: dict[int, str] = {}
        for record in chosen:
            if record.request_id not in numbers:
                numbers[record.request_id] = uow.refunds.payment_facts(record).request_number
            account = record.payout_account or {}
            writer.writerow(
                [
                    record.idempotency_key,
                    record.id,
                    numbers[record.request_id],
                    record.amount.text(),
                    currency,
                    account.get("account_name", ""),
                    account.get("bank_name", ""),
                    account.get("account_no", ""),
                ]
            )
            total = total + record.amount
        body = out.getvalue()
        batch_id = None
        if chosen:
            batch_id = uow.refunds.add_batch(
                currency, len(chosen), total.minor, body, actor_name(actor), now
            )
            for record in chosen:

                def change(_: RefundRequest, locked: RefundRecord, b: int = batch_id) -> None:
                    locked.payout_batch_id = b
                    locked.attempts += 1
                    locked.updated_at = now

                with_record(uow, record.id, change)
        uow.commit()
    return {
        "batch_id": batch_id,
        "count": len(chosen),
        "total": total.text(),
        "currency": currency,
        "csv": body,
        "missing_account": missing,
    }


def batch_file(uows: UnitOfWorkFactory, batch_id: int, actor: Actor) -> str:
    require_finance(actor, "read payout batches")
    with uows(write=False) as uow:
        body = uow.refunds.batch_body(batch_id)
    if body is None:
        raise NotFoundError(f"no payout batch {batch_id}", details={"batch_id": batch_id})
    return body


def import_result(uows: UnitOfWorkFactory, text: str, actor: Actor) -> dict[str, Any]:
    """Apply the bank's result file: ``reference,status,bank_reference,amount,reason`` with
    status ``paid`` or ``failed``. Rows that do not match a record, or whose amount differs,
    are listed and change nothing."""
    require_finance(actor, "import bank results")
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"reference", "status", "amount"} <= set(reader.fieldnames):
        raise InvalidInputError(
            f"the result file needs the columns {', '.join(RESULT_COLUMNS)}",
            details={"field": "file"},
        )
    applied: list[int] = []
    problems: list[dict[str, Any]] = []
    with uows() as uow:
        now = uow.now()
        for line, row in enumerate(reader, start=2):
            key = (row.get("reference") or "").strip()
            record = uow.refunds.by_key(key)
            if record is None or record.route is not PayoutRoute.BANK_TRANSFER:
                problems.append({"line": line, "reference": key, "problem": "no such transfer"})
                continue
            try:
                amount = Money.parse((row.get("amount") or "").strip(), record.amount.currency)
            except InvalidInputError as exc:
                problems.append({"line": line, "reference": key, "problem": exc.message})
                continue
            if amount != record.amount:
                problems.append(
                    {
                        "line": line,
                        "reference": key,
                        "problem": "amount_mismatch",
                        "ours": record.amount.text(),
                        "theirs": amount.text(),
                    }
                )
                continue
            status = (row.get("status") or "").strip().lower()
            if record.status is not RecordStatus.PENDING and record.status is not (
                RecordStatus.NEEDS_RECONCILIATION
            ):
                continue  # already settled: importing the same file twice changes nothing
            bank_reference = (row.get("bank_reference") or "").strip()
            reason = (row.get("reason") or "").strip() or "returned by the bank"

            def change(
                _: RefundRequest,
                locked: RefundRecord,
                s: str = status,
                ref: str = bank_reference,
                why: str = reason,
            ) -> None:
                if s == "paid":
                    _check_settleable(locked, "paid")
                    locked.succeed(
                        now,
                        reference=ref or None,
                        actor=actor_name(actor),
                        reason="bank result file",
                    )
                elif s == "failed":
                    locked.fail(now, reason=why, actor=actor_name(actor))

            if status not in ("paid", "failed"):
                problems.append(
                    {
                        "line": line,
                        "reference": key,
                        "problem": f"status {status!r} is not paid or failed",
                    }
                )
                continue
            with_record(uow, record.id, change)
            applied.append(record.id)
        uow.commit()
    return {"applied": applied, "problems": problems}
