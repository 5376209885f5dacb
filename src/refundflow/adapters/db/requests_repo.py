"""Refund requests, their lines and timelines; domain events go to the outbox."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from refundflow.adapters.db.sql import SEP, Sql
from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.decisions import Decision
from refundflow.domain.events import DomainEvent
from refundflow.domain.lifecycle import RequestType, Status
from refundflow.domain.money import Money
from refundflow.domain.permissions import Role
from refundflow.domain.requests import (
    SUBMIT,
    IntakeChannel,
    RefundRequest,
    RefundRoute,
    RequestLine,
    TimelineEvent,
    request_id_of,
)
from refundflow.policy.history import CustomerHistory, PastRequest
from refundflow.services.unit_of_work import RequestFilter

_RESPONDERS = frozenset({ActorKind.STAFF, ActorKind.POLICY})
_COLUMNS = (
    "id, number, order_id, customer_id, type, reason, description, include_shipping, "
    "shipping_minor, refund_route, intake_channel, currency, amount_requested_minor, "
    "amount_approved_minor, amount_refunded_minor, status, requires_return, goods_received, "
    "appealed, return_carrier, return_tracking_no, created_at, updated_at, "
    "(SELECT order_no FROM orders WHERE orders.id = refund_requests.order_id), "
    "language, categories, skus, decision, priority, fast_track, queue, auto_execute, "
    "approved_at, refunded_at, approved_by, finance_approval_required, finance_approved_by, "
    "return_delivered_at, root_cause, exchange_sku, exchange_name, exchange_price_minor, "
    "amount_payable_minor, parent_id, channel, customer_tier, order_shipped"
)


def _decimal(minor: int | None, currency: str) -> Decimal:
    return Money.from_minor(minor, currency).amount if minor is not None else Decimal(0)


def _money(minor: int | None, currency: str) -> Money | None:
    return Money.from_minor(minor, currency) if minor is not None else None


class SqlRequestsRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def next_id(self) -> int:
        if self.sql.is_pg:
            return int(self.sql.scalar("SELECT nextval('refund_request_id_seq')"))
        # The write lock (BEGIN IMMEDIATE) is held, so no other writer can take the same id.
        return int(self.sql.scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM refund_requests"))

    # ------------------------------------------------------------------ reads
    def _request(self, row: tuple[Any, ...], lines: list[RequestLine]) -> RefundRequest:
        currency = row[11]
        dt = self.sql.dt
        created_at, updated_at = dt(row[21]), dt(row[22])
        assert created_at is not None and updated_at is not None
        requested = Money.from_minor(row[12], currency)
        return RefundRequest(
            id=row[0],
            number=row[1],
            order_id=row[2],
            order_no=row[23],
            customer_id=row[3],
            type=RequestType(row[4]),
            reason=row[5],
            description=row[6],
            lines=lines,
            include_shipping=bool(row[7]),
            shipping_amount=Money.from_minor(row[8], currency),
            refund_route=RefundRoute(row[9]),
            intake_channel=IntakeChannel(row[10]),
            currency=currency,
            amount_requested=requested,
            amount_approved=_money(row[13], currency),
            amount_refunded=_money(row[14], currency),
            status=Status(row[15]),
            requires_return=None if row[16] is None else bool(row[16]),
            goods_received=bool(row[17]),
            appealed=bool(row[18]),
            return_carrier=row[19],
            return_tracking_no=row[20],
            created_at=created_at,
            updated_at=updated_at,
            language=row[24],
            categories=tuple(row[25].split(SEP)) if row[25] else (),
            skus=tuple(row[26].split(SEP)) if row[26] else (),
            decision=Decision.from_dict(orjson.loads(row[27])) if row[27] else None,
            priority=row[28],
            fast_track=bool(row[29]),
            queue=row[30],
            auto_execute=bool(row[31]),
            approved_at=dt(row[32]),
            refunded_at=dt(row[33]),
            approved_by=row[34],
            finance_approval_required=bool(row[35]),
            finance_approved_by=row[36],
            return_delivered_at=dt(row[37]),
            root_cause=row[38],
            exchange_sku=row[39],
            exchange_name=row[40],
            exchange_price=_money(row[41], currency),
            amount_payable=_money(row[42], currency),
            parent_id=row[43],
            channel=row[44],
            customer_tier=row[45],
            order_shipped=bool(row[46]),
        )

    def _lines(
        self, request_ids: list[int], currencies: dict[int, str]
    ) -> dict[int, list[RequestLine]]:
        by_request: dict[int, list[RequestLine]] = {rid: [] for rid in request_ids}
        if not request_ids:
            return by_request
        params = {f"r{i}": rid for i, rid in enumerate(request_ids)}
        rows = self.sql.all(
            "SELECT id, request_id, order_line_id, sku, name, quantity, amount_minor, grade "
            f"FROM refund_request_lines WHERE request_id IN ({', '.join(':' + k for k in params)}) "
            "ORDER BY id",
            params,
        )
        for r in rows:
            by_request[r[1]].append(
                RequestLine(
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    Money.from_minor(r[6], currencies[r[1]]),
                    id=r[0],
                    grade=r[7],
                )
            )
        return by_request

    def _get(self, where: str, key: Any, lock: bool) -> RefundRequest | None:
        suffix = self.sql.lock_suffix if lock else ""
        row = self.sql.one(
            f"SELECT {_COLUMNS} FROM refund_requests WHERE {where}{suffix}", {"k": key}
        )
        if row is None:
            return None
        return self._request(row, self._lines([row[0]], {row[0]: row[11]})[row[0]])

    def get(self, request_id: int, *, lock: bool = False) -> RefundRequest | None:
        return self._get("id = :k", request_id, lock)

    def get_by_number(self, number: str, *, lock: bool = False) -> RefundRequest | None:
        request = self.get(request_id_of(number) or 0, lock=lock)
        return request if request is not None and request.number == number else None

    def timeline(self, request_id: int) -> list[TimelineEvent]:
        dt = self.sql.dt
        events = []
        for r in self.sql.all(
            "SELECT at, actor_kind, actor_role, actor_id, actor_name, action, from_status, "
            "to_status, reason, data FROM refund_request_events WHERE request_id = :r ORDER BY id",
            {"r": request_id},
        ):
            at = dt(r[0])
            assert at is not None
            events.append(
                TimelineEvent(
                    at=at,
                    actor=Actor(ActorKind(r[1]), Role(r[2]), r[3], r[4]),
                    action=r[5],
                    from_status=Status(r[6]) if r[6] else None,
                    to_status=Status(r[7]),
                    reason=r[8],
                    data=orjson.loads(r[9]),
                )
            )
        return events

    def search(
        self, filters: RequestFilter, *, before_id: int | None, limit: int
    ) -> list[RefundRequest]:
        where = ["1 = 1"]
        params: dict[str, Any] = {"limit": limit}
        if filters.status is not None:
            where.append("status = :status")
            params["status"] = filters.status.value
        if filters.type is not None:
            where.append("type = :type")
            params["type"] = filters.type.value
        if filters.order_id is not None:
            where.append("order_id = :order_id")
            params["order_id"] = filters.order_id
        if filters.customer_id is not None:
            where.append("customer_id = :customer_id")
            params["customer_id"] = filters.customer_id
        if filters.q:
            where.append(
                "(id = :q_id OR return_tracking_no = :q OR order_id IN "
                "(SELECT id FROM orders WHERE order_no = :q))"
            )
            params["q"] = filters.q.strip()
            params["q_id"] = request_id_of(params["q"]) or 0
            if params["q"].isdigit() and len(params["q"]) == 4:
                # The last four digits of the customer's phone (what callers quote).
                where[-1] = where[-1][:-1] + (
                    " OR customer_id IN (SELECT id FROM customers WHERE phone LIKE :suffix))"
                )
                params["suffix"] = "%" + params["q"]
        if before_id is not None:
            where.append("id < :before")
            params["before"] = before_id
        rows = self.sql.all(
            f"SELECT {_COLUMNS} FROM refund_requests WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT :limit",
            params,
        )
        lines = self._lines([r[0] for r in rows], {r[0]: r[11] for r in rows})
        return [self._request(r, lines[r[0]]) for r in rows]

    def customer_history(self, customer_id: int, *, exclude_id: int) -> CustomerHistory:
        sql = self.sql
        dt = sql.dt
        placed = [
            placed_at
            for (value,) in sql.all(
                "SELECT placed_at FROM orders WHERE customer_id = :c", {"c": customer_id}
            )
            if (placed_at := dt(value)) is not None
        ]
        past = []
        for row in sql.all(
            "SELECT created_at, status, order_id, approved_at, decision_outcome, currency, "
            "amount_approved_minor, refunded_at, amount_refunded_minor FROM refund_requests "
            "WHERE customer_id = :c AND id <> :me",
            {"c": customer_id, "me": exclude_id},
        ):
            created_at = dt(row[0])
            assert created_at is not None
            past.append(
                PastRequest(
                    created_at=created_at,
                    status=row[1],
                    order_id=row[2],
                    approved_at=dt(row[3]),
                    approved_by_policy=row[4] == "approve",
                    amount_approved=_decimal(row[6], row[5]),
                    refunded_at=dt(row[7]),
                    amount_refunded=_decimal(row[8], row[5]),
                )
            )
        return CustomerHistory.of(placed, past)

    def for_order(self, order_id: int) -> list[RefundRequest]:
        return self.search(RequestFilter(order_id=order_id), before_id=None, limit=10_000)

    # ------------------------------------------------------------------ writes
    def _fields(self, request: RefundRequest) -> dict[str, Any]:
        return {
            "id": request.id,
            "approved": request.amount_approved.minor if request.amount_approved else None,
            "refunded": request.amount_refunded.minor if request.amount_refunded else None,
            "status": request.status.value,
            "requires_return": request.requires_return,
            "goods_received": request.goods_received,
            "appealed": request.appealed,
            "carrier": request.return_carrier,
            "tracking": request.return_tracking_no,
            "updated_at": self.sql.ts(request.updated_at),
            "priority": request.priority,
            "fast_track": request.fast_track,
            "queue": request.queue,
            "auto_execute": request.auto_execute,
            "approved_at": self.sql.ts(request.approved_at),
            "refunded_at": self.sql.ts(request.refunded_at),
            "approved_by": request.approved_by,
            "fin_required": request.finance_approval_required,
            "fin_by": request.finance_approved_by,
            "delivered": self.sql.ts(request.return_delivered_at),
            "root_cause": request.root_cause,
            "payable": request.amount_payable.minor if request.amount_payable else None,
            "first_response": self.sql.ts(_first_response(request)),
            **self._decision(request),
        }

    @staticmethod
    def _decision(request: RefundRequest) -> dict[str, Any]:
        decision = request.decision
        if decision is None:
            return {"d_outcome": None, "d_rule": None, "d_version": None, "decision": None}
        return {
            "d_outcome": decision.outcome,
            "d_rule": decision.rule,
            "d_version": decision.policy_version,
            "decision": orjson.dumps(decision.as_dict(request.language)).decode(),
        }

    def document(self, request_id: int | None = None, number: str | None = None) -> bytes | None:
        if request_id is not None:
            row = self.sql.one(
                "SELECT body FROM refund_request_docs WHERE request_id = :k", {"k": request_id}
            )
        else:
            row = self.sql.one(
                "SELECT d.body FROM refund_request_docs d JOIN refund_requests r "
                "ON r.id = d.request_id WHERE r.id = :id AND r.number = :k",
                {"id": request_id_of(number or "") or 0, "k": number},
            )
        return row[0].encode() if row is not None else None

    def put_document(self, request_id: int, view: dict[str, Any], *, new: bool) -> None:
        body = orjson.dumps(view).decode()
        if new:
            self.sql.run(
                "INSERT INTO refund_request_docs (request_id, body) VALUES (:id, :body)",
                {"id": request_id, "body": body},
            )
        else:
            self.sql.run(
                "UPDATE refund_request_docs SET body = :body WHERE request_id = :id",
                {"id": request_id, "body": body},
            )

    def add(self, request: RefundRequest) -> None:
        sql = self.sql
        created_by = None
        if request.new_timeline:
            actor = request.new_timeline[0].actor
            created_by = f"{actor.kind.value}:{actor.id}" if actor.id else actor.kind.value
        sql.run(
            "INSERT INTO refund_requests (id, number, order_id, customer_id, type, reason, "
            "description, include_shipping, shipping_minor, refund_route, intake_channel, "
            "currency, amount_requested_minor, amount_approved_minor, amount_refunded_minor, "
            "status, requires_return, goods_received, appealed, return_carrier, "
            "return_tracking_no, created_by, created_at, updated_at, language, categories, skus, "
            "decision_outcome, decision_rule, decision_policy_version, decision, priority, "
            "fast_track, queue, auto_execute, approved_at, refunded_at, approved_by, "
            "finance_approval_required, finance_approved_by, return_delivered_at, root_cause, "
            "exchange_sku, exchange_name, exchange_price_minor, amount_payable_minor, "
            "parent_id, channel, customer_tier, order_shipped, first_response_at) VALUES (:id, "
            ":number, "
            ":order_id, :customer_id, :type, :reason, :description, :include_shipping, "
            ":shipping, :route, :channel, :currency, :requested, :approved, :refunded, :status, "
            ":requires_return, :goods_received, :appealed, :carrier, :tracking, :created_by, "
            ":created_at, :updated_at, :language, :categories, :skus, :d_outcome, :d_rule, "
            ":d_version, :decision, :priority, :fast_track, :queue, :auto_execute, :approved_at, "
            ":refunded_at, :approved_by, :fin_required, :fin_by, :delivered, :root_cause, "
            ":exchange_sku, :exchange_name, :exchange_price, :payable, :parent_id, "
            ":channel_snapshot, :tier, :shipped, :first_response)",
            {
                **self._fields(request),
                "number": request.number,
                "order_id": request.order_id,
                "customer_id": request.customer_id,
                "type": request.type.value,
                "reason": request.reason,
                "description": request.description,
                "include_shipping": request.include_shipping,
                "shipping": request.shipping_amount.minor,
                "route": request.refund_route.value,
                "channel": request.intake_channel.value,
                "currency": request.currency,
                "requested": request.amount_requested.minor,
                "created_by": created_by,
                "created_at": sql.ts(request.created_at),
                "language": request.language,
                "categories": SEP.join(request.categories),
                "skus": SEP.join(request.skus),
                "exchange_sku": request.exchange_sku,
                "exchange_name": request.exchange_name,
                "exchange_price": request.exchange_price.minor if request.exchange_price else None,
                "parent_id": request.parent_id,
                "channel_snapshot": request.channel,
                "tier": request.customer_tier,
                "shipped": request.order_shipped,
            },
        )
        sql.many(
            "INSERT INTO refund_request_lines (request_id, order_line_id, sku, name, quantity, "
            "amount_minor) VALUES (:r, :line, :sku, :name, :quantity, :amount)",
            [
                {
                    "r": request.id,
                    "line": line.order_line_id,
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity,
                    "amount": line.amount.minor,
                }
                for line in request.lines
            ],
        )
        self._flush(request)

    def save(self, request: RefundRequest) -> None:
        self.sql.run(
            "UPDATE refund_requests SET amount_approved_minor = :approved, "
            "amount_refunded_minor = :refunded, status = :status, "
            "requires_return = :requires_return, goods_received = :goods_received, "
            "appealed = :appealed, return_carrier = :carrier, return_tracking_no = :tracking, "
            "updated_at = :updated_at, priority = :priority, fast_track = :fast_track, "
            "queue = :queue, auto_execute = :auto_execute, approved_at = :approved_at, "
            "refunded_at = :refunded_at, decision_outcome = :d_outcome, "
            "approved_by = :approved_by, finance_approval_required = :fin_required, "
            "finance_approved_by = :fin_by, return_delivered_at = :delivered, "
            "root_cause = :root_cause, amount_payable_minor = :payable, "
            "decision_rule = :d_rule, decision_policy_version = :d_version, "
            "decision = :decision, "
            "first_response_at = COALESCE(first_response_at, :first_response) WHERE id = :id",
            self._fields(request),
        )
        graded = [{"id": line.id, "grade": line.grade} for line in request.lines if line.grade]
        if graded:
            self.sql.many("UPDATE refund_request_lines SET grade = :grade WHERE id = :id", graded)
        self._flush(request)

    def _flush(self, request: RefundRequest) -> None:
        timeline, events = request.pull_events()
        sql = self.sql
        if timeline:
            sql.many(
                "INSERT INTO refund_request_events (request_id, at, actor_kind, actor_role, "
                "actor_id, actor_name, action, from_status, to_status, reason, data) VALUES "
                "(:r, :at, :kind, :role, :actor_id, :name, :action, :from_status, :to_status, "
                ":reason, :data)",
                [
                    {
                        "r": request.id,
                        "at": sql.ts(e.at),
                        "kind": e.actor.kind.value,
                        "role": e.actor.role.value,
                        "actor_id": e.actor.id,
                        "name": e.actor.name,
                        "action": e.action,
                        "from_status": e.from_status.value if e.from_status else None,
                        "to_status": e.to_status.value,
                        "reason": e.reason,
                        "data": orjson.dumps(e.data).decode(),
                    }
                    for e in timeline
                ],
            )
        if events:
            write_outbox(sql, events)


def _first_response(request: RefundRequest) -> datetime | None:
    """The first of the new timeline events that answers the customer: by staff or by the
    policy, other than the submission (the dashboard's first response; kept once set)."""
    for event in request.new_timeline:
        if event.actor.kind in _RESPONDERS and event.action != SUBMIT:
            return event.at
    return None


def write_outbox(sql: Sql, events: list[DomainEvent]) -> None:
    sql.many(
        "INSERT INTO outbox (topic, key, payload, created_at, available_at, attempts) "
        "VALUES (:topic, :key, :payload, :at, :at, 0)",
        [
            {
                "topic": e.topic,
                "key": e.key,
                "payload": orjson.dumps(e.payload).decode(),
                "at": sql.ts(e.at),
            }
            for e in events
        ],
    )
