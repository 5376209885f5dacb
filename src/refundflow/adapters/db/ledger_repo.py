"""The store-credit / e-wallet ledger: entries and the balance rows they move."""

from __future__ import annotations

from typing import Any

from refundflow.adapters.db.sql import Sql
from refundflow.domain.ledger import EntryKind, LedgerAccount, LedgerEntry
from refundflow.domain.money import Money


class SqlLedgerRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def balance(
        self, customer_id: int, account: LedgerAccount, currency: str, *, lock: bool = False
    ) -> Money:
        """The balance, its row created at zero if new; ``lock`` holds it for the rest of the
        transaction (PostgreSQL ``FOR UPDATE``; SQLite writers are serialised already)."""
        sql = self.sql
        key = {"c": customer_id, "a": account.value, "cur": currency}
        if lock:
            sql.run(
                "INSERT INTO ledger_balances (customer_id, account, currency, balance_minor) "
                "VALUES (:c, :a, :cur, 0) ON CONFLICT DO NOTHING",
                key,
            )
        minor = sql.scalar(
            "SELECT balance_minor FROM ledger_balances WHERE customer_id = :c AND account = :a "
            f"AND currency = :cur{sql.lock_suffix if lock else ''}",
            key,
        )
        return Money.from_minor(int(minor or 0), currency)

    def claim_refund_entry(self, entry: LedgerEntry) -> int | None:
        """Insert the credit of a refund record unless one exists: the unique index on
        ``refund_id`` is what makes a redelivered credit a no-op. Returns the new entry's id,
        or None when the record was credited before."""
        return self._insert(entry, conflict=" ON CONFLICT DO NOTHING")

    def add(self, entry: LedgerEntry) -> int:
        entry_id = self._insert(entry, conflict="")
        assert entry_id is not None
        return entry_id

    def _insert(self, entry: LedgerEntry, *, conflict: str) -> int | None:
        sql = self.sql
        value = sql.scalar(
            "INSERT INTO ledger_entries (customer_id, account, currency, amount_minor, "
            "balance_after_minor, kind, refund_id, reference, note, created_at) VALUES "
            "(:c, :a, :cur, :amount, :after, :kind, :refund, :ref, :note, :at)"
            f"{conflict} RETURNING id",
            {
                "c": entry.customer_id,
                "a": entry.account.value,
                "cur": entry.amount.currency,
                "amount": entry.amount.minor,
                "after": entry.balance_after.minor,
                "kind": entry.kind.value,
                "refund": entry.refund_id,
                "ref": entry.reference,
                "note": entry.note,
                "at": sql.ts(entry.at),
            },
        )
        return int(value) if value is not None else None

    def set_balance(self, entry_id: int, entry: LedgerEntry) -> None:
        sql = self.sql
        sql.run(
            "UPDATE ledger_entries SET balance_after_minor = :after WHERE id = :id",
            {"id": entry_id, "after": entry.balance_after.minor},
        )
        sql.run(
            "UPDATE ledger_balances SET balance_minor = :b WHERE customer_id = :c "
            "AND account = :a AND currency = :cur",
            {
                "b": entry.balance_after.minor,
                "c": entry.customer_id,
                "a": entry.account.value,
                "cur": entry.amount.currency,
            },
        )

    def entry_for_refund(self, refund_id: int) -> int | None:
        value = self.sql.scalar(
            "SELECT id FROM ledger_entries WHERE refund_id = :r", {"r": refund_id}
        )
        return int(value) if value is not None else None

    def entries(
        self, customer_id: int, account: LedgerAccount, limit: int = 200
    ) -> list[LedgerEntry]:
        dt = self.sql.dt
        out = []
        for r in self.sql.all(
            "SELECT id, currency, amount_minor, balance_after_minor, kind, refund_id, reference, "
            "note, created_at FROM ledger_entries WHERE customer_id = :c AND account = :a "
            "ORDER BY id DESC LIMIT :limit",
            {"c": customer_id, "a": account.value, "limit": limit},
        ):
            at = dt(r[8])
            assert at is not None
            out.append(
                LedgerEntry(
                    customer_id=customer_id,
                    account=account,
                    amount=Money.from_minor(r[2], r[1]),
                    kind=EntryKind(r[4]),
                    balance_after=Money.from_minor(r[3], r[1]),
                    at=at,
                    reference=r[6],
                    refund_id=r[5],
                    note=r[7],
                    id=r[0],
                )
            )
        return out

    def balances(self, customer_id: int, account: LedgerAccount) -> dict[str, Money]:
        return {
            cur: Money.from_minor(int(minor), cur)
            for cur, minor in self.sql.all(
                "SELECT currency, balance_minor FROM ledger_balances WHERE customer_id = :c "
                "AND account = :a ORDER BY currency",
                {"c": customer_id, "a": account.value},
            )
        }

    def customer_exists(self, customer_id: int) -> bool:
        return self.sql.one("SELECT 1 FROM customers WHERE id = :c", {"c": customer_id}) is not None

    def totals(self) -> list[tuple[Any, ...]]:
        """Every balance row with the sum of its entries (for invariant checks)."""
        return self.sql.all(
            "SELECT b.customer_id, b.account, b.currency, b.balance_minor, "
            "COALESCE((SELECT SUM(e.amount_minor) FROM ledger_entries e WHERE "
            "e.customer_id = b.customer_id AND e.account = b.account AND "
            "e.currency = b.currency), 0) FROM ledger_balances b"
        )
