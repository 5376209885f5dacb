"""Notifications, their templates, customers' preferences and push subscriptions.

New rows are inserted with ``ON CONFLICT DO NOTHING`` against the UNIQUE key (request,
notice, occurrence, channel, recipient): a second insert of the same key is a no-op on both
databases, whoever commits first. Pending rows are leased like the outbox (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL); an outcome is recorded only by the worker that still holds the lease.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from refundflow.adapters.db.sql import Sql
from refundflow.domain.notifications import Channel
from refundflow.services.notifications.ports import (
    CustomerContact,
    MessageTemplate,
    NewNotification,
    Preferences,
    PushSubscription,
    StoredNotification,
)

_COLUMNS = (
    "id, request_id, customer_id, notice, occurrence, channel, recipient, language, content, "
    "status, attempts, available_at, created_at, sent_at, provider_ref, last_error, "
    "expires_at, sensitive"
)


class SqlNotificationsRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    # ------------------------------------------------------------------ notifications
    def _row(self, r: tuple[Any, ...]) -> StoredNotification:
        dt = self.sql.dt
        return StoredNotification(
            id=r[0],
            request_id=r[1],
            customer_id=r[2],
            notice=r[3],
            occurrence=r[4],
            channel=Channel(r[5]),
            recipient=r[6],
            language=r[7],
            content=orjson.loads(r[8]),
            status=r[9],
            attempts=r[10],
            available_at=dt(r[11]),  # type: ignore[arg-type]
            created_at=dt(r[12]),  # type: ignore[arg-type]
            sent_at=dt(r[13]),
            provider_ref=r[14],
            last_error=r[15],
            expires_at=dt(r[16]),
            sensitive=bool(r[17]),
        )

    def add(self, rows: Sequence[NewNotification], at: datetime) -> list[int]:
        ids = []
        ts = self.sql.ts
        for row in rows:
            inserted = self.sql.one(
                "INSERT INTO notifications (request_id, customer_id, notice, occurrence, channel, "
                "recipient, language, content, status, attempts, available_at, created_at, "
                "expires_at, last_error, sensitive) VALUES (:request_id, :customer_id, :notice, "
                ":occurrence, :channel, :recipient, :language, :content, :status, 0, "
                ":available_at, :at, :expires_at, :last_error, :sensitive) "
                "ON CONFLICT DO NOTHING RETURNING id",
                {
                    "request_id": row.request_id,
                    "customer_id": row.customer_id,
                    "notice": row.notice,
                    "occurrence": row.occurrence,
                    "channel": row.channel.value,
                    "recipient": row.recipient,
                    "language": row.language,
                    "content": orjson.dumps(row.content).decode(),
                    "status": row.status,
                    "available_at": ts(row.available_at),
                    "at": ts(at),
                    "expires_at": ts(row.expires_at),
                    "last_error": row.last_error,
                    "sensitive": row.sensitive,
                },
            )
            if inserted is not None:
                ids.append(int(inserted[0]))
        return ids

    def claim(
        self, worker: str, limit: int, now: datetime, lease_until: datetime
    ) -> list[StoredNotification]:
        sql = self.sql
        skip_locked = " FOR UPDATE SKIP LOCKED" if sql.is_pg else ""
        rows = sql.all(
            "UPDATE notifications SET locked_by = :worker, locked_until = :until, "
            "attempts = attempts + 1 WHERE id IN (SELECT id FROM notifications "
            "WHERE status = 'pending' AND available_at <= :now "
            "AND (locked_until IS NULL OR locked_until < :now) "
            f"ORDER BY available_at, id LIMIT :limit{skip_locked}) RETURNING {_COLUMNS}",
            {"worker": worker, "until": sql.ts(lease_until), "now": sql.ts(now), "limit": limit},
        )
        return sorted((self._row(r) for r in rows), key=lambda n: (n.available_at, n.id))

    def finish(
        self,
        notification_id: int,
        worker: str,
        *,
        status: str,
        at: datetime,
        provider_ref: str | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
        erase: bool = False,
    ) -> bool:
        sql = self.sql
        content = ", content = '{}'" if erase else ""
        return (
            sql.run(
                "UPDATE notifications SET status = :status, locked_by = NULL, "
                "locked_until = NULL, provider_ref = COALESCE(:ref, provider_ref), "
                "last_error = :error, sent_at = :sent_at, "
                f"available_at = COALESCE(:retry_at, available_at){content} "
                "WHERE id = :id AND locked_by = :worker",
                {
                    "id": notification_id,
                    "worker": worker,
                    "status": status,
                    "ref": provider_ref,
                    "error": error,
                    "sent_at": sql.ts(at) if status == "sent" else None,
                    "retry_at": sql.ts(retry_at),
                },
            )
            == 1
        )

    def get(self, notification_id: int) -> StoredNotification | None:
        row = self.sql.one(
            f"SELECT {_COLUMNS} FROM notifications WHERE id = :id", {"id": notification_id}
        )
        return self._row(row) if row else None

    def find(
        self, request_id: int | None, notice: str, occurrence: str, channel: Channel, recipient: str
    ) -> int | None:
        same_request = "request_id IS NULL" if request_id is None else "request_id = :request_id"
        return self.sql.scalar(  # type: ignore[no-any-return]
            f"SELECT id FROM notifications WHERE {same_request} AND notice = :notice "
            "AND occurrence = :occurrence AND channel = :channel AND recipient = :recipient",
            {
                "request_id": request_id,
                "notice": notice,
                "occurrence": occurrence,
                "channel": channel.value,
                "recipient": recipient,
            },
        )

    def search(
        self, *, request_id: int | None, status: str | None, limit: int
    ) -> list[StoredNotification]:
        where, params = [], {"limit": limit}
        if request_id is not None:
            where.append("request_id = :request_id")
            params["request_id"] = request_id
        if status is not None:
            where.append("status = :status")
            params["status"] = status  # type: ignore[assignment]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self.sql.all(
            f"SELECT {_COLUMNS} FROM notifications{clause} ORDER BY id DESC LIMIT :limit", params
        )
        return [self._row(r) for r in rows]

    # ------------------------------------------------------------------ templates
    _TEMPLATE = (
        "SELECT notice, language, subject, text, html, short, sms_template, sms_params, "
        "customised, updated_by, updated_at FROM notification_templates"
    )

    def _template(self, r: tuple[Any, ...]) -> MessageTemplate:
        return MessageTemplate(
            notice=r[0],
            language=r[1],
            subject=r[2],
            text=r[3],
            html=r[4],
            short=r[5],
            sms_template=r[6],
            sms_params=tuple(orjson.loads(r[7])),
            customised=bool(r[8]),
            updated_by=r[9],
            updated_at=self.sql.dt(r[10]),
        )

    def templates(self) -> list[MessageTemplate]:
        return [self._template(r) for r in self.sql.all(self._TEMPLATE)]

    def template(self, notice: str, language: str) -> MessageTemplate | None:
        row = self.sql.one(
            f"{self._TEMPLATE} WHERE notice = :notice AND language = :language",
            {"notice": notice, "language": language},
        )
        return self._template(row) if row else None

    def put_template(self, template: MessageTemplate) -> None:
        assert template.updated_at is not None
        self.sql.run(
            "INSERT INTO notification_templates (notice, language, subject, text, html, short, "
            "sms_template, sms_params, customised, updated_by, updated_at) VALUES (:notice, "
            ":language, :subject, :text, :html, :short, :sms_template, :sms_params, "
            ":customised, :updated_by, :updated_at) ON CONFLICT (notice, language) DO UPDATE SET "
            "subject = excluded.subject, text = excluded.text, html = excluded.html, "
            "short = excluded.short, sms_template = excluded.sms_template, "
            "sms_params = excluded.sms_params, customised = excluded.customised, "
            "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            {
                "notice": template.notice,
                "language": template.language,
                "subject": template.subject,
                "text": template.text,
                "html": template.html,
                "short": template.short,
                "sms_template": template.sms_template,
                "sms_params": orjson.dumps(list(template.sms_params)).decode(),
                "customised": template.customised,
                "updated_by": template.updated_by,
                "updated_at": self.sql.ts(template.updated_at),
            },
        )

    # ------------------------------------------------------------------ customers
    def preferences(self, customer_id: int) -> Preferences | None:
        row = self.sql.one(
            "SELECT language, email, sms, push, contact_email, contact_phone, updated_at "
            "FROM customer_preferences WHERE customer_id = :id",
            {"id": customer_id},
        )
        if row is None:
            return None
        return Preferences(
            customer_id,
            row[0],
            bool(row[1]),
            bool(row[2]),
            bool(row[3]),
            row[4],
            row[5],
            self.sql.dt(row[6]),
            stored=True,
        )

    def put_preferences(self, preferences: Preferences, at: datetime) -> None:
        p = preferences
        self.sql.run(
            "INSERT INTO customer_preferences (customer_id, language, email, sms, push, "
            "contact_email, contact_phone, updated_at) VALUES (:id, :language, :email, :sms, "
            ":push, :contact_email, :contact_phone, :at) ON CONFLICT (customer_id) DO UPDATE SET "
            "language = excluded.language, email = excluded.email, sms = excluded.sms, "
            "push = excluded.push, contact_email = excluded.contact_email, "
            "contact_phone = excluded.contact_phone, updated_at = excluded.updated_at",
            {
                "id": p.customer_id,
                "language": p.language,
                "email": p.email,
                "sms": p.sms,
                "push": p.push,
                "contact_email": p.contact_email,
                "contact_phone": p.contact_phone,
                "at": self.sql.ts(at),
            },
        )

    def customer(self, customer_id: int) -> CustomerContact | None:
        row = self.sql.one(
            "SELECT id, name, email, phone FROM customers WHERE id = :id", {"id": customer_id}
        )
        return CustomerContact(row[0], row[1], row[2], row[3]) if row else None

    def _subscription(self, r: tuple[Any, ...]) -> PushSubscription:
        return PushSubscription(r[0], r[1], r[2], r[3], orjson.loads(r[4]) if r[4] else {})

    def subscriptions(self, customer_id: int) -> list[PushSubscription]:
        rows = self.sql.all(
            "SELECT id, customer_id, kind, endpoint, keys FROM push_subscriptions "
            "WHERE customer_id = :id AND revoked_at IS NULL ORDER BY id",
            {"id": customer_id},
        )
        return [self._subscription(r) for r in rows]

    def subscription(self, subscription_id: int) -> PushSubscription | None:
        row = self.sql.one(
            "SELECT id, customer_id, kind, endpoint, keys FROM push_subscriptions "
            "WHERE id = :id AND revoked_at IS NULL",
            {"id": subscription_id},
        )
        return self._subscription(row) if row else None

    def add_subscription(
        self, customer_id: int, kind: str, endpoint: str, keys: Mapping[str, str], at: datetime
    ) -> int:
        found = self.sql.one(
            "SELECT id FROM push_subscriptions WHERE customer_id = :c AND kind = :k "
            "AND endpoint = :e AND revoked_at IS NULL",
            {"c": customer_id, "k": kind, "e": endpoint},
        )
        if found:
            return int(found[0])
        new = self.sql.one(
            "INSERT INTO push_subscriptions (customer_id, kind, endpoint, keys, created_at) "
            "VALUES (:c, :k, :e, :keys, :at) RETURNING id",
            {
                "c": customer_id,
                "k": kind,
                "e": endpoint,
                "keys": orjson.dumps(dict(keys)).decode() if keys else None,
                "at": self.sql.ts(at),
            },
        )
        assert new is not None
        return int(new[0])

    def revoke_subscription(self, subscription_id: int, at: datetime) -> None:
        self.sql.run(
            "UPDATE push_subscriptions SET revoked_at = :at WHERE id = :id AND revoked_at IS NULL",
            {"id": subscription_id, "at": self.sql.ts(at)},
        )
