"""The outbox table: claimed with leases; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that
any number of workers can claim side by side."""

from __future__ import annotations

from datetime import datetime

import orjson

from refundflow.adapters.db.requests_repo import write_outbox
from refundflow.adapters.db.sql import Sql
from refundflow.domain.events import DomainEvent
from refundflow.services.outbox import OutboxMessage


class SqlOutboxRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def claim(
        self, worker_id: str, limit: int, now: datetime, lease_until: datetime
    ) -> list[OutboxMessage]:
        sql = self.sql
        skip_locked = " FOR UPDATE SKIP LOCKED" if sql.is_pg else ""
        rows = sql.all(
            "UPDATE outbox SET locked_by = :worker, locked_until = :until, "
            "attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox "
            "WHERE delivered_at IS NULL AND available_at <= :now "
            "AND (locked_until IS NULL OR locked_until < :now) "
            f"ORDER BY id LIMIT :limit{skip_locked}) "
            "RETURNING id, topic, key, payload, attempts",
            {"worker": worker_id, "until": sql.ts(lease_until), "now": sql.ts(now), "limit": limit},
        )
        rows.sort(key=lambda r: r[0])
        return [OutboxMessage(r[0], r[1], r[2], orjson.loads(r[3]), r[4]) for r in rows]

    def add(self, events: list[DomainEvent]) -> None:
        if events:
            write_outbox(self.sql, events)

    def delivered(self, message_id: int, at: datetime) -> None:
        self.sql.run(
            "UPDATE outbox SET delivered_at = :at, locked_by = NULL, locked_until = NULL, "
            "last_error = NULL WHERE id = :id",
            {"id": message_id, "at": self.sql.ts(at)},
        )

    def failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        self.sql.run(
            "UPDATE outbox SET available_at = :retry, locked_by = NULL, locked_until = NULL, "
            "last_error = :error WHERE id = :id",
            {"id": message_id, "retry": self.sql.ts(retry_at), "error": error},
        )
