"""The audit chain's rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from refundflow.adapters.db.sql import Sql
from refundflow.domain.audit import GENESIS, chain_hash

CHAIN_LOCK = 7_202_611  # the advisory lock that keeps PostgreSQL writers in line


class SqlAuditRepository:
    """Rows are staged during the transaction and chained at commit (``flush``): the
    chain's lock is held only for the last moments of a transaction, not all of it."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self.pending: list[tuple[datetime, str, str, str, str]] = []

    def stage(self, at: datetime, actor: str, action: str, subject: str, detail: str) -> None:
        self.pending.append((at, actor, action, subject, detail))

    def flush(self) -> None:
        if not self.pending:
            return
        if self.sql.is_pg:
            self.sql.run("SELECT pg_advisory_xact_lock(:k)", {"k": CHAIN_LOCK})
        last = self.sql.scalar("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1")
        prev = str(last) if last is not None else GENESIS
        rows = []
        for at, actor, action, subject, detail in self.pending:
            digest = chain_hash(prev, at, actor, action, subject, detail)
            rows.append(
                {
                    "at": self.sql.ts(at),
                    "actor": actor,
                    "action": action,
                    "subject": subject,
                    "detail": detail,
                    "prev": prev,
                    "hash": digest,
                }
            )
            prev = digest
        self.pending.clear()
        self.sql.many(
            "INSERT INTO audit_events (at, actor, action, subject, detail, prev_hash, hash) "
            "VALUES (:at, :actor, :action, :subject, :detail, :prev, :hash)",
            rows,
        )

    def rows(self) -> Iterator[tuple[int, datetime, str, str, str, str, str, str]]:
        for row in self.sql.stream(
            "SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit_events "
            "ORDER BY id"
        ):
            at = self.sql.dt(row[1])
            assert at is not None
            yield (row[0], at, row[2], row[3], row[4], row[5], row[6], row[7])

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        return [
            {
                "id": r[0],
                "at": self.sql.dt(r[1]),
                "actor": r[2],
                "action": r[3],
                "subject": r[4],
                "detail": r[5],
            }
            for r in self.sql.all(
                "SELECT id, at, actor, action, subject, detail FROM audit_events "
                "ORDER BY id DESC LIMIT :limit",
                {"limit": limit},
            )
        ]
