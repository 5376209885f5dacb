"""Complaints, the contact log, compensation and root-cause tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from refundflow.adapters.db.sql import Sql
from refundflow.domain.care import (
    Compensation,
    CompensationKind,
    Complaint,
    Contact,
    ContactChannel,
    Direction,
    Severity,
)
from refundflow.domain.money import Money
from refundflow.domain.reasons import ReasonCode

_COMPLAINT = (
    "id, request_id, source, severity, text, state, opened_by, opened_at, resolved_by, "
    "resolved_at, resolution"
)


class SqlCareRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    # ------------------------------------------------------------------ complaints
    def _complaint(self, r: tuple[Any, ...]) -> Complaint:
        opened_at = self.sql.dt(r[7])
        assert opened_at is not None
        return Complaint(
            id=r[0],
            request_id=r[1],
            source=r[2],
            severity=Severity(r[3]),
            text=r[4],
            state=r[5],
            opened_by=r[6],
            opened_at=opened_at,
            resolved_by=r[8],
            resolved_at=self.sql.dt(r[9]),
            resolution=r[10],
        )

    def add_complaint(self, complaint: Complaint) -> None:
        complaint.id = self.sql.scalar(
            "INSERT INTO complaints (request_id, source, severity, text, state, opened_by, "
            "opened_at) VALUES (:r, :source, :severity, :text, :state, :by, :at) RETURNING id",
            {
                "r": complaint.request_id,
                "source": complaint.source,
                "severity": complaint.severity.value,
                "text": complaint.text,
                "state": complaint.state,
                "by": complaint.opened_by,
                "at": self.sql.ts(complaint.opened_at),
            },
        )

    def complaint(self, complaint_id: int, *, lock: bool = False) -> Complaint | None:
        suffix = self.sql.lock_suffix if lock else ""
        row = self.sql.one(
            f"SELECT {_COMPLAINT} FROM complaints WHERE id = :id{suffix}", {"id": complaint_id}
        )
        return self._complaint(row) if row else None

    def save_complaint(self, complaint: Complaint) -> None:
        self.sql.run(
            "UPDATE complaints SET state = :state, resolved_by = :by, resolved_at = :at, "
            "resolution = :resolution WHERE id = :id",
            {
                "id": complaint.id,
                "state": complaint.state,
                "by": complaint.resolved_by,
                "at": self.sql.ts(complaint.resolved_at),
                "resolution": complaint.resolution,
            },
        )

    def complaints(
        self, request_id: int | None = None, state: str | None = None, limit: int = 200
    ) -> list[Complaint]:
        where, params = ["1 = 1"], {"limit": limit}
        if request_id is not None:
            where.append("request_id = :r")
            params["r"] = request_id
        if state is not None:
            where.append("state = :state")
            params["state"] = state  # type: ignore[assignment]
        return [
            self._complaint(r)
            for r in self.sql.all(
                f"SELECT {_COMPLAINT} FROM complaints WHERE {' AND '.join(where)} "
                "ORDER BY id DESC LIMIT :limit",
                params,
            )
        ]

    def has_complaint(self, request_id: int) -> bool:
        return (
            self.sql.one(
                "SELECT 1 FROM complaints WHERE request_id = :r LIMIT 1", {"r": request_id}
            )
            is not None
        )

    def open_complaint_for_customer(self, customer_id: int) -> bool:
        return (
            self.sql.one(
                "SELECT 1 FROM complaints c JOIN refund_requests r ON r.id = c.request_id "
                "WHERE r.customer_id = :c AND c.state = 'open' LIMIT 1",
                {"c": customer_id},
            )
            is not None
        )

    # ------------------------------------------------------------------ contacts
    def add_contact(self, contact: Contact) -> int:
        return int(
            self.sql.scalar(
                "INSERT INTO contacts (request_id, channel, direction, summary, by_id, by_name, "
                "at) VALUES (:r, :channel, :direction, :summary, :by_id, :by_name, :at) "
                "RETURNING id",
                {
                    "r": contact.request_id,
                    "channel": contact.channel.value,
                    "direction": contact.direction.value,
                    "summary": contact.summary,
                    "by_id": contact.by_id,
                    "by_name": contact.by_name,
                    "at": self.sql.ts(contact.at),
                },
            )
        )

    def contacts(self, request_id: int) -> list[Contact]:
        rows = self.sql.all(
            "SELECT id, request_id, channel, direction, summary, by_id, by_name, at "
            "FROM contacts WHERE request_id = :r ORDER BY at, id",
            {"r": request_id},
        )
        result = []
        for r in rows:
            at = self.sql.dt(r[7])
            assert at is not None
            result.append(
                Contact(
                    r[1], ContactChannel(r[2]), Direction(r[3]), r[4], r[6], at, by_id=r[5], id=r[0]
                )
            )
        return result

    # ------------------------------------------------------------------ compensation
    def add_compensation(self, item: Compensation) -> int:
        return int(
            self.sql.scalar(
                "INSERT INTO compensations (request_id, customer_id, kind, currency, "
                "amount_minor, points, code, expires_at, cost_minor, issued_by, issued_at) "
                "VALUES (:r, :c, :kind, :currency, :amount, :points, :code, :expires, :cost, "
                ":by, :at) RETURNING id",
                {
                    "r": item.request_id,
                    "c": item.customer_id,
                    "kind": item.kind.value,
                    "currency": item.cost.currency,
                    "amount": item.amount.minor if item.amount else None,
                    "points": item.points,
                    "code": item.code,
                    "expires": self.sql.ts(item.expires_at),
                    "cost": item.cost.minor,
                    "by": item.issued_by,
                    "at": self.sql.ts(item.issued_at),
                },
            )
        )

    def compensations(
        self, *, request_id: int | None = None, customer_id: int | None = None
    ) -> list[Compensation]:
        where, params = [], {}
        if request_id is not None:
            where.append("request_id = :r")
            params["r"] = request_id
        if customer_id is not None:
            where.append("customer_id = :c")
            params["c"] = customer_id
        rows = self.sql.all(
            "SELECT id, request_id, customer_id, kind, currency, amount_minor, points, code, "
            "expires_at, cost_minor, issued_by, issued_at FROM compensations "
            f"WHERE {' AND '.join(where) or '1 = 1'} ORDER BY id",
            params,
        )
        out = []
        for r in rows:
            issued_at = self.sql.dt(r[11])
            assert issued_at is not None
            out.append(
                Compensation(
                    request_id=r[1],
                    customer_id=r[2],
                    kind=CompensationKind(r[3]),
                    cost=Money.from_minor(r[9], r[4]),
                    issued_at=issued_at,
                    amount=Money.from_minor(r[5], r[4]) if r[5] is not None else None,
                    points=r[6],
                    code=r[7],
                    expires_at=self.sql.dt(r[8]),
                    issued_by=r[10],
                    id=r[0],
                )
            )
        return out

    def compensation_total(self, since: datetime | None = None) -> dict[str, int]:
        params: dict[str, Any] = {}
        where = ""
        if since is not None:
            where = "WHERE issued_at >= :since"
            params["since"] = self.sql.ts(since)
        return {
            currency: int(total)
            for currency, total in self.sql.all(
                f"SELECT currency, SUM(cost_minor) FROM compensations {where} GROUP BY currency",
                params,
            )
        }

    # ------------------------------------------------------------------ root causes
    def root_causes(self) -> list[ReasonCode]:
        return [
            ReasonCode(r[0], r[1], r[2], bool(r[3]))
            for r in self.sql.all(
                "SELECT code, label_zh, label_en, active FROM root_cause_tags "
                "ORDER BY position, code"
            )
        ]

    def put_root_cause(self, tag: ReasonCode, position: int) -> None:
        self.sql.run(
            "INSERT INTO root_cause_tags (code, label_zh, label_en, active, position) "
            "VALUES (:code, :zh, :en, :active, :position) ON CONFLICT (code) DO UPDATE SET "
            "label_zh = excluded.label_zh, label_en = excluded.label_en, "
            "active = excluded.active, position = excluded.position",
            {
                "code": tag.code,
                "zh": tag.label_zh,
                "en": tag.label_en,
                "active": tag.active,
                "position": position,
            },
        )
