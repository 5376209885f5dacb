"""Gateway callbacks (deduplicated by event id) and reconciliation runs with their items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from refundflow.adapters.db.sql import Sql


class SqlGatewayEventsRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def claim(self, route: str, event_id: str, at: datetime) -> int | None:
        """Record a callback's event id; None when it was seen before. The unique index on
        (route, event_id) is the deduplication."""
        value = self.sql.scalar(
            "INSERT INTO gateway_events (route, event_id, outcome, received_at) "
            "VALUES (:route, :event, 'received', :at) ON CONFLICT DO NOTHING RETURNING id",
            {"route": route, "event": event_id, "at": self.sql.ts(at)},
        )
        return int(value) if value is not None else None

    def settle(self, event_row: int, refund_id: int | None, outcome: str, detail: str) -> None:
        self.sql.run(
            "UPDATE gateway_events SET refund_id = :r, outcome = :o, detail = :d WHERE id = :id",
            {"id": event_row, "r": refund_id, "o": outcome, "d": detail[:2000]},
        )

    def count(self, route: str, event_id: str | None = None) -> int:
        if event_id is None:
            return int(
                self.sql.scalar(
                    "SELECT COUNT(*) FROM gateway_events WHERE route = :r", {"r": route}
                )
            )
        return int(
            self.sql.scalar(
                "SELECT COUNT(*) FROM gateway_events WHERE route = :r AND event_id = :e",
                {"r": route, "e": event_id},
            )
        )

    def unmatched(self, limit: int = 200) -> list[dict[str, Any]]:
        return [
            {"route": r[0], "event_id": r[1], "outcome": r[2], "detail": r[3]}
            for r in self.sql.all(
                "SELECT route, event_id, outcome, detail FROM gateway_events "
                "WHERE outcome NOT IN ('applied', 'ignored', 'received') ORDER BY id DESC "
                "LIMIT :limit",
                {"limit": limit},
            )
        ]

    # ------------------------------------------------------------------ reconciliation
    def add_run(
        self,
        route: str,
        source: str,
        summary: dict[str, Any],
        items: list[dict[str, Any]],
        by: str,
        at: datetime,
    ) -> int:
        sql = self.sql
        run_id = int(
            sql.scalar(
                "INSERT INTO reconciliation_runs (route, source, summary, created_by, created_at) "
                "VALUES (:route, :source, :summary, :by, :at) RETURNING id",
                {
                    "route": route,
                    "source": source[:200],
                    "summary": orjson.dumps(summary).decode(),
                    "by": by,
                    "at": sql.ts(at),
                },
            )
        )
        if items:
            sql.many(
                "INSERT INTO reconciliation_items (run_id, kind, refund_id, reference, currency, "
                "ours_minor, theirs_minor, detail) VALUES (:run, :kind, :refund_id, :reference, "
                ":currency, :ours_minor, :theirs_minor, :detail)",
                [{"run": run_id, **item} for item in items],
            )
        return run_id

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        return [
            {
                "id": r[0],
                "route": r[1],
                "source": r[2],
                "summary": orjson.loads(r[3]),
                "created_by": r[4],
                "created_at": self.sql.dt(r[5]),
            }
            for r in self.sql.all(
                "SELECT id, route, source, summary, created_by, created_at "
                "FROM reconciliation_runs ORDER BY id DESC LIMIT :limit",
                {"limit": limit},
            )
        ]
