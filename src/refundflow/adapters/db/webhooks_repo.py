"""Webhook subscriptions, deliveries and their attempt log.

Deliveries are leased like the outbox (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). A lease
takes only the head of each (subscription, ordering key) queue, and only once every earlier
outbox event of that key has been fanned out, so one refund request's events reach each
subscriber in order even with many workers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson

from refundflow.adapters.db.sql import Sql
from refundflow.domain.webhooks import RETRY_WINDOW, Subscription
from refundflow.services.webhook_records import (
    AttemptRecord,
    ClaimedDelivery,
    DeliveryRecord,
    NewDelivery,
)

_SUBSCRIPTION = (
    "SELECT id, url, events, description, secret, active, previous_secret, "
    "previous_secret_expires_at, created_at, updated_at FROM webhook_subscriptions"
)
_DELIVERY = (
    "SELECT d.id, d.subscription_id, d.event_id, d.event_type, d.ordering_key, d.status, "
    "d.attempts, d.next_attempt_at, d.expires_at, d.last_status_code, d.last_error, "
    "d.created_at, d.delivered_at, d.body, "
    "(SELECT a.latency_ms FROM webhook_attempts a WHERE a.delivery_id = d.id "
    "ORDER BY a.id DESC LIMIT 1), "
    "(SELECT a.response_excerpt FROM webhook_attempts a WHERE a.delivery_id = d.id "
    "ORDER BY a.id DESC LIMIT 1) "
    "FROM webhook_deliveries d"
)


class SqlWebhooksRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    # ------------------------------------------------------------------ subscriptions
    def _subscription(self, row: tuple[Any, ...]) -> Subscription:
        dt = self.sql.dt
        return Subscription(
            id=row[0],
            url=row[1],
            events=orjson.loads(row[2]),
            description=row[3],
            secret=row[4],
            active=bool(row[5]),
            previous_secret=row[6],
            previous_secret_expires_at=dt(row[7]),
            created_at=dt(row[8]),
            updated_at=dt(row[9]),
        )

    def _params(self, sub: Subscription) -> dict[str, Any]:
        ts = self.sql.ts
        return {
            "url": sub.url,
            "events": orjson.dumps(sub.events).decode(),
            "description": sub.description,
            "secret": sub.secret,
            "active": sub.active,
            "previous": sub.previous_secret,
            "previous_until": ts(sub.previous_secret_expires_at),
            "updated_at": ts(sub.updated_at),
        }

    def add_subscription(self, subscription: Subscription, by: str | None) -> int:
        return int(
            self.sql.scalar(
                "INSERT INTO webhook_subscriptions (url, events, description, secret, active, "
                "previous_secret, previous_secret_expires_at, created_by, created_at, "
                "updated_at) VALUES (:url, :events, :description, :secret, :active, :previous, "
                ":previous_until, :by, :created_at, :updated_at) RETURNING id",
                {
                    **self._params(subscription),
                    "by": by,
                    "created_at": self.sql.ts(subscription.created_at),
                },
            )
        )

    def subscription(self, subscription_id: int) -> Subscription | None:
        row = self.sql.one(_SUBSCRIPTION + " WHERE id = :id", {"id": subscription_id})
        return self._subscription(row) if row else None

    def subscriptions(self) -> list[Subscription]:
        return [self._subscription(r) for r in self.sql.all(_SUBSCRIPTION + " ORDER BY id")]

    def save_subscription(self, subscription: Subscription) -> None:
        self.sql.run(
            "UPDATE webhook_subscriptions SET url = :url, events = :events, "
            "description = :description, secret = :secret, active = :active, "
            "previous_secret = :previous, previous_secret_expires_at = :previous_until, "
            "updated_at = :updated_at WHERE id = :id",
            {**self._params(subscription), "id": subscription.id},
        )

    # ------------------------------------------------------------------ fan-out
    def event_time(self, outbox_id: int) -> datetime | None:
        return self.sql.dt(
            self.sql.scalar("SELECT created_at FROM outbox WHERE id = :id", {"id": outbox_id})
        )

    def add_deliveries(self, deliveries: list[NewDelivery]) -> None:
        ts = self.sql.ts
        self.sql.many(
            "INSERT INTO webhook_deliveries (subscription_id, event_id, event_seq, event_type, "
            "ordering_key, body, status, attempts, next_attempt_at, expires_at, created_at) "
            "VALUES (:sub, :event_id, :seq, :type, :key, :body, 'pending', 0, :created_at, "
            ":expires_at, :created_at) ON CONFLICT (subscription_id, event_id) DO NOTHING",
            [
                {
                    "sub": d.subscription_id,
                    "event_id": d.event_id,
                    "seq": d.event_seq,
                    "type": d.event_type,
                    "key": d.ordering_key,
                    "body": d.body,
                    "created_at": ts(d.created_at),
                    "expires_at": ts(d.expires_at),
                }
                for d in deliveries
            ],
        )

    # ------------------------------------------------------------------ delivering
    def claim_due(
        self, worker_id: str, limit: int, now: datetime, lease_until: datetime
    ) -> list[ClaimedDelivery]:
        sql = self.sql
        skip_locked = " FOR UPDATE OF d SKIP LOCKED" if sql.is_pg else ""
        # An outbox row older than the retry window that never got through is not waited
        # for: it would hold its request's events back for ever.
        horizon = now - RETRY_WINDOW - timedelta(hours=1)
        rows = sql.all(
            "UPDATE webhook_deliveries SET locked_by = :worker, locked_until = :until, "
            "attempts = attempts + 1 WHERE id IN (SELECT d.id FROM webhook_deliveries d "
            "JOIN webhook_subscriptions s ON s.id = d.subscription_id "
            "WHERE d.status = 'pending' AND d.next_attempt_at <= :now AND s.active "
            "AND (d.locked_until IS NULL OR d.locked_until < :now) "
            "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e "
            "WHERE e.subscription_id = d.subscription_id AND e.ordering_key = d.ordering_key "
            "AND e.status = 'pending' AND e.event_seq < d.event_seq) "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.delivered_at IS NULL "
            "AND o.key = d.ordering_key AND o.id < d.event_seq AND o.created_at > :horizon) "
            f"ORDER BY d.event_seq LIMIT :limit{skip_locked}) "
            "RETURNING id, subscription_id, event_id, event_type, body, attempts, expires_at",
            {
                "worker": worker_id,
                "until": sql.ts(lease_until),
                "now": sql.ts(now),
                "horizon": sql.ts(horizon),
                "limit": limit,
            },
        )
        rows.sort(key=lambda r: r[0])
        dt = sql.dt
        return [ClaimedDelivery(r[0], r[1], r[2], r[3], r[4], r[5], dt(r[6]) or now) for r in rows]

    def record_attempt(self, attempt: AttemptRecord) -> None:
        self.sql.run(
            "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, status_code, "
            "latency_ms, response_excerpt, error, outcome) VALUES (:d, :n, :at, :code, "
            ":latency, :excerpt, :error, :outcome)",
            {
                "d": attempt.delivery_id,
                "n": attempt.attempt,
                "at": self.sql.ts(attempt.started_at),
                "code": attempt.status_code,
                "latency": attempt.latency_ms,
                "excerpt": attempt.response_excerpt,
                "error": attempt.error,
                "outcome": attempt.outcome,
            },
        )

    def finish(
        self,
        delivery_id: int,
        status: str,
        *,
        next_attempt_at: datetime | None,
        status_code: int | None,
        error: str | None,
        delivered_at: datetime | None,
    ) -> None:
        ts = self.sql.ts
        self.sql.run(
            "UPDATE webhook_deliveries SET status = :status, "
            "next_attempt_at = COALESCE(:next, next_attempt_at), locked_by = NULL, "
            "locked_until = NULL, last_status_code = :code, last_error = :error, "
            "delivered_at = :delivered WHERE id = :id",
            {
                "id": delivery_id,
                "status": status,
                "next": ts(next_attempt_at),
                "code": status_code,
                "error": error,
                "delivered": ts(delivered_at),
            },
        )

    # ------------------------------------------------------------------ the log
    def _delivery(self, r: tuple[Any, ...]) -> DeliveryRecord:
        dt = self.sql.dt
        created_at, expires_at = dt(r[11]), dt(r[8])
        assert created_at is not None and expires_at is not None
        return DeliveryRecord(
            id=r[0],
            subscription_id=r[1],
            event_id=r[2],
            event_type=r[3],
            ordering_key=r[4],
            status=r[5],
            attempts=r[6],
            next_attempt_at=dt(r[7]),
            expires_at=expires_at,
            last_status_code=r[9],
            last_error=r[10],
            created_at=created_at,
            delivered_at=dt(r[12]),
            body=r[13],
            last_latency_ms=r[14],
            last_response_excerpt=r[15],
        )

    def deliveries(
        self, subscription_id: int, *, status: str | None, before_id: int | None, limit: int
    ) -> list[DeliveryRecord]:
        where = ["d.subscription_id = :sub"]
        params: dict[str, Any] = {"sub": subscription_id, "limit": limit}
        if status is not None:
            where.append("d.status = :status")
            params["status"] = status
        if before_id is not None:
            where.append("d.id < :before")
            params["before"] = before_id
        rows = self.sql.all(
            f"{_DELIVERY} WHERE {' AND '.join(where)} ORDER BY d.id DESC LIMIT :limit", params
        )
        return [self._delivery(r) for r in rows]

    def delivery(self, delivery_id: int, *, lock: bool = False) -> DeliveryRecord | None:
        suffix = " FOR UPDATE OF d" if lock and self.sql.is_pg else ""
        row = self.sql.one(f"{_DELIVERY} WHERE d.id = :id{suffix}", {"id": delivery_id})
        return self._delivery(row) if row else None

    def attempts(self, delivery_id: int) -> list[AttemptRecord]:
        dt = self.sql.dt
        records = []
        for r in self.sql.all(
            "SELECT delivery_id, attempt, started_at, status_code, latency_ms, "
            "response_excerpt, error, outcome FROM webhook_attempts WHERE delivery_id = :d "
            "ORDER BY id",
            {"d": delivery_id},
        ):
            started_at = dt(r[2])
            assert started_at is not None
            records.append(AttemptRecord(r[0], r[1], started_at, r[3], r[4], r[5], r[6], r[7]))
        return records

    def replay(self, delivery_id: int, now: datetime, expires_at: datetime) -> None:
        self.sql.run(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = :now, "
            "expires_at = :expires, locked_by = NULL, locked_until = NULL, "
            "delivered_at = NULL WHERE id = :id",
            {"id": delivery_id, "now": self.sql.ts(now), "expires": self.sql.ts(expires_at)},
        )
