"""Stored history read in one ordered pass, for simulating a policy over millions of
requests: every request before a time, customer by customer in time order, with its order,
the customer's tier and how many orders the customer had placed by then."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from refundflow.adapters.db.sql import Sql

# The columns of a request row, in order (services/simulation.py reads them by position).
REQUEST_COLUMNS = (
    "r.id, r.number, r.customer_id, r.created_at, r.status, r.type, r.reason, "
    "r.intake_channel, r.currency, r.amount_requested_minor, r.categories, r.skus, "
    "r.decision_outcome, r.approved_at, r.amount_approved_minor, r.refunded_at, "
    "r.amount_refunded_minor, r.order_id, o.total_minor, o.channel, o.payment_methods, "
    "o.paid_at, o.shipped_at, o.delivered_at, c.tier, "
    # Orders the customer had placed by then: an index seek on (customer_id, placed_at).
    "(SELECT COUNT(*) FROM orders p WHERE p.customer_id = r.customer_id "
    "AND p.placed_at <= r.created_at)"
)
REQUESTS_QUERY = (
    f"SELECT {REQUEST_COLUMNS} FROM refund_requests r "
    "JOIN orders o ON o.id = r.order_id JOIN customers c ON c.id = r.customer_id "
    "WHERE r.created_at < :before ORDER BY r.customer_id, r.created_at"
)


_parse = datetime.fromisoformat


class SqlHistoryRepository:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def requests_before(self, before: datetime) -> Iterator[tuple[Any, ...]]:
        return self.sql.stream(REQUESTS_QUERY, {"before": self.sql.ts(before)})

    def time_reader(self) -> Callable[[Any], datetime | None]:
        """``naive_time`` without its per-call checks, for a pass over millions of rows."""
        if self.sql.is_pg:
            return self.naive_time
        parse = _parse
        return lambda value: parse(value) if value is not None else None

    def naive_time(self, value: Any) -> datetime | None:
        """A stored time as a naive UTC ``datetime`` (no time zone object to attach: the
        pass over millions of rows compares naive times, a third cheaper)."""
        if value is None:
            return None
        if self.sql.is_pg:
            return value.astimezone(UTC).replace(tzinfo=None)  # type: ignore[no-any-return]
        return _parse(value)
