"""The dashboard's aggregates in SQL that SQLite and PostgreSQL both run.

Each figure is one statement over the period's cohort (requests created in [start, end),
found on ``ix_refund_requests_created_at``); tables about requests are reached through their
``request_id`` indexes. The only per-dialect piece is the length of an interval in seconds.
Exact ranks (medians, 90th percentile) use ``ROW_NUMBER() OVER (ORDER BY …)``, which both
databases have, rather than PostgreSQL's ``percentile_cont``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from refundflow.adapters.db.sql import SEP, Sql
from refundflow.services.metrics import DIMENSIONS, BreakdownRow, DayRow, Headline, Window

COHORT = "r.parent_id IS NULL AND r.created_at >= :s AND r.created_at < :e"
AUTO = "CASE WHEN r.decision_outcome IN ('approve', 'reject') THEN 1 ELSE 0 END"
REFUNDED = "CASE WHEN r.refunded_at IS NOT NULL THEN 1 ELSE 0 END"
# Steps held by the customer (shipping the goods back) or by the clock are not staff's SLA.
NOT_STAFF_QUEUES = "('customer', 'system')"


def _sums(rows: Sequence[tuple[Any, ...]]) -> tuple[tuple[str, int], ...]:
    totals: dict[str, int] = defaultdict(int)
    for currency, minor in rows:
        if minor:
            totals[currency] += int(minor)
    return tuple(sorted(totals.items()))


def _add(
    group: dict[str, list[Any]], key: str, currency: str, count: int, refunded: int, minor: int
) -> None:
    entry = group.setdefault(key or "", [0, 0, []])
    entry[0] += int(count)
    entry[1] += int(refunded or 0)
    entry[2].append((currency, minor))


def _top(group: dict[str, list[Any]], limit: int) -> list[BreakdownRow]:
    """Most requests first, then by key."""
    ordered = sorted(group.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    return [
        BreakdownRow(key, count, refunded, _sums(money))
        for key, (count, refunded, money) in ordered
    ]


class SqlMetricsReader:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def _window(self, window: Window) -> dict[str, Any]:
        return {"s": self.sql.ts(window.start), "e": self.sql.ts(window.end)}

    def _seconds(self, later: str, earlier: str) -> str:
        if self.sql.is_pg:
            return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)"

    # ------------------------------------------------------------------ headline
    def headline(self, window: Window) -> Headline:
        p = self._window(window)
        per_currency = self.sql.all(
            "SELECT r.currency, COUNT(*), "
            f"SUM({AUTO}), "
            "SUM(CASE WHEN r.type = 'exchange' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN r.appealed THEN 1 ELSE 0 END), "
            f"SUM({REFUNDED}), "
            "SUM(COALESCE(r.amount_refunded_minor, 0)) "
            f"FROM refund_requests r WHERE {COHORT} "
            "GROUP BY r.currency",
            p,
        )
        counts = [sum(int(row[i] or 0) for row in per_currency) for i in range(1, 6)]
        complaints = self.sql.scalar(
            "SELECT COUNT(*) FROM complaints c JOIN refund_requests r ON r.id = c.request_id "
            f"WHERE {COHORT}",
            p,
        )
        sla = self.sql.one(
            "SELECT COUNT(*), SUM(CASE WHEN w.closed_at <= w.due_at THEN 1 ELSE 0 END) "
            "FROM refund_requests r JOIN work_items w ON w.request_id = r.id "
            f"WHERE {COHORT} AND w.state = 'done' AND w.due_at IS NOT NULL "
            f"AND w.closed_at IS NOT NULL AND w.queue NOT IN {NOT_STAFF_QUEUES}",
            p,
        )
        surveys = self.sql.one(
            "SELECT COUNT(*), SUM(s.csat), SUM(CASE WHEN s.csat >= 4 THEN 1 ELSE 0 END) "
            f"FROM surveys s JOIN refund_requests r ON r.id = s.request_id WHERE {COHORT}",
            p,
        )
        compensation = self.sql.all(
            "SELECT c.currency, SUM(c.cost_minor) FROM compensations c "
            f"JOIN refund_requests r ON r.id = c.request_id WHERE {COHORT} GROUP BY c.currency",
            p,
        )
        orders = self.sql.scalar(
            "SELECT COUNT(*) FROM orders WHERE placed_at >= :s AND placed_at < :e", p
        )
        assert sla is not None and surveys is not None
        return Headline(
            requests=counts[0],
            auto_decided=counts[1],
            exchanges=counts[2],
            appealed=counts[3],
            refunded=counts[4],
            complaints=int(complaints or 0),
            sla_finished=int(sla[0] or 0),
            sla_met=int(sla[1] or 0),
            surveys=int(surveys[0] or 0),
            csat_sum=int(surveys[1] or 0),
            csat_positive=int(surveys[2] or 0),
            orders=int(orders or 0),
            refunded_minor=_sums([(row[0], row[6]) for row in per_currency]),
            compensation_minor=_sums(compensation),
        )

    # ------------------------------------------------------------------ durations
    def _durations(self, metric: str) -> str:
        if metric == "refund":
            return (
                f"SELECT {self._seconds('r.refunded_at', 'r.created_at')} AS d "
                f"FROM refund_requests r WHERE {COHORT} AND r.refunded_at IS NOT NULL"
            )
        if metric == "first_response":
            # Written with the request (requests_repo._first_response), not looked up among
            # the events: one index read instead of a search per request.
            return (
                f"SELECT {self._seconds('r.first_response_at', 'r.created_at')} AS d "
                f"FROM refund_requests r WHERE {COHORT} AND r.first_response_at IS NOT NULL"
            )
        raise ValueError(f"unknown duration {metric!r}")

    def duration_ranks(self, metric: str, window: Window) -> tuple[int, dict[int, float]]:
        # One sort: the count comes with every row (COUNT(*) OVER ()), and the rows kept are
        # the ranks services.metrics.quantile_ranks names, in integer arithmetic:
        # (n+1)/2, n/2, n/2+1 and ceil(0.9 n) = (9n+9)/10.
        rows = self.sql.all(
            "SELECT y.n, y.rk, y.d FROM (SELECT x.d, ROW_NUMBER() OVER (ORDER BY x.d) AS rk, "
            f"COUNT(*) OVER () AS n FROM ({self._durations(metric)}) x) y "
            "WHERE y.rk IN ((y.n + 1) / 2, y.n / 2, y.n / 2 + 1, (9 * y.n + 9) / 10)",
            self._window(window),
        )
        if not rows:
            return 0, {}
        return int(rows[0][0]), {int(rank): float(value) for _, rank, value in rows}

    # ------------------------------------------------------------------ breakdowns
    def breakdowns(self, window: Window, limit: int) -> dict[str, list[BreakdownRow]]:
        p = self._window(window)
        groups: dict[str, dict[str, list[Any]]] = {d: {} for d in DIMENSIONS}
        # Four breakdowns from one pass: the combinations are few (reasons × channels ×
        # tiers × root causes), so they are grouped once and added up here.
        for reason, channel, tier, cause, *sums in self.sql.all(
            "SELECT r.reason, r.channel, r.customer_tier, COALESCE(r.root_cause, ''), "
            f"r.currency, COUNT(*), SUM({REFUNDED}), SUM(COALESCE(r.amount_refunded_minor, 0)) "
            f"FROM refund_requests r WHERE {COHORT} GROUP BY 1, 2, 3, 4, 5",
            p,
        ):
            for dimension, key in (
                ("reason", reason),
                ("channel", channel),
                ("tier", tier),
                ("root_cause", cause),
            ):
                _add(groups[dimension], key, *sums)
        # A request counts once per category (sku) among its lines, with its whole amount:
        # grouped by the request's set of categories (skus), split here.
        for dimension, column in (("category", "r.categories"), ("sku", "r.skus")):
            for joined, *sums in self.sql.all(
                f"SELECT {column}, r.currency, COUNT(*), SUM({REFUNDED}), "
                "SUM(COALESCE(r.amount_refunded_minor, 0)) "
                f"FROM refund_requests r WHERE {COHORT} GROUP BY 1, 2",
                p,
            ):
                for key in set(joined.split(SEP)) if joined else {""}:
                    _add(groups[dimension], key, *sums)
        return {dimension: _top(groups[dimension], limit) for dimension in DIMENSIONS}

    # ------------------------------------------------------------------ trend
    def daily(self, days: Sequence[tuple[date, Window]]) -> list[DayRow]:
        if not days:
            return []
        p: dict[str, Any] = {}
        parts = []
        for i, (_, window) in enumerate(days):
            p[f"s{i}"], p[f"e{i}"] = self.sql.ts(window.start), self.sql.ts(window.end)
            parts.append(f"SELECT {i} AS k, :s{i} AS s, :e{i} AS e")
        spans = " UNION ALL ".join(parts)
        requests = self.sql.all(
            f"SELECT d.k, COUNT(r.id), SUM({REFUNDED}), SUM({AUTO}) FROM ({spans}) d "
            "LEFT JOIN refund_requests r ON r.created_at >= d.s AND r.created_at < d.e "
            "AND r.parent_id IS NULL GROUP BY d.k",
            p,
        )
        orders = self.sql.all(
            f"SELECT d.k, COUNT(o.id) FROM ({spans}) d "
            "LEFT JOIN orders o ON o.placed_at >= d.s AND o.placed_at < d.e GROUP BY d.k",
            p,
        )
        by_day = {int(k): (int(n), int(rf or 0), int(a or 0)) for k, n, rf, a in requests}
        orders_by_day = {int(k): int(n) for k, n in orders}
        out = []
        for i, (day, _) in enumerate(days):
            n, refunded, auto = by_day.get(i, (0, 0, 0))
            out.append(DayRow(day, n, orders_by_day.get(i, 0), refunded, auto))
        return out
