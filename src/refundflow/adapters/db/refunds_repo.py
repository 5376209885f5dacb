"""Refund records, their attempts and the bank-transfer payout batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from refundflow.adapters.crypto import PREFIX, DataCipher, DataKeyError
from refundflow.adapters.db.sql import Sql
from refundflow.domain.money import Money
from refundflow.domain.payouts import PayoutRoute, RecordStatus, RefundRecord
from refundflow.services.payouts.ports import PaymentFacts

_COLUMNS = (
    "id, request_id, order_id, payment_id, route, currency, amount_minor, status, attempts, "
    "idempotency_key, gateway_reference, payout_account, payout_batch_id, replaced_by, "
    "last_error, claimed_until, created_at, updated_at, completed_at"
)


class SqlRefundsRepository:
    """Payees' bank accounts are stored encrypted (``adapters.crypto``)."""

    def __init__(self, sql: Sql, cipher: DataCipher | None = None) -> None:
        self.sql = sql
        self.cipher = cipher

    def _sealed(self, account: dict[str, str] | None) -> str | None:
        if not account:
            return None
        if self.cipher is None:
            raise DataKeyError("no data key configured: bank accounts cannot be stored")
        return self.cipher.encrypt(orjson.dumps(account).decode())

    def _opened(self, stored: str | None) -> dict[str, str] | None:
        if not stored:
            return None
        if self.cipher is None:
            if stored.startswith(PREFIX):
                raise DataKeyError("no data key configured: bank accounts cannot be read")
            return dict(orjson.loads(stored))
        return dict(orjson.loads(self.cipher.decrypt(stored)))

    def rotate_accounts(self, after_id: int, limit: int) -> tuple[int | None, int, int]:
        """Re-encrypt with the first key the next ``limit`` stored accounts past
        ``after_id``: (the last id seen or None when done, rewritten, already current)."""
        if self.cipher is None:
            raise DataKeyError("no data key configured")
        rows = self.sql.all(
            "SELECT id, payout_account FROM refunds WHERE payout_account IS NOT NULL "
            "AND id > :after ORDER BY id LIMIT :n" + self.sql.lock_suffix,
            {"after": after_id, "n": limit},
        )
        rewritten = current = 0
        for record_id, stored in rows:
            if self.cipher.is_current(stored):
                current += 1
                continue
            self.sql.run(
                "UPDATE refunds SET payout_account = :v WHERE id = :id",
                {"v": self.cipher.rotate(stored), "id": record_id},
            )
            rewritten += 1
        return (int(rows[-1][0]) if rows else None), rewritten, current

    def next_id(self) -> int:
        if self.sql.is_pg:
            return int(self.sql.scalar("SELECT nextval('refund_record_id_seq')"))
        # The write lock (BEGIN IMMEDIATE) is held, so no other writer can take the same id.
        return int(self.sql.scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM refunds"))

    # ------------------------------------------------------------------ reads
    def _record(self, r: tuple[Any, ...]) -> RefundRecord:
        dt = self.sql.dt
        created_at, updated_at = dt(r[16]), dt(r[17])
        assert created_at is not None and updated_at is not None
        return RefundRecord(
            id=r[0],
            request_id=r[1],
            order_id=r[2],
            payment_id=r[3],
            route=PayoutRoute(r[4]),
            amount=Money.from_minor(r[6], r[5]),
            status=RecordStatus(r[7]),
            attempts=r[8],
            idempotency_key=r[9],
            gateway_reference=r[10],
            payout_account=self._opened(r[11]),
            payout_batch_id=r[12],
            replaced_by=r[13],
            last_error=r[14],
            claimed_until=dt(r[15]),
            created_at=created_at,
            updated_at=updated_at,
            completed_at=dt(r[18]),
        )

    def _select(self, where: str, params: dict[str, Any], lock: bool = False) -> list[RefundRecord]:
        suffix = self.sql.lock_suffix if lock else ""
        rows = self.sql.all(
            f"SELECT {_COLUMNS} FROM refunds WHERE {where} ORDER BY id{suffix}", params
        )
        return [self._record(r) for r in rows]

    def get(self, record_id: int, *, lock: bool = False) -> RefundRecord | None:
        found = self._select("id = :id", {"id": record_id}, lock)
        return found[0] if found else None

    def by_key(self, key: str, *, lock: bool = False) -> RefundRecord | None:
        found = self._select("idempotency_key = :k", {"k": key}, lock)
        return found[0] if found else None

    def by_reference(
        self, route: str, reference: str, *, lock: bool = False
    ) -> RefundRecord | None:
        found = self._select(
            "route = :route AND gateway_reference = :ref", {"route": route, "ref": reference}, lock
        )
        return found[0] if found else None

    def for_request(self, request_id: int, *, lock: bool = False) -> list[RefundRecord]:
        return self._select("request_id = :r", {"r": request_id}, lock)

    def for_order(self, order_id: int) -> list[RefundRecord]:
        return self._select("order_id = :o", {"o": order_id})

    def in_status(
        self, statuses: list[RecordStatus], route: str | None = None, limit: int = 500
    ) -> list[RefundRecord]:
        params: dict[str, Any] = {f"s{i}": s.value for i, s in enumerate(statuses)}
        where = f"status IN ({', '.join(':' + k for k in params)})"
        if route is not None:
            where += " AND route = :route"
            params["route"] = route
        return self._select(where, params)[:limit]

    def completed_between(self, route: str, start: datetime, end: datetime) -> list[RefundRecord]:
        sql = self.sql
        return self._select(
            "route = :route AND status = 'succeeded' AND completed_at >= :a AND completed_at <= :b",
            {"route": route, "a": sql.ts(start), "b": sql.ts(end)},
        )

    def used_by_payment(self, order_id: int) -> dict[int, Money]:
        """What every record that still holds a payment takes from it."""
        used: dict[int, Money] = {}
        for payment_id, currency, minor in self.sql.all(
            "SELECT payment_id, currency, SUM(amount_minor) FROM refunds "
            "WHERE order_id = :o AND replaced_by IS NULL AND payment_id IS NOT NULL "
            "GROUP BY payment_id, currency",
            {"o": order_id},
        ):
            used[payment_id] = Money.from_minor(int(minor), currency)
        return used

    def payment_facts(self, record: RefundRecord) -> PaymentFacts:
        row = self.sql.one(
            "SELECT p.method, p.reference, p.amount_minor, o.order_no, o.customer_id, "
            "r.number FROM orders o JOIN refund_requests r ON r.order_id = o.id "
            "LEFT JOIN payments p ON p.id = :p WHERE o.id = :o AND r.id = :r",
            {"p": record.payment_id, "o": record.order_id, "r": record.request_id},
        )
        assert row is not None
        currency = record.amount.currency
        return PaymentFacts(
            method=row[0],
            reference=row[1],
            captured=Money.from_minor(row[2], currency) if row[2] is not None else None,
            order_no=row[3],
            customer_id=row[4],
            request_number=row[5],
        )

    # ------------------------------------------------------------------ writes
    def _params(self, record: RefundRecord) -> dict[str, Any]:
        ts = self.sql.ts
        return {
            "id": record.id,
            "status": record.status.value,
            "attempts": record.attempts,
            "reference": record.gateway_reference,
            "account": self._sealed(record.payout_account),
            "batch": record.payout_batch_id,
            "replaced_by": record.replaced_by,
            "error": record.last_error,
            "claimed_until": ts(record.claimed_until),
            "updated_at": ts(record.updated_at),
            "completed_at": ts(record.completed_at),
        }

    def add(self, record: RefundRecord) -> None:
        self.sql.run(
            "INSERT INTO refunds (id, request_id, order_id, payment_id, route, currency, "
            "amount_minor, status, attempts, idempotency_key, gateway_reference, payout_account, "
            "payout_batch_id, replaced_by, last_error, claimed_until, created_at, updated_at, "
            "completed_at) VALUES (:id, :request_id, :order_id, :payment_id, :route, :currency, "
            ":amount, :status, :attempts, :key, :reference, :account, :batch, :replaced_by, "
            ":error, :claimed_until, :created_at, :updated_at, :completed_at)",
            {
                **self._params(record),
                "request_id": record.request_id,
                "order_id": record.order_id,
                "payment_id": record.payment_id,
                "route": record.route.value,
                "currency": record.amount.currency,
                "amount": record.amount.minor,
                "key": record.idempotency_key,
                "created_at": self.sql.ts(record.created_at),
            },
        )
        self._flush(record)

    def save(self, record: RefundRecord) -> None:
        self.sql.run(
            "UPDATE refunds SET status = :status, attempts = :attempts, "
            "gateway_reference = :reference, payout_account = :account, "
            "payout_batch_id = :batch, replaced_by = :replaced_by, last_error = :error, "
            "claimed_until = :claimed_until, updated_at = :updated_at, "
            "completed_at = :completed_at WHERE id = :id",
            self._params(record),
        )
        self._flush(record)

    def _flush(self, record: RefundRecord) -> None:
        """Status changes go to the attempts log as ``status`` rows."""
        changes, record.changes = record.changes, []
        if changes:
            sql = self.sql
            sql.many(
                "INSERT INTO refund_attempts (refund_id, kind, outcome, detail, actor, "
                "started_at, finished_at) VALUES (:r, 'status', :to, :detail, :actor, :at, :at)",
                [
                    {
                        "r": record.id,
                        "to": c.to_status.value,
                        "detail": f"{c.from_status.value} → {c.to_status.value}"
                        + (f": {c.reason}" if c.reason else ""),
                        "actor": c.actor[:64],
                        "at": sql.ts(c.at),
                    }
                    for c in changes
                ],
            )

    # ------------------------------------------------------------------ attempts
    def start_attempt(self, record_id: int, kind: str, actor: str, at: datetime) -> int:
        return int(
            self.sql.scalar(
                "INSERT INTO refund_attempts (refund_id, kind, actor, started_at) "
                "VALUES (:r, :kind, :actor, :at) RETURNING id",
                {"r": record_id, "kind": kind, "actor": actor[:64], "at": self.sql.ts(at)},
            )
        )

    def finish_attempt(self, attempt_id: int, outcome: str, detail: str, at: datetime) -> None:
        self.sql.run(
            "UPDATE refund_attempts SET outcome = :outcome, detail = :detail, "
            "finished_at = :at WHERE id = :id",
            {"id": attempt_id, "outcome": outcome, "detail": detail[:2000], "at": self.sql.ts(at)},
        )

    def count_outcomes(self, record_id: int, outcome: str) -> int:
        """Attempts with ``outcome`` since the record was last reopened (a retry starts the
        count afresh)."""
        return int(
            self.sql.scalar(
                "SELECT COUNT(*) FROM refund_attempts WHERE refund_id = :r AND outcome = :o "
                "AND kind <> 'status' AND id > COALESCE((SELECT MAX(id) FROM refund_attempts "
                "WHERE refund_id = :r AND kind = 'status' AND outcome = 'pending'), 0)",
                {"r": record_id, "o": outcome},
            )
        )

    def attempts_of(self, record_id: int) -> list[dict[str, Any]]:
        dt = self.sql.dt
        return [
            {
                "kind": r[0],
                "outcome": r[1],
                "detail": r[2],
                "actor": r[3],
                "started_at": (dt(r[4]) or r[4]).isoformat(),
                "finished_at": f.isoformat() if (f := dt(r[5])) else None,
            }
            for r in self.sql.all(
                "SELECT kind, outcome, detail, actor, started_at, finished_at "
                "FROM refund_attempts WHERE refund_id = :r ORDER BY id",
                {"r": record_id},
            )
        ]

    # ------------------------------------------------------------------ payout batches
    def add_batch(
        self, currency: str, count: int, total_minor: int, body: str, by: str, at: datetime
    ) -> int:
        return int(
            self.sql.scalar(
                "INSERT INTO payout_batches (currency, count, total_minor, body, created_by, "
                "created_at) VALUES (:c, :n, :t, :body, :by, :at) RETURNING id",
                {
                    "c": currency,
                    "n": count,
                    "t": total_minor,
                    "body": body,
                    "by": by,
                    "at": self.sql.ts(at),
                },
            )
        )

    def recent_batches(self, limit: int = 20) -> list[dict[str, Any]]:
        return [
            {
                "id": r[0],
                "currency": r[1],
                "count": r[2],
                "total_minor": r[3],
                "created_by": r[4],
                "created_at": self.sql.dt(r[5]),
            }
            for r in self.sql.all(
                "SELECT id, currency, count, total_minor, created_by, created_at "
                "FROM payout_batches ORDER BY id DESC LIMIT :limit",
                {"limit": limit},
            )
        ]

    def batch_body(self, batch_id: int) -> str | None:
        value = self.sql.scalar("SELECT body FROM payout_batches WHERE id = :id", {"id": batch_id})
        return str(value) if value is not None else None
