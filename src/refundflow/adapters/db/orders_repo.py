"""Orders, their customers, lines and payments."""

from __future__ import annotations

from typing import Any

from refundflow.adapters.db.sql import SEP, Sql
from refundflow.domain.balances import Holds, LineHold
from refundflow.domain.money import Money
from refundflow.domain.orders import Customer, Order, OrderLine, Payment, PaymentMethod, Tier

_ORDER = """
SELECT o.id, o.order_no, o.channel, o.currency, o.shipping_fee_minor, o.placed_at, o.paid_at,
       o.shipped_at, o.delivered_at, o.created_at, o.updated_at,
       c.id, c.name, c.email, c.phone, c.tier
FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE """


class SqlOrdersRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    # ------------------------------------------------------------------ reads
    def get(self, order_no: str, *, lock: bool = False) -> Order | None:
        return self._load("o.order_no = :key", order_no, lock)

    def get_by_id(self, order_id: int, *, lock: bool = False) -> Order | None:
        return self._load("o.id = :key", order_id, lock)

    def _load(self, where: str, key: Any, lock: bool) -> Order | None:
        sql = self.sql
        suffix = " FOR UPDATE OF o" if lock and sql.is_pg else ""
        row = sql.one(_ORDER + where + suffix, {"key": key})
        if row is None:
            return None
        order_id, currency = row[0], row[3]
        lines = [
            OrderLine(
                sku=r[1],
                name=r[2],
                category=r[3],
                quantity=r[4],
                unit_price=Money.from_minor(r[5], currency),
                discount=Money.from_minor(r[6], currency),
                id=r[0],
            )
            for r in sql.all(
                "SELECT id, sku, name, category, quantity, unit_price_minor, discount_minor "
                "FROM order_lines WHERE order_id = :o ORDER BY id",
                {"o": order_id},
            )
        ]
        payments = [
            Payment(PaymentMethod(r[1]), Money.from_minor(r[2], currency), r[3], id=r[0])
            for r in sql.all(
                "SELECT id, method, amount_minor, reference FROM payments "
                "WHERE order_id = :o ORDER BY id",
                {"o": order_id},
            )
        ]
        dt = sql.dt
        placed_at = dt(row[5])
        assert placed_at is not None
        return Order(
            order_no=row[1],
            channel=row[2],
            currency=currency,
            customer=Customer(
                name=row[12], email=row[13], phone=row[14], tier=Tier(row[15]), id=row[11]
            ),
            lines=lines,
            payments=payments,
            shipping_fee=Money.from_minor(row[4], currency),
            placed_at=placed_at,
            paid_at=dt(row[6]),
            shipped_at=dt(row[7]),
            delivered_at=dt(row[8]),
            id=order_id,
            created_at=dt(row[9]),
            updated_at=dt(row[10]),
        )

    def any(self) -> bool:
        return self.sql.one("SELECT 1 FROM orders LIMIT 1") is not None

    def get_by_prefix_exists(self, prefix: str) -> bool:
        """Whether an order number contains ``prefix`` after its two-letter channel code."""
        return (
            self.sql.one(
                "SELECT 1 FROM orders WHERE order_no LIKE :pattern LIMIT 1",
                {"pattern": f"__{prefix}%"},
            )
            is not None
        )

    def find_customer(self, email: str | None, phone: str | None) -> int | None:
        if phone:
            found = self.sql.scalar(
                "SELECT id FROM customers WHERE phone = :p ORDER BY id LIMIT 1", {"p": phone}
            )
            if found is not None:
                return int(found)
        if email:
            found = self.sql.scalar(
                "SELECT id FROM customers WHERE email = :e ORDER BY id LIMIT 1", {"e": email}
            )
            if found is not None:
                return int(found)
        return None

    def holds(self, order: Order) -> Holds:
        sql = self.sql
        currency = order.currency
        holds = Holds(currency)
        for line_id, units, value in sql.all(
            "SELECT l.order_line_id, SUM(l.quantity), SUM(l.amount_minor) "
            "FROM refund_request_lines l JOIN refund_requests r ON r.id = l.request_id "
            "WHERE r.order_id = :o AND r.status NOT IN ('rejected', 'cancelled') "
            "GROUP BY l.order_line_id",
            {"o": order.id},
        ):
            holds.lines[line_id] = LineHold(int(units), Money.from_minor(int(value), currency))
        shipping, money = sql.one(
            "SELECT COALESCE(MAX(CASE WHEN include_shipping THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(COALESCE(amount_refunded_minor, amount_approved_minor, "
            "amount_requested_minor)), 0) "
            "FROM refund_requests WHERE order_id = :o AND status NOT IN ('rejected', 'cancelled')",
            {"o": order.id},
        ) or (0, 0)
        holds.shipping = bool(shipping)
        holds.money = Money.from_minor(int(money), currency)
        return holds

    # ------------------------------------------------------------------ writes
    def _save_customer(self, customer: Customer, order: Order) -> None:
        sql = self.sql
        params = {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "tier": customer.tier.value,
            "at": sql.ts(order.updated_at),
        }
        if customer.id is None:
            customer.id = sql.scalar(
                "INSERT INTO customers (name, email, phone, tier, created_at, updated_at) "
                "VALUES (:name, :email, :phone, :tier, :at, :at) RETURNING id",
                params,
            )
        else:
            sql.run(
                "UPDATE customers SET name = :name, email = COALESCE(:email, email), "
                "phone = COALESCE(:phone, phone), tier = :tier, updated_at = :at WHERE id = :id",
                {**params, "id": customer.id},
            )

    def _order_params(self, order: Order) -> dict[str, Any]:
        ts = self.sql.ts
        return {
            "order_no": order.order_no,
            "channel": order.channel,
            "currency": order.currency,
            "customer_id": order.customer.id,
            "shipping": order.shipping_fee.minor,
            "total": order.total.minor,
            "methods": SEP.join(sorted({p.method.value for p in order.payments})),
            "placed_at": ts(order.placed_at),
            "paid_at": ts(order.paid_at),
            "shipped_at": ts(order.shipped_at),
            "delivered_at": ts(order.delivered_at),
            "created_at": ts(order.created_at),
            "updated_at": ts(order.updated_at),
        }

    def add(self, order: Order) -> None:
        self._save_customer(order.customer, order)
        order.id = self.sql.scalar(
            "INSERT INTO orders (order_no, channel, currency, customer_id, shipping_fee_minor, "
            "total_minor, payment_methods, placed_at, paid_at, shipped_at, delivered_at, "
            "created_at, updated_at) VALUES (:order_no, :channel, :currency, :customer_id, "
            ":shipping, :total, :methods, :placed_at, :paid_at, :shipped_at, :delivered_at, "
            ":created_at, :updated_at) RETURNING id",
            self._order_params(order),
        )
        for line in order.lines:
            self._insert_line(order, line)
        for payment in order.payments:
            self._insert_payment(order, payment)

    def _insert_line(self, order: Order, line: OrderLine) -> None:
        line.id = self.sql.scalar(
            "INSERT INTO order_lines (order_id, sku, name, category, quantity, unit_price_minor, "
            "discount_minor) VALUES (:o, :sku, :name, :category, :quantity, :price, :discount) "
            "RETURNING id",
            {
                "o": order.id,
                "sku": line.sku,
                "name": line.name,
                "category": line.category,
                "quantity": line.quantity,
                "price": line.unit_price.minor,
                "discount": line.discount.minor,
            },
        )

    def _insert_payment(self, order: Order, payment: Payment) -> None:
        payment.id = self.sql.scalar(
            "INSERT INTO payments (order_id, method, amount_minor, reference) "
            "VALUES (:o, :method, :amount, :reference) RETURNING id",
            {
                "o": order.id,
                "method": payment.method.value,
                "amount": payment.amount.minor,
                "reference": payment.reference,
            },
        )

    def update(self, order: Order) -> None:
        """Store ``order`` over the stored one: lines and payments with ids are updated,
        those without are added, stored ones no longer present are removed."""
        sql = self.sql
        self._save_customer(order.customer, order)
        sql.run(
            "UPDATE orders SET channel = :channel, shipping_fee_minor = :shipping, "
            "total_minor = :total, payment_methods = :methods, "
            "placed_at = :placed_at, paid_at = :paid_at, shipped_at = :shipped_at, "
            "delivered_at = :delivered_at, updated_at = :updated_at WHERE id = :id",
            {**self._order_params(order), "id": order.id},
        )
        kept_lines = [line.id for line in order.lines if line.id is not None]
        for (line_id,) in sql.all(
            "SELECT id FROM order_lines WHERE order_id = :o", {"o": order.id}
        ):
            if line_id not in kept_lines:
                sql.run("DELETE FROM order_lines WHERE id = :id", {"id": line_id})
        for line in order.lines:
            if line.id is None:
                self._insert_line(order, line)
            else:
                sql.run(
                    "UPDATE order_lines SET name = :name, category = :category, "
                    "quantity = :quantity, unit_price_minor = :price, discount_minor = :discount "
                    "WHERE id = :id",
                    {
                        "id": line.id,
                        "name": line.name,
                        "category": line.category,
                        "quantity": line.quantity,
                        "price": line.unit_price.minor,
                        "discount": line.discount.minor,
                    },
                )
        kept_payments = [p.id for p in order.payments if p.id is not None]
        for (payment_id,) in sql.all(
            "SELECT id FROM payments WHERE order_id = :o", {"o": order.id}
        ):
            if payment_id not in kept_payments:
                sql.run("DELETE FROM payments WHERE id = :id", {"id": payment_id})
        for payment in order.payments:
            if payment.id is None:
                self._insert_payment(order, payment)
            else:
                sql.run(
                    "UPDATE payments SET amount_minor = :amount WHERE id = :id",
                    {"id": payment.id, "amount": payment.amount.minor},
                )
