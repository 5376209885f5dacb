"""Shop ids (external refs), orders in bulk, and the finance export's read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from refundflow.adapters.db.sql import SEP, Sql
from refundflow.domain.money import currency_exponent
from refundflow.domain.orders import Customer, Order, Tier
from refundflow.services.unit_of_work import ExternalRef

IN_CHUNK = 500  # bound parameters per IN (...) list


def _chunks(values: list[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _in(values: list[Any], prefix: str) -> tuple[str, dict[str, Any]]:
    params = {f"{prefix}{i}": v for i, v in enumerate(values)}
    return ", ".join(":" + k for k in params), params


class SqlExternalRefsRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def get(self, source: str, kind: str, external_id: str) -> ExternalRef | None:
        lock = self.sql.lock_suffix
        row = self.sql.one(
            "SELECT local_id, source_updated_at FROM external_refs WHERE source = :s "
            f"AND kind = :k AND external_id = :e{lock}",
            {"s": source, "k": kind, "e": external_id},
        )
        return ExternalRef(row[0], self.sql.dt(row[1])) if row else None

    def put(
        self,
        source: str,
        kind: str,
        external_id: str,
        local_id: int,
        source_updated_at: datetime | None,
        at: datetime,
    ) -> None:
        ts = self.sql.ts
        self.sql.run(
            "INSERT INTO external_refs (source, kind, external_id, local_id, source_updated_at, "
            "created_at, updated_at) VALUES (:s, :k, :e, :local, :src_at, :at, :at) "
            "ON CONFLICT (source, kind, external_id) DO UPDATE SET local_id = excluded.local_id, "
            "source_updated_at = excluded.source_updated_at, updated_at = excluded.updated_at",
            {
                "s": source,
                "k": kind,
                "e": external_id,
                "local": local_id,
                "src_at": ts(source_updated_at),
                "at": ts(at),
            },
        )


_ORDER_COLUMNS = (
    "id", "order_no", "channel", "currency", "customer_id", "shipping_fee_minor", "total_minor",
    "payment_methods", "placed_at", "paid_at", "shipped_at", "delivered_at", "created_at",
    "updated_at",
)  # fmt: skip
_LINE_COLUMNS = (
    "order_id", "sku", "name", "category", "quantity", "unit_price_minor", "discount_minor",
)  # fmt: skip


def _stamper(sql: Sql) -> Callable[[datetime | None], Any]:
    """``Sql.ts`` for many times, most of them UTC already, and many the very same one (a
    chunk's orders share created_at and updated_at)."""
    if sql.is_pg:
        return sql.ts
    last: list[Any] = [None, None]

    def stamp(at: datetime | None) -> Any:
        if at is None:
            return None
        if at is last[0]:
            return last[1]
        utc = at if at.tzinfo is UTC else at.astimezone(UTC)
        text = utc.isoformat(" ", "microseconds")[:26]
        last[0], last[1] = at, text
        return text

    return stamp


class SqlBulkOrdersRepository:
    """Set-wise reads and executemany writes. Ids of new customers and orders are reserved
    up front (SQLite: above the current maximum, under the write lock the transaction holds;
    PostgreSQL: from the tables' sequences), so lines can be written without a round trip
    per order."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def existing(self, order_nos: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(order_nos):
            marks, params = _in(chunk, "n")
            for order_no, order_id in self.sql.all(
                f"SELECT order_no, id FROM orders WHERE order_no IN ({marks})", params
            ):
                found[order_no] = order_id
        return found

    def customers_by_contact(
        self, phones: list[str], emails: list[str]
    ) -> tuple[dict[str, int], dict[str, int]]:
        by_phone: dict[str, int] = {}
        by_email: dict[str, int] = {}
        for column, values, found in (("phone", phones, by_phone), ("email", emails, by_email)):
            for chunk in _chunks(values):
                marks, params = _in(chunk, "c")
                for value, customer_id in self.sql.all(
                    f"SELECT {column}, id FROM customers WHERE {column} IN ({marks}) "
                    "ORDER BY id DESC",
                    params,
                ):
                    found[value] = customer_id  # descending: the oldest is written last
        return by_phone, by_email

    def customers(self, ids: list[int]) -> dict[int, Customer]:
        found: dict[int, Customer] = {}
        for chunk in _chunks(ids):
            marks, params = _in(chunk, "i")
            for r in self.sql.all(
                f"SELECT id, name, email, phone, tier FROM customers WHERE id IN ({marks})",
                params,
            ):
                found[r[0]] = Customer(r[1], r[2], r[3], Tier(r[4]), id=r[0])
        return found

    def _reserve(self, table: str, count: int) -> list[int]:
        if not count:
            return []
        if self.sql.is_pg:
            return [
                int(r[0])
                for r in self.sql.all(
                    f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                    "FROM generate_series(1, :n)",
                    {"n": count},
                )
            ]
        start = int(self.sql.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}"))
        return list(range(start + 1, start + count + 1))

    def add_many(self, orders: list[Order]) -> None:
        sql = self.sql
        ts = sql.ts
        new_customers = list(
            {id(o.customer): o.customer for o in orders if o.customer.id is None}.values()
        )
        for customer, customer_id in zip(
            new_customers, self._reserve("customers", len(new_customers)), strict=True
        ):
            customer.id = customer_id
        if new_customers:
            at = ts(orders[0].updated_at)
            sql.insert_many(
                "customers",
                ("id", "name", "email", "phone", "tier", "created_at", "updated_at"),
                [(c.id, c.name, c.email, c.phone, c.tier.value, at, at) for c in new_customers],
            )
        for order, order_id in zip(orders, self._reserve("orders", len(orders)), strict=True):
            order.id = order_id
        order_rows = []
        line_rows = []
        payment_rows = []
        stamp = _stamper(sql)
        first_at = orders[0].created_at if orders else None
        created = stamp(first_at)
        for o in orders:
            scale = currency_exponent(o.currency)
            shipping = int(o.shipping_fee.amount.scaleb(scale))
            total = shipping
            oid = o.id
            for line in o.lines:
                price = int(line.unit_price.amount.scaleb(scale))
                discount = int(line.discount.amount.scaleb(scale)) if line.discount else 0
                total += price * line.quantity - discount
                line_rows.append(
                    (oid, line.sku, line.name, line.category, line.quantity, price, discount)
                )
            methods = []
            for p in o.payments:
                methods.append(p.method.value)
                payment_rows.append(
                    (oid, p.method.value, int(p.amount.amount.scaleb(scale)), p.reference)
                )
            order_rows.append(
                (
                    oid,
                    o.order_no,
                    o.channel,
                    o.currency,
                    o.customer.id,
                    shipping,
                    total,
                    SEP.join(sorted(set(methods))),
                    stamp(o.placed_at),
                    stamp(o.paid_at),
                    stamp(o.shipped_at),
                    stamp(o.delivered_at),
                    created if o.created_at is first_at else stamp(o.created_at),
                    created if o.updated_at is first_at else stamp(o.updated_at),
                )
            )
        sql.insert_many("orders", _ORDER_COLUMNS, order_rows)
        sql.insert_many("order_lines", _LINE_COLUMNS, line_rows)
        if payment_rows:
            sql.insert_many(
                "payments", ("order_id", "method", "amount_minor", "reference"), payment_rows
            )

    def update_customers(self, customers: list[Customer], at: datetime) -> None:
        if not customers:
            return
        self.sql.many(
            "UPDATE customers SET name = :name, email = COALESCE(:email, email), "
            "phone = COALESCE(:phone, phone), tier = :tier, updated_at = :at WHERE id = :id",
            [
                {
                    "id": c.id,
                    "name": c.name,
                    "email": c.email,
                    "phone": c.phone,
                    "tier": c.tier.value,
                    "at": self.sql.ts(at),
                }
                for c in customers
            ],
        )


_EXPORT_BY = {"created": "r.created_at", "updated": "r.updated_at", "refunded": "r.refunded_at"}


class SqlExportsRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def requests(self, start: datetime, end: datetime, by: str) -> Iterator[tuple[Any, ...]]:
        column = _EXPORT_BY[by]
        dt = self.sql.dt
        rows = self.sql.stream(
            "SELECT r.number, r.id, r.created_at, o.order_no, o.channel, c.name, r.type, "
            "r.reason, r.status, r.currency, r.amount_requested_minor, "
            "r.amount_approved_minor, r.amount_refunded_minor, r.include_shipping, "
            "r.shipping_minor, r.refund_route, r.intake_channel, r.skus, r.decision_rule, "
            "r.approved_at, r.refunded_at, r.updated_at "
            "FROM refund_requests r JOIN orders o ON o.id = r.order_id "
            "JOIN customers c ON c.id = r.customer_id "
            f"WHERE {column} >= :start AND {column} < :end ORDER BY {column}, r.id",
            {"start": self.sql.ts(start), "end": self.sql.ts(end)},
        )
        for row in rows:
            yield (*row[:2], dt(row[2]), *row[3:19], dt(row[19]), dt(row[20]), dt(row[21]))
