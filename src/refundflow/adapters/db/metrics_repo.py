"""The dashboard's aggregates in SQL that SQLite and PostgreSQL both run.

Two sources, one answer (docs/metrics.md "Rollups"):

- **live**: statements over the period's cohort (requests created in [start, end), found on
  ``ix_refund_requests_dashboard``), the tables about requests reached through their
  ``request_id`` indexes. Exact ranks (medians, 90th percentile) over the durations.
- **rolled up**: the same statements run by the worker once per local day and stored in the
  ``metric_*`` tables (one row per day and combination; a day's durations as one sorted
  array). A period reads the days rolled up in the shop's time zone with no change pending
  from the rollups, and every other day (today, changed days, days never rolled up) live;
  the parts are added up here, so the figures are the same whichever way a day is read.

Triggers (migration 0012) put the UTC hour of every changed request's creation (an order's
placing) into ``metric_changes``; ``refresh`` rolls up the days of those hours and removes
exactly the marks it read, so a change committed meanwhile stays pending.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import numpy as np

from refundflow.adapters.db.sql import SEP, Sql
from refundflow.services.metrics import DIMENSIONS, BreakdownRow, DayRow, Headline, Window

COHORT = "r.parent_id IS NULL AND r.created_at >= :s AND r.created_at < :e"
AUTO = "CASE WHEN r.decision_outcome IN ('approve', 'reject') THEN 1 ELSE 0 END"
REFUNDED = "CASE WHEN r.refunded_at IS NOT NULL THEN 1 ELSE 0 END"
# Steps held by the customer (shipping the goods back) or by the clock are not staff's SLA.
NOT_STAFF_QUEUES = "('customer', 'system')"
GROUP_DIMENSIONS = ("reason", "channel", "tier", "root_cause")
SET_DIMENSIONS = (("category", "r.categories"), ("sku", "r.skus"))
DURATIONS = ("refund", "first_response")
ROLLUP_TABLES = (
    "metric_groups",
    "metric_keys",
    "metric_compensation",
    "metric_durations",
    "metric_days",
)
SCALARS = (
    "orders",
    "complaints",
    "sla_finished",
    "sla_met",
    "surveys",
    "csat_sum",
    "csat_positive",
)
# One worker at a time rolls up on PostgreSQL (SQLite has one writer anyway).
ROLLUP_LOCK = 7_104_011
_CHUNK = 500

# (currency, reason, channel, tier, root cause) -> requests, auto-decided, exchanges,
# appealed, refunded, refunded minor units
Groups = dict[tuple[str, str, str, str, str], list[int]]
# (dimension, key, currency) -> requests, refunded, refunded minor units
Keys = dict[tuple[str, str, str], list[int]]


def _sums(rows: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    totals: dict[str, int] = defaultdict(int)
    for currency, minor in rows:
        if minor:
            totals[currency] += int(minor)
    return tuple(sorted(totals.items()))


def _top(group: dict[str, list[Any]], limit: int) -> list[BreakdownRow]:
    """Most requests first, then by key."""
    ordered = sorted(group.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    return [
        BreakdownRow(key, count, refunded, _sums(money.items()))
        for key, (count, refunded, money) in ordered
    ]


def _add_into(target: dict[Any, list[int]], key: Any, values: Sequence[Any]) -> None:
    entry = target.get(key)
    if entry is None:
        target[key] = [int(v or 0) for v in values]
    else:
        for i, value in enumerate(values):
            entry[i] += int(value or 0)


def _add_groups(target: Groups, rows: Iterable[Sequence[Any]]) -> None:
    """Rows of (currency, reason, channel, tier, root cause, *counts) into ``target``
    (a missing dimension value counts as "")."""
    for currency, reason, channel, tier, cause, *values in rows:
        _add_into(target, (currency, reason or "", channel or "", tier or "", cause or ""), values)


def _day_text(day: date) -> str:
    return day.isoformat()


def _runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) pairs."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


class _Plan:
    """Which days of a window are read from the rollups, and the live windows for the rest."""

    __slots__ = ("clean", "condition", "live", "params")

    def __init__(
        self, clean: list[date], live: list[Window], condition: str, params: dict[str, Any]
    ) -> None:
        self.clean = clean
        self.live = live
        self.condition = condition
        self.params = params


class SqlMetricsReader:
    # False reads every day live (bench/dashboard_suite.py measures both ways).
    use_rollups = True

    def __init__(self, sql: Sql, tz: tzinfo = UTC) -> None:
        self.sql = sql
        self.tz = tz
        self.tz_name = str(getattr(tz, "key", None) or tz)
        self._dirty: set[date] | None = None
        self._plans: dict[Window, _Plan] = {}
        self._groups: dict[Window, Groups] = {}

    def _window(self, window: Window) -> dict[str, Any]:
        return {"s": self.sql.ts(window.start), "e": self.sql.ts(window.end)}

    def _seconds(self, later: str, earlier: str) -> str:
        if self.sql.is_pg:
            return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)"

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.tz)

    def _day_window(self, first: date, last: date) -> Window:
        return Window(self._midnight(first), self._midnight(last + timedelta(days=1)))

    # ------------------------------------------------------------------ which days are rolled up
    def _slot_days(self, slot: str) -> set[date]:
        start = datetime.strptime(slot.replace("T", " "), "%Y-%m-%d %H").replace(tzinfo=UTC)
        return {
            start.astimezone(self.tz).date(),
            (start + timedelta(hours=1) - timedelta(microseconds=1)).astimezone(self.tz).date(),
        }

    def dirty_days(self) -> set[date]:
        """Local days with a change not yet rolled up."""
        if self._dirty is None:
            days: set[date] = set()
            for (slot,) in self.sql.all("SELECT DISTINCT slot FROM metric_changes"):
                days |= self._slot_days(slot)
            self._dirty = days
        return self._dirty

    def _plan(self, window: Window) -> _Plan:
        plan = self._plans.get(window)
        if plan is not None:
            return plan
        first = window.start.astimezone(self.tz).date()
        end = window.end.astimezone(self.tz).date()
        days = [first + timedelta(days=i) for i in range((end - first).days)]
        aligned = (
            self._midnight(first) == window.start and self._midnight(end) == window.end and days
        )
        clean: list[date] = []
        if aligned and self.use_rollups:
            rows = self.sql.all(
                "SELECT day, tz FROM metric_days WHERE day >= :a AND day <= :b",
                {"a": _day_text(days[0]), "b": _day_text(days[-1])},
            )
            # Days rolled up in another time zone cover other hours: none of them is used.
            if all(tz == self.tz_name for _, tz in rows):
                dirty = self.dirty_days()
                built = {date.fromisoformat(str(day)) for day, _ in rows}
                clean = [day for day in days if day in built and day not in dirty]
        if not aligned:
            plan = _Plan([], [window], "", {})
        else:
            kept = set(clean)
            live = [self._day_window(a, b) for a, b in _runs([d for d in days if d not in kept])]
            params: dict[str, Any] = {}
            parts = []
            for i, (a, b) in enumerate(_runs(clean)):
                params[f"a{i}"], params[f"b{i}"] = _day_text(a), _day_text(b)
                parts.append(f"day BETWEEN :a{i} AND :b{i}")
            plan = _Plan(clean, live, " OR ".join(parts), params)
        self._plans[window] = plan
        return plan

    # ------------------------------------------------------------------ live statements
    def _live_groups(self, window: Window) -> list[tuple[Any, ...]]:
        return self.sql.all(
            "SELECT r.currency, r.reason, r.channel, r.customer_tier, "
            "COALESCE(r.root_cause, ''), COUNT(*), "
            f"SUM({AUTO}), "
            "SUM(CASE WHEN r.type = 'exchange' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN r.appealed THEN 1 ELSE 0 END), "
            f"SUM({REFUNDED}), "
            "SUM(COALESCE(r.amount_refunded_minor, 0)) "
            f"FROM refund_requests r WHERE {COHORT} GROUP BY 1, 2, 3, 4, 5",
            self._window(window),
        )

    def _live_keys(self, window: Window) -> Keys:
        # A request counts once per category (sku) among its lines, with its whole amount:
        # grouped by the request's set of categories (skus), split here.
        out: Keys = {}
        for dimension, column in SET_DIMENSIONS:
            for joined, currency, *sums in self.sql.all(
                f"SELECT {column}, r.currency, COUNT(*), SUM({REFUNDED}), "
                "SUM(COALESCE(r.amount_refunded_minor, 0)) "
                f"FROM refund_requests r WHERE {COHORT} GROUP BY 1, 2",
                self._window(window),
            ):
                for key in set(joined.split(SEP)) if joined else {""}:
                    _add_into(out, (dimension, key, currency), sums)
        return out

    def _live_scalars(self, window: Window) -> list[int]:
        p = self._window(window)
        orders = self.sql.scalar(
            "SELECT COUNT(*) FROM orders WHERE placed_at >= :s AND placed_at < :e", p
        )
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
        assert sla is not None and surveys is not None
        return [int(v or 0) for v in (orders, complaints, *sla, *surveys)]

    def _live_compensation(self, window: Window) -> list[tuple[Any, ...]]:
        return self.sql.all(
            "SELECT c.currency, SUM(c.cost_minor) FROM compensations c "
            f"JOIN refund_requests r ON r.id = c.request_id WHERE {COHORT} GROUP BY c.currency",
            self._window(window),
        )

    def _live_durations(self, metric: str, window: Window, *, ordered: bool = False) -> list[float]:
        if metric == "refund":
            query = (
                f"SELECT {self._seconds('r.refunded_at', 'r.created_at')} AS d "
                f"FROM refund_requests r WHERE {COHORT} AND r.refunded_at IS NOT NULL"
            )
        elif metric == "first_response":
            # Written with the request (requests_repo._first_response), not looked up among
            # the events: one index read instead of a search per request.
            query = (
                f"SELECT {self._seconds('r.first_response_at', 'r.created_at')} AS d "
                f"FROM refund_requests r WHERE {COHORT} AND r.first_response_at IS NOT NULL"
            )
        else:
            raise ValueError(f"unknown duration {metric!r}")
        if ordered:
            query += " ORDER BY d"
        return [float(d) for (d,) in self.sql.all(query, self._window(window))]

    # ------------------------------------------------------------------ both sources
    def _rolled(self, plan: _Plan, query: str) -> list[tuple[Any, ...]]:
        """``query`` (``{where}`` standing for the days read from the rollups) or nothing."""
        if not plan.clean:
            return []
        return self.sql.all(query.format(where=f"({plan.condition})"), plan.params)

    def groups(self, window: Window) -> Groups:
        cached = self._groups.get(window)
        if cached is not None:
            return cached
        plan = self._plan(window)
        out: Groups = {}
        rows = self._rolled(
            plan,
            "SELECT currency, reason, channel, tier, root_cause, SUM(requests), "
            "SUM(auto_decided), SUM(exchanges), SUM(appealed), SUM(refunded), "
            "SUM(refunded_minor) FROM metric_groups WHERE {where} GROUP BY 1, 2, 3, 4, 5",
        )
        for live in plan.live:
            rows += self._live_groups(live)
        _add_groups(out, rows)
        self._groups[window] = out
        return out

    # ------------------------------------------------------------------ headline
    def headline(self, window: Window) -> Headline:
        plan = self._plan(window)
        counts = [0] * 5
        refunded: list[tuple[str, int]] = []
        for key, values in self.groups(window).items():
            for i in range(5):
                counts[i] += values[i]
            refunded.append((key[0], values[5]))
        scalars = [0] * len(SCALARS)
        for row in self._rolled(
            plan,
            "SELECT " + ", ".join(f"SUM({name})" for name in SCALARS) + " FROM metric_days "
            "WHERE {where}",
        ):
            scalars = [a + int(b or 0) for a, b in zip(scalars, row, strict=True)]
        compensation = self._rolled(
            plan,
            "SELECT currency, SUM(cost_minor) FROM metric_compensation WHERE {where} "
            "GROUP BY currency",
        )
        for live in plan.live:
            scalars = [a + b for a, b in zip(scalars, self._live_scalars(live), strict=True)]
            compensation += self._live_compensation(live)
        orders, complaints, sla_finished, sla_met, surveys, csat_sum, csat_positive = scalars
        return Headline(
            requests=counts[0],
            auto_decided=counts[1],
            exchanges=counts[2],
            appealed=counts[3],
            refunded=counts[4],
            complaints=complaints,
            sla_finished=sla_finished,
            sla_met=sla_met,
            surveys=surveys,
            csat_sum=csat_sum,
            csat_positive=csat_positive,
            orders=orders,
            refunded_minor=_sums(refunded),
            compensation_minor=_sums(compensation),
        )

    # ------------------------------------------------------------------ durations
    def duration_ranks(self, metric: str, window: Window) -> tuple[int, dict[int, float]]:
        # services.metrics.quantile_ranks names the ranks: (n+1)/2, n/2, n/2+1, ceil(0.9 n).
        if metric not in DURATIONS:
            raise ValueError(f"unknown duration {metric!r}")
        plan = self._plan(window)
        parts = [
            np.frombuffer(bytes(blob), dtype="<f8")
            for (blob,) in self._rolled(
                plan,
                "SELECT seconds FROM metric_durations WHERE metric = '" + metric + "' AND {where}",
            )
        ]
        for live in plan.live:
            parts.append(np.asarray(self._live_durations(metric, live), dtype="<f8"))
        values = np.concatenate(parts) if parts else np.empty(0, dtype="<f8")
        n = int(values.size)
        if not n:
            return 0, {}
        ranks = sorted({(n + 1) // 2, n // 2, n // 2 + 1, (9 * n + 9) // 10} - {0})
        chosen = np.partition(values, [rank - 1 for rank in ranks])
        return n, {rank: float(chosen[rank - 1]) for rank in ranks}

    # ------------------------------------------------------------------ breakdowns
    def breakdowns(self, window: Window, limit: int) -> dict[str, list[BreakdownRow]]:
        plan = self._plan(window)
        # dimension -> key -> [requests, refunded, {currency: minor}]
        found: dict[str, dict[str, list[Any]]] = {d: {} for d in DIMENSIONS}
        rows: list[tuple[str, str, str, int, int, int]] = []
        for (currency, *keys), values in self.groups(window).items():
            for dimension, key in zip(GROUP_DIMENSIONS, keys, strict=True):
                rows.append((dimension, key, currency, values[0], values[4], values[5]))
        rows += self._rolled(
            plan,
            "SELECT dimension, key, currency, SUM(requests), SUM(refunded), "
            "SUM(refunded_minor) FROM metric_keys WHERE {where} GROUP BY 1, 2, 3",
        )
        for live in plan.live:
            for (dimension, key, currency), values in self._live_keys(live).items():
                rows.append((dimension, key, currency, *values))  # type: ignore[arg-type]
        for dimension, key, currency, requests, refunded, minor in rows:
            group = found[dimension]
            entry = group.get(key)
            if entry is None:
                group[key] = [int(requests), int(refunded or 0), {currency: int(minor or 0)}]
            else:
                entry[0] += int(requests)
                entry[1] += int(refunded or 0)
                money = entry[2]
                money[currency] = money.get(currency, 0) + int(minor or 0)
        return {dimension: _top(found[dimension], limit) for dimension in DIMENSIONS}

    # ------------------------------------------------------------------ trend
    def _live_daily(self, days: Sequence[tuple[date, Window]]) -> dict[date, list[int]]:
        if not days:
            return {}
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
        out = {day: [0, 0, 0, 0] for day, _ in days}
        for k, n, refunded, auto in requests:
            out[days[int(k)][0]][:3] = [int(n), int(refunded or 0), int(auto or 0)]
        for k, n in orders:
            out[days[int(k)][0]][3] = int(n)
        return out

    def daily(self, days: Sequence[tuple[date, Window]]) -> list[DayRow]:
        if not days:
            return []
        whole = Window(days[0][1].start, days[-1][1].end)
        plan = self._plan(whole)
        clean = set(plan.clean)
        found = self._live_daily([(day, window) for day, window in days if day not in clean])
        for day, n, refunded, auto in self._rolled(
            plan,
            "SELECT day, SUM(requests), SUM(refunded), SUM(auto_decided) FROM metric_groups "
            "WHERE {where} GROUP BY day",
        ):
            found[date.fromisoformat(str(day))] = [int(n), int(refunded), int(auto), 0]
        for day, orders in self._rolled(plan, "SELECT day, orders FROM metric_days WHERE {where}"):
            found.setdefault(date.fromisoformat(str(day)), [0, 0, 0, 0])[3] = int(orders)
        out = []
        for day, _ in days:
            n, refunded, auto, orders = found.get(day, [0, 0, 0, 0])
            out.append(DayRow(day, n, orders, refunded, auto))
        return out

    # ------------------------------------------------------------------ rolling up
    def pending(self) -> int:
        """Local days waiting to be rolled up: changed ones, and every rolled-up day if the
        shop's time zone is not the one they were rolled up in."""
        foreign = self.sql.scalar(
            "SELECT COUNT(*) FROM metric_days WHERE tz <> :tz", {"tz": self.tz_name}
        )
        return len(self.dirty_days()) + int(foreign or 0)

    def mark_all(self) -> None:
        """Mark every hour with a request or an order, so every day is rolled up again."""
        if self.sql.is_pg:
            hour = "to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
        else:
            hour = "substr({at}, 1, 13)"
        self.sql.run(
            "INSERT INTO metric_changes (slot) SELECT s FROM ("
            f"SELECT DISTINCT {hour.format(at='created_at')} AS s FROM refund_requests UNION "
            f"SELECT DISTINCT {hour.format(at='placed_at')} FROM orders) x "
            "WHERE NOT EXISTS (SELECT 1 FROM metric_changes m WHERE m.slot = x.s)"
        )
        self._dirty = None

    def refresh(self, now: datetime, max_days: int) -> int:
        """Roll up at most ``max_days`` of the days with pending changes, newest first;
        the number of days rolled up."""
        if self.sql.is_pg and not self.sql.scalar(
            "SELECT pg_try_advisory_xact_lock(:k)", {"k": ROLLUP_LOCK}
        ):
            return 0
        if self.sql.one("SELECT 1 FROM metric_days WHERE tz <> :tz LIMIT 1", {"tz": self.tz_name}):
            # The shop's time zone changed: every day covers other hours now.
            for table in ROLLUP_TABLES:
                self.sql.run(f"DELETE FROM {table}")
            self.mark_all()
        marks: dict[date, list[int]] = defaultdict(list)
        for mark, slot in self.sql.all("SELECT id, slot FROM metric_changes"):
            for day in self._slot_days(slot):
                marks[day].append(int(mark))
        chosen = sorted(marks, reverse=True)[:max_days]
        for day in chosen:
            self._roll_up(day, now)
        done = {mark for day in chosen for mark in marks[day]}
        # A mark whose hour spans two local days goes only when both are rolled up.
        done -= {mark for day, ids in marks.items() if day not in chosen for mark in ids}
        ids = sorted(done)
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            names = {f"m{j}": mark for j, mark in enumerate(chunk)}
            self.sql.run(
                f"DELETE FROM metric_changes WHERE id IN ({', '.join(':' + n for n in names)})",
                names,
            )
        self._dirty = None
        self._plans.clear()
        self._groups.clear()
        return len(chosen)

    def _roll_up(self, day: date, now: datetime) -> None:
        window = self._day_window(day, day)
        text = _day_text(day)
        for table in ROLLUP_TABLES:
            self.sql.run(f"DELETE FROM {table} WHERE day = :d", {"d": text})
        groups: Groups = {}
        _add_groups(groups, self._live_groups(window))
        self.sql.insert_many(
            "metric_groups",
            (
                "day",
                "currency",
                "reason",
                "channel",
                "tier",
                "root_cause",
                "requests",
                "auto_decided",
                "exchanges",
                "appealed",
                "refunded",
                "refunded_minor",
            ),
            [(text, *key, *values) for key, values in groups.items()],
        )
        self.sql.insert_many(
            "metric_keys",
            ("day", "dimension", "key", "currency", "requests", "refunded", "refunded_minor"),
            [(text, *key, *values) for key, values in self._live_keys(window).items()],
        )
        self.sql.insert_many(
            "metric_compensation",
            ("day", "currency", "cost_minor"),
            [
                (text, currency, int(minor))
                for currency, minor in self._live_compensation(window)
                if minor
            ],
        )
        durations = []
        for metric in DURATIONS:
            values = self._live_durations(metric, window, ordered=True)
            if values:
                blob = np.asarray(values, dtype="<f8").tobytes()
                durations.append((text, metric, len(values), blob))
        self.sql.insert_many("metric_durations", ("day", "metric", "n", "seconds"), durations)
        self.sql.insert_many(
            "metric_days",
            ("day", "tz", *SCALARS, "built_at"),
            [(text, self.tz_name, *self._live_scalars(window), self.sql.ts(now))],
        )
