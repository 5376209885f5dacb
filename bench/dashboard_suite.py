"""The dashboard's queries over 1,000,000 stored requests, next to the same SQL run bare.

Data: the simulation's history (``history_fixture``: 1M requests over a year, 2M orders),
copied and completed with what the dashboard reads and the history leaves out — one order
line and one request line per request, timeline events (submission, the policy's or a
person's decision, the refund), a review work item with its deadline, surveys, complaints,
compensation, appeals and root causes. All of it is written with ``INSERT … SELECT`` from
the requests themselves, so building it takes seconds on top of the history (cached in
``bench/.cache`` like the history).

Measured: ``services.metrics.summary`` (every figure, the previous period, six breakdowns
and the daily trend: everything the page shows) for the last 30 days of the history and
for the whole year. Baseline: the very statements it ran (recorded on a first call) replayed
through a bare ``sqlite3`` connection, results fetched and dropped; so the ratio is what the
service, the runner and the arithmetic cost beyond SQLite itself. Targets: ≤ 1 s and
≤ 1.5 × the bare SQL (a rate ratio ≥ 0.67).
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.history_fixture import CACHE, history_database
from bench.options import RunOptions
from bench.rows import Figures, Row

REQUESTS = 1_000_000
ROUNDS = 3
TARGET_SECONDS = 1.0
TARGET_RATIO = 1 / 1.5
# The history's requests are created between Nov 2025 and late Nov 2026.
PERIODS = {
    "30d": (date(2026, 10, 3), date(2026, 11, 1)),
    "year": (date(2025, 11, 1), date(2026, 11, 30)),
}

_COMPLETE = [
    "UPDATE refund_requests SET "
    "channel = (SELECT o.channel FROM orders o WHERE o.id = refund_requests.order_id), "
    "customer_tier = (SELECT c.tier FROM customers c WHERE c.id = refund_requests.customer_id), "
    "appealed = CASE WHEN id % 61 = 0 THEN 1 ELSE 0 END, "
    "root_cause = CASE id % 7 WHEN 0 THEN 'product_defect' WHEN 1 THEN 'logistics' END",
    "INSERT INTO order_lines (id, order_id, sku, name, category, quantity, unit_price_minor, "
    "discount_minor) SELECT id, order_id, skus, skus, categories, 1, amount_requested_minor, 0 "
    "FROM refund_requests",
    "INSERT INTO refund_request_lines (id, request_id, order_line_id, sku, name, quantity, "
    "amount_minor) SELECT id, id, id, skus, skus, 1, amount_requested_minor FROM refund_requests",
    "INSERT INTO refund_request_events (request_id, at, actor_kind, actor_role, actor_name, "
    "action, from_status, to_status, data) SELECT id, created_at, 'customer', 'customer', 'c', "
    "'submit', NULL, 'pending_review', '{}' FROM refund_requests",
    "INSERT INTO refund_request_events (request_id, at, actor_kind, actor_role, actor_name, "
    "action, from_status, to_status, data) SELECT id, created_at, 'policy', 'system', 'policy', "
    "CASE decision_outcome WHEN 'review' THEN 'decide' ELSE decision_outcome END, "
    "'pending_review', 'pending_review', '{}' FROM refund_requests",
    "INSERT INTO refund_request_events (request_id, at, actor_kind, actor_role, actor_name, "
    "action, from_status, to_status, data) SELECT id, approved_at, 'staff', 'cs', 'cs', "
    "'approve', 'pending_review', 'refund_pending', '{}' FROM refund_requests "
    "WHERE decision_outcome = 'review' AND approved_at IS NOT NULL",
    "INSERT INTO refund_request_events (request_id, at, actor_kind, actor_role, actor_name, "
    "action, from_status, to_status, data) SELECT id, refunded_at, 'staff', 'finance', 'f', "
    "'mark-refunded', 'refunding', 'refunded', '{}' FROM refund_requests "
    "WHERE refunded_at IS NOT NULL",
    "UPDATE refund_requests SET first_response_at = (SELECT MIN(e.at) "
    "FROM refund_request_events e WHERE e.request_id = refund_requests.id "
    "AND e.actor_kind IN ('staff', 'policy') AND e.action <> 'submit')",
    "INSERT INTO work_items (request_id, kind, queue, step, state, priority, due_at, "
    "business_hours, created_at, closed_at) SELECT id, 'status', 'cs', 'review', 'done', "
    "'normal', datetime(created_at, '+24 hours'), 0, created_at, approved_at "
    "FROM refund_requests WHERE decision_outcome = 'review' AND approved_at IS NOT NULL",
    "INSERT INTO surveys (request_id, customer_id, csat, resolved, answered_at) "
    "SELECT id, customer_id, 1 + (id * 7919) % 5, 1, updated_at FROM refund_requests "
    "WHERE id % 3 = 0",
    "INSERT INTO complaints (request_id, source, severity, text, state, opened_at) "
    "SELECT id, 'phone', 'normal', '', 'resolved', created_at FROM refund_requests "
    "WHERE id % 43 = 0",
    "INSERT INTO compensations (request_id, customer_id, kind, currency, amount_minor, "
    "cost_minor, issued_at) SELECT id, customer_id, 'coupon', 'CNY', 1000, 1000, created_at "
    "FROM refund_requests WHERE id % 53 = 0",
]


def dashboard_database(requests: int) -> Path:
    history = history_database(requests)
    path = CACHE / history.name.replace("history-", "dashboard-")
    if path.exists():
        return path
    for stale in CACHE.glob(f"dashboard-{requests}-*.db*"):
        stale.unlink()
    building = path.with_suffix(".building")
    shutil.copyfile(history, building)
    conn = sqlite3.connect(building, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    # Updating a million rows under the dashboard's index moves every entry twice: drop it,
    # fill, and build it once from sorted data.
    (index,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'ix_refund_requests_dashboard'"
    ).fetchone()
    conn.execute("BEGIN")
    conn.execute("DROP INDEX ix_refund_requests_dashboard")
    for statement in _COMPLETE:
        conn.execute(statement)
    conn.execute(index)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.move(building, path)
    return path


def _recorded(box: Any, period: Any, manager: Any) -> list[tuple[str, dict[str, Any]]]:
    """The statements ``summary`` runs, with their parameters (for the bare replay)."""
    from refundflow.adapters.db.sql import Sql
    from refundflow.services.metrics import summary

    seen: list[tuple[str, dict[str, Any]]] = []
    original_all, original_one = Sql.all, Sql.one

    def all_(self: Sql, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        seen.append((query, dict(params or {})))
        return original_all(self, query, params)

    def one(self: Sql, query: str, params: Any = None) -> tuple[Any, ...] | None:
        seen.append((query, dict(params or {})))
        return original_one(self, query, params)

    Sql.all, Sql.one = all_, one  # type: ignore[method-assign]
    try:
        summary(box.uows, manager, period)
    finally:
        Sql.all, Sql.one = original_all, original_one  # type: ignore[method-assign]
    return seen


def _bare(conn: sqlite3.Connection, statements: list[tuple[str, dict[str, Any]]]) -> float:
    started = time.perf_counter()
    conn.execute("BEGIN")
    for query, params in statements:
        conn.execute(query, params).fetchall()
    conn.execute("ROLLBACK")
    return time.perf_counter() - started


def run(options: RunOptions) -> list[Row]:
    from refundflow.domain.actors import Actor, ActorKind
    from refundflow.domain.permissions import Role
    from refundflow.entrypoints.bootstrap import bootstrap
    from refundflow.entrypoints.settings import Settings
    from refundflow.services.metrics import Period, summary

    console = options.console
    started = time.perf_counter()
    with console.status(f"dashboard: building (or reusing) {REQUESTS:,} stored requests…"):
        database = dashboard_database(REQUESTS)
    setup = time.perf_counter() - started
    box = bootstrap(Settings(database_url=f"sqlite:///{database}", _env_file=None))
    manager = Actor(ActorKind.STAFF, Role.MANAGER, "bench", "bench")
    rows = []
    try:
        for name, (first, last) in PERIODS.items():
            period = Period(first, last)
            statements = _recorded(box, period, manager)  # also warms the page cache
            ours: list[float] = []
            bare: list[float] = []
            ours_cpu: list[float] = []
            bare_cpu: list[float] = []
            result: dict[str, Any] = {}
            # One bare connection for all rounds: its page cache stays warm, as the pool's do.
            conn = sqlite3.connect(database, isolation_level=None)
            try:
                for number in range(1, ROUNDS + 1):
                    c0 = time.process_time()
                    bare.append(_bare(conn, statements))
                    c1 = time.process_time()
                    t0 = time.perf_counter()
                    result = summary(box.uows, manager, period)
                    ours.append(time.perf_counter() - t0)
                    ours_cpu.append(time.process_time() - c1)
                    bare_cpu.append(c1 - c0)
                    if options.verbose:
                        console.print(
                            f"  {name} round {number}: summary {ours[-1]:.3f} s "
                            f"(CPU {ours_cpu[-1]:.3f} s), bare SQL {bare[-1]:.3f} s "
                            f"(CPU {bare_cpu[-1]:.3f} s)"
                        )
            finally:
                conn.close()
            seconds, bare_seconds = statistics.median(ours), statistics.median(bare)
            rows.append(
                Row(
                    key=f"dashboard.summary_{name}",
                    label=f"dashboard {name} of 1M requests ({seconds:.2f} s)",
                    figures=Figures(1 / seconds),
                    baseline_label=f"the same SQL, bare sqlite3 ({bare_seconds:.2f} s)",
                    baseline=Figures(1 / bare_seconds),
                    target=TARGET_RATIO,
                    rounds=[
                        {
                            "round": i + 1,
                            "summary_s": round(s, 4),
                            "bare_s": round(b, 4),
                            "summary_cpu_s": round(sc, 4),
                            "bare_cpu_s": round(bc, 4),
                        }
                        for i, (s, b, sc, bc) in enumerate(
                            zip(ours, bare, ours_cpu, bare_cpu, strict=True)
                        )
                    ],
                    notes={
                        "period": [first.isoformat(), last.isoformat()],
                        "requests_in_period": result.get("requests"),
                        "statements": len(statements),
                        "seconds": round(seconds, 4),
                        "bare_seconds": round(bare_seconds, 4),
                        # CPU time of this process (SQLite runs in it): what the wall time
                        # would be on an idle machine with the file in the page cache.
                        "cpu_seconds": round(statistics.median(ours_cpu), 4),
                        "bare_cpu_seconds": round(statistics.median(bare_cpu), 4),
                        "target_seconds": TARGET_SECONDS,
                        "within_target_seconds": seconds <= TARGET_SECONDS,
                        "setup_seconds": round(setup, 1),
                    },
                )
            )
    finally:
        box.close()
    return rows
