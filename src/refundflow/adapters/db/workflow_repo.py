"""Work items, timers, SLA rules and the shop's own calendar days."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from refundflow.adapters.db.sql import Sql
from refundflow.domain.sla import AutoAction, SlaRule, Step
from refundflow.domain.workitems import ItemKind, ItemState, Timer, TimerKind, WorkItem
from refundflow.services.unit_of_work import QueueFilter, QueueRow

_ITEM = (
    "id, request_id, kind, queue, step, state, owner, priority, due_at, business_hours, "
    "complaint_id, created_at, closed_at, reminded_at, escalated_at, note"
)


class SqlWorkflowRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    # ------------------------------------------------------------------ work items
    def _item(self, row: tuple[Any, ...]) -> WorkItem:
        dt = self.sql.dt
        created_at = dt(row[11])
        assert created_at is not None
        return WorkItem(
            id=row[0],
            request_id=row[1],
            kind=ItemKind(row[2]),
            queue=row[3],
            step=row[4],
            state=ItemState(row[5]),
            owner=row[6],
            priority=row[7],
            due_at=dt(row[8]),
            business_hours=bool(row[9]),
            complaint_id=row[10],
            created_at=created_at,
            closed_at=dt(row[12]),
            reminded_at=dt(row[13]),
            escalated_at=dt(row[14]),
            note=row[15],
        )

    def open_items(self, request_id: int) -> list[WorkItem]:
        return [
            self._item(r)
            for r in self.sql.all(
                f"SELECT {_ITEM} FROM work_items WHERE request_id = :r AND state = 'open' "
                "ORDER BY id",
                {"r": request_id},
            )
        ]

    def item(self, item_id: int, *, lock: bool = False) -> WorkItem | None:
        suffix = self.sql.lock_suffix if lock else ""
        row = self.sql.one(
            f"SELECT {_ITEM} FROM work_items WHERE id = :id{suffix}", {"id": item_id}
        )
        return self._item(row) if row else None

    def add_item(self, item: WorkItem) -> None:
        ts = self.sql.ts
        item.id = self.sql.scalar(
            "INSERT INTO work_items (request_id, kind, queue, step, state, owner, priority, "
            "due_at, business_hours, complaint_id, created_at, note) VALUES (:r, :kind, "
            ":queue, :step, :state, :owner, :priority, :due, :business, :complaint, :at, "
            ":note) RETURNING id",
            {
                "r": item.request_id,
                "kind": item.kind.value,
                "queue": item.queue,
                "step": item.step,
                "state": item.state.value,
                "owner": item.owner,
                "priority": item.priority,
                "due": ts(item.due_at),
                "business": item.business_hours,
                "complaint": item.complaint_id,
                "at": ts(item.created_at),
                "note": item.note,
            },
        )

    def save_item(self, item: WorkItem) -> None:
        ts = self.sql.ts
        self.sql.run(
            "UPDATE work_items SET queue = :queue, state = :state, owner = :owner, "
            "priority = :priority, due_at = :due, closed_at = :closed, reminded_at = :reminded, "
            "escalated_at = :escalated, note = :note WHERE id = :id",
            {
                "id": item.id,
                "queue": item.queue,
                "state": item.state.value,
                "owner": item.owner,
                "priority": item.priority,
                "due": ts(item.due_at),
                "closed": ts(item.closed_at),
                "reminded": ts(item.reminded_at),
                "escalated": ts(item.escalated_at),
                "note": item.note,
            },
        )

    def queue(
        self,
        name: str,
        filters: QueueFilter,
        *,
        limit: int,
        after: tuple[datetime | None, int] | None,
    ) -> list[QueueRow]:
        """Open items of a queue, soonest due first, with what staff need to triage."""
        where = ["w.state = 'open'"]
        params: dict[str, Any] = {"limit": limit}
        if name == "manager":
            where.append("w.escalated_at IS NOT NULL")
        else:
            where.append("w.queue = :queue")
            params["queue"] = name
        for column, value in (
            ("r.type", filters.type),
            ("r.reason", filters.reason),
            ("r.channel", filters.channel),
            ("r.customer_tier", filters.tier),
            ("w.owner", filters.owner),
            ("w.step", filters.step),
        ):
            if value is not None:
                key = f"p{len(params)}"
                where.append(f"{column} = :{key}")
                params[key] = value
        if filters.min_amount_minor is not None:
            where.append("r.amount_requested_minor >= :min_amount")
            params["min_amount"] = filters.min_amount_minor
        if filters.overdue_at is not None:
            where.append("w.due_at < :now")
            params["now"] = self.sql.ts(filters.overdue_at)
        if after is not None:
            due, item_id = after
            params["after_id"] = item_id
            if due is None:  # items without a deadline come last
                where.append("w.due_at IS NULL AND w.id > :after_id")
            else:
                where.append(
                    "(w.due_at IS NULL OR w.due_at > :after_due "
                    "OR (w.due_at = :after_due AND w.id > :after_id))"
                )
                params["after_due"] = self.sql.ts(due)
        rows = self.sql.all(
            f"SELECT {', '.join('w.' + c for c in _ITEM.split(', '))}, r.number, r.type, "
            "r.reason, r.status, r.currency, r.amount_requested_minor, r.channel, "
            "r.customer_tier, r.fast_track FROM work_items w JOIN refund_requests r "
            f"ON r.id = w.request_id WHERE {' AND '.join(where)} "
            "ORDER BY CASE WHEN w.due_at IS NULL THEN 1 ELSE 0 END, w.due_at, w.id "
            "LIMIT :limit",
            params,
        )
        return [
            QueueRow(
                self._item(r[:16]),
                r[16],
                r[17],
                r[18],
                r[19],
                r[20],
                r[21],
                r[22],
                r[23],
                bool(r[24]),
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ timers
    def add_timers(self, timers: Iterable[Timer]) -> None:
        ts = self.sql.ts
        rows = [
            {
                "item": t.work_item_id,
                "r": t.request_id,
                "kind": t.kind.value,
                "action": t.action,
                "due": ts(t.due_at),
            }
            for t in timers
        ]
        if rows:
            self.sql.many(
                "INSERT INTO timers (work_item_id, request_id, kind, action, due_at) "
                "VALUES (:item, :r, :kind, :action, :due)",
                rows,
            )

    def cancel_timers(self, work_item_id: int, at: datetime) -> None:
        self.sql.run(
            "UPDATE timers SET cancelled_at = :at WHERE work_item_id = :item "
            "AND fired_at IS NULL AND cancelled_at IS NULL",
            {"item": work_item_id, "at": self.sql.ts(at)},
        )

    def due_timers(
        self, now: datetime, limit: int, worker: str, lease_until: datetime
    ) -> list[Timer]:
        """Lease up to ``limit`` due timers, oldest first (SKIP LOCKED on PostgreSQL)."""
        sql = self.sql
        skip = " FOR UPDATE SKIP LOCKED" if sql.is_pg else ""
        rows = sql.all(
            "UPDATE timers SET locked_by = :worker, locked_until = :until WHERE id IN ("
            "SELECT id FROM timers WHERE fired_at IS NULL AND cancelled_at IS NULL "
            "AND due_at <= :now AND (locked_until IS NULL OR locked_until < :now) "
            f"ORDER BY due_at, id LIMIT :limit{skip}) "
            "RETURNING id, work_item_id, request_id, kind, action, due_at",
            {"worker": worker, "until": sql.ts(lease_until), "now": sql.ts(now), "limit": limit},
        )
        rows.sort(key=lambda r: (str(r[5]), r[0]))
        return [
            Timer(r[1], r[2], TimerKind(r[3]), sql.dt(r[5]) or now, r[4], id=r[0]) for r in rows
        ]

    def fire(self, timer_id: int, at: datetime) -> bool:
        """Mark a timer fired; False if it already fired or was cancelled (it then acts
        nowhere: this conditional update in the acting transaction makes it fire once)."""
        return (
            self.sql.run(
                "UPDATE timers SET fired_at = :at WHERE id = :id AND fired_at IS NULL "
                "AND cancelled_at IS NULL",
                {"id": timer_id, "at": self.sql.ts(at)},
            )
            == 1
        )

    # ------------------------------------------------------------------ SLA rules
    def sla_rules(self) -> list[SlaRule]:
        return [
            SlaRule(
                step=Step(r[1]),
                minutes=r[2],
                business_hours=bool(r[3]),
                channel=r[4],
                type=r[5],
                tier=r[6],
                fast_track=None if r[7] is None else bool(r[7]),
                order_shipped=None if r[8] is None else bool(r[8]),
                remind_at=Decimal(r[9]) if r[9] else None,
                on_breach=AutoAction(r[10]) if r[10] else None,
                preset=r[11],
                id=r[0],
            )
            for r in self.sql.all(
                "SELECT id, step, minutes, business_hours, channel, type, tier, fast_track, "
                "order_shipped, remind_at, on_breach, preset FROM sla_rules ORDER BY id"
            )
        ]

    def replace_sla_rules(self, rules: Iterable[SlaRule], *, preset: str | None = None) -> None:
        """Replace every rule, or only one preset's rules when ``preset`` is given."""
        if preset is None:
            self.sql.run("DELETE FROM sla_rules")
        else:
            self.sql.run("DELETE FROM sla_rules WHERE preset = :p", {"p": preset})
        rows = [
            {
                "step": r.step.value,
                "minutes": r.minutes,
                "business": r.business_hours,
                "channel": r.channel,
                "type": r.type,
                "tier": r.tier,
                "fast": r.fast_track,
                "shipped": r.order_shipped,
                "remind": str(r.remind_at) if r.remind_at is not None else None,
                "breach": r.on_breach.value if r.on_breach else None,
                "preset": r.preset,
            }
            for r in rules
        ]
        if rows:
            self.sql.many(
                "INSERT INTO sla_rules (step, minutes, business_hours, channel, type, tier, "
                "fast_track, order_shipped, remind_at, on_breach, preset) VALUES (:step, "
                ":minutes, :business, :channel, :type, :tier, :fast, :shipped, :remind, "
                ":breach, :preset)",
                rows,
            )

    # ------------------------------------------------------------------ calendar
    def calendar_days(self) -> list[tuple[date, str, str]]:
        return [
            (date.fromisoformat(r[0]), r[1], r[2])
            for r in self.sql.all("SELECT day, kind, name FROM calendar_days ORDER BY day")
        ]

    def replace_calendar_days(self, days: Iterable[tuple[date, str, str]]) -> None:
        self.sql.run("DELETE FROM calendar_days")
        rows = [{"day": d.isoformat(), "kind": k, "name": n} for d, k, n in days]
        if rows:
            self.sql.many(
                "INSERT INTO calendar_days (day, kind, name) VALUES (:day, :kind, :name)", rows
            )
