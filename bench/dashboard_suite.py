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

import json
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

# How long rolling up every day of the history took (kept beside the cached database).
ROLLUP_BUILD: dict[str, Any] = {}

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
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    # The worker's daily rollups of every day (``refundflow metrics rebuild``), timed.
    from refundflow.entrypoints.bootstrap import bootstrap
    from refundflow.entrypoints.settings import Settings
    from refundflow.services.metrics import rebuild_rollups

    box = bootstrap(Settings(database_url=f"sqlite:///{building}", _env_file=None))
    try:
        started = time.perf_counter()
        days = rebuild_rollups(box.uows)
        ROLLUP_BUILD.update(days=days, seconds=round(time.perf_counter() - started, 1))
    finally:
        box.close()
    conn = sqlite3.connect(building, isolation_level=None)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    (path.parent / (path.name + ".rollups.json")).write_text(json.dumps(ROLLUP_BUILD))
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


class _SqliteReplay:
    """The recorded statements through one bare ``sqlite3`` connection (its page cache stays
    warm across rounds, as the pool's connections' do)."""

    engine = "sqlite3"

    def __init__(self, database: Path) -> None:
        self.conn = sqlite3.connect(database, isolation_level=None)

    def __call__(self, statements: list[tuple[str, dict[str, Any]]]) -> float:
        started = time.perf_counter()
        self.conn.execute("BEGIN")
        for query, params in statements:
            self.conn.execute(query, params).fetchall()
        self.conn.execute("ROLLBACK")
        return time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


class _PgReplay:
    """The recorded statements through one bare psycopg connection, in one transaction."""

    engine = "psycopg"

    def __init__(self, dsn: str) -> None:
        import psycopg

        self.conn = psycopg.connect(dsn, options="-c timezone=UTC")

    def __call__(self, statements: list[tuple[str, dict[str, Any]]]) -> float:
        from refundflow.adapters.db.sql import _pyformat

        started = time.perf_counter()
        with self.conn.cursor() as cursor:
            for query, params in statements:
                cursor.execute(_pyformat(query), params)
                cursor.fetchall()
        self.conn.rollback()
        return time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


def _measure(
    options: RunOptions,
    key: str,
    box: Any,
    replay: Any,
    period_name: str,
    first: date,
    last: date,
    notes: dict[str, Any],
) -> Row:
    """``summary`` with the rollups against its own statements replayed bare; once without
    the rollups (every day from the request rows) and those statements bare, for scale;
    and a check that both give the same figures."""
    from refundflow.adapters.db.metrics_repo import SqlMetricsReader
    from refundflow.domain.actors import Actor, ActorKind
    from refundflow.domain.permissions import Role
    from refundflow.services.metrics import Period, summary

    console = options.console
    manager = Actor(ActorKind.STAFF, Role.MANAGER, "bench", "bench")
    period = Period(first, last)
    SqlMetricsReader.use_rollups = False
    try:
        live_statements = _recorded(box, period, manager)
        t0 = time.perf_counter()
        live_result = summary(box.uows, manager, period)
        live_seconds = time.perf_counter() - t0
    finally:
        SqlMetricsReader.use_rollups = True
    live_bare_seconds = replay(live_statements)
    statements = _recorded(box, period, manager)  # also warms the caches
    if summary(box.uows, manager, period) != live_result:
        raise AssertionError(f"{key}: the rollups and the request rows disagree")
    ours: list[float] = []
    bare: list[float] = []
    ours_cpu: list[float] = []
    bare_cpu: list[float] = []
    result: dict[str, Any] = {}
    for number in range(1, ROUNDS + 1):
        c0 = time.process_time()
        bare.append(replay(statements))
        c1 = time.process_time()
        t0 = time.perf_counter()
        result = summary(box.uows, manager, period)
        ours.append(time.perf_counter() - t0)
        ours_cpu.append(time.process_time() - c1)
        bare_cpu.append(c1 - c0)
        if options.verbose:
            console.print(
                f"  {key} round {number}: summary {ours[-1]:.3f} s "
                f"(CPU {ours_cpu[-1]:.3f} s), bare SQL {bare[-1]:.3f} s "
                f"(CPU {bare_cpu[-1]:.3f} s)"
            )
    if options.verbose:
        console.print(
            f"  {key} without rollups: summary {live_seconds:.2f} s, its SQL bare "
            f"{live_bare_seconds:.2f} s"
        )
    seconds, bare_seconds = statistics.median(ours), statistics.median(bare)
    return Row(
        key=key,
        label=f"dashboard {period_name} of 1M requests, {replay.engine} ({seconds:.2f} s)",
        figures=Figures(1 / seconds),
        baseline_label=f"the same SQL, bare {replay.engine} ({bare_seconds:.2f} s)",
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
            for i, (s, b, sc, bc) in enumerate(zip(ours, bare, ours_cpu, bare_cpu, strict=True))
        ],
        notes={
            "period": [first.isoformat(), last.isoformat()],
            "requests_in_period": result.get("requests"),
            "statements": len(statements),
            "seconds": round(seconds, 4),
            "bare_seconds": round(bare_seconds, 4),
            # CPU time of this process (SQLite runs in it; PostgreSQL does not).
            "cpu_seconds": round(statistics.median(ours_cpu), 4),
            "bare_cpu_seconds": round(statistics.median(bare_cpu), 4),
            "target_seconds": TARGET_SECONDS,
            "within_target_seconds": seconds <= TARGET_SECONDS,
            "without_rollups_seconds": round(live_seconds, 3),
            "without_rollups_statements": len(live_statements),
            "without_rollups_bare_sql_seconds": round(live_bare_seconds, 3),
            **notes,
        },
    )


# What the dashboard reads, copied from the SQLite file into PostgreSQL (in this order,
# for the foreign keys); timeline events and lines are not read by it and stay behind.
PG_TABLES = (
    "customers",
    "orders",
    "refund_requests",
    "work_items",
    "surveys",
    "complaints",
    "compensations",
)


def pg_dashboard_database(sqlite_path: Path) -> tuple[str, dict[str, Any]]:
    """A PostgreSQL database with the SQLite file's dashboard rows and its own rollups
    (built by ``rebuild_rollups`` on PostgreSQL), kept on the server between runs under a
    name derived from the file's."""
    import hashlib

    import psycopg
    from tests.tools.pgserver import find_server

    from refundflow.entrypoints.bootstrap import bootstrap, migrate
    from refundflow.entrypoints.settings import Settings
    from refundflow.services.metrics import rebuild_rollups

    server = find_server()
    name = "refundflow_bench_" + hashlib.sha256(sqlite_path.name.encode()).hexdigest()[:12]
    url = server.url(name)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(server.dsn, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists:
        with psycopg.connect(dsn) as conn:
            ready = conn.execute(
                "SELECT to_regclass('bench_ready') IS NOT NULL AND "
                "(SELECT COUNT(*) FROM bench_ready) > 0"
            ).fetchone()
            if ready and ready[0]:
                info = conn.execute("SELECT info FROM bench_ready").fetchone()
                return url, json.loads(info[0]) if info else {}
    for stale in _stale_bench_databases(server.dsn, keep=name):
        server.drop_database(stale)
    server.create_database(name)
    box = bootstrap(Settings(database_url=url, _env_file=None))
    try:
        migrate(box)
    finally:
        box.close()
    started = time.perf_counter()
    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(dsn, options="-c timezone=UTC") as conn:
        for table in PG_TABLES:
            kinds = dict(
                conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = %s",
                    (table,),
                ).fetchall()
            )
            columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
            columns = [c for c in columns if c in kinds]
            flags = [i for i, c in enumerate(columns) if kinds[c] == "boolean"]
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in source.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                    if flags:
                        row = list(row)
                        for i in flags:
                            if row[i] is not None:
                                row[i] = bool(row[i])
                    copy.write_row(row)
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
    source.close()
    copied = time.perf_counter() - started
    box = bootstrap(Settings(database_url=url, _env_file=None))
    try:
        started = time.perf_counter()
        days = rebuild_rollups(box.uows)
        built = time.perf_counter() - started
    finally:
        box.close()
    info = {
        "copy_seconds": round(copied, 1),
        "rollup_build": {"days": days, "seconds": round(built, 1)},
    }
    with psycopg.connect(dsn) as conn:
        conn.execute("ANALYZE")
        conn.execute("CREATE TABLE bench_ready (info text)")
        conn.execute("INSERT INTO bench_ready VALUES (%s)", (json.dumps(info),))
        conn.commit()
    return url, info


def _stale_bench_databases(dsn: str, keep: str) -> list[str]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'refundflow_bench_%%'"
            )
            if row[0] != keep
        ]


def run(options: RunOptions) -> list[Row]:
    from refundflow.entrypoints.bootstrap import bootstrap
    from refundflow.entrypoints.settings import Settings

    console = options.console
    started = time.perf_counter()
    with console.status(f"dashboard: building (or reusing) {REQUESTS:,} stored requests…"):
        database = dashboard_database(REQUESTS)
    setup = time.perf_counter() - started
    build = ROLLUP_BUILD or json.loads(
        (database.parent / (database.name + ".rollups.json")).read_text()
    )
    rows = []
    box = bootstrap(Settings(database_url=f"sqlite:///{database}", _env_file=None))
    replay = _SqliteReplay(database)
    try:
        for name, (first, last) in PERIODS.items():
            notes = {"setup_seconds": round(setup, 1), "rollup_build": build}
            rows.append(
                _measure(
                    options, f"dashboard.summary_{name}", box, replay, name, first, last, notes
                )
            )
    finally:
        replay.close()
        box.close()

    started = time.perf_counter()
    with console.status("dashboard: copying (or reusing) the rows into PostgreSQL…"):
        url, info = pg_dashboard_database(database)
    setup = time.perf_counter() - started
    box = bootstrap(Settings(database_url=url, _env_file=None))
    pg_replay = _PgReplay(url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        for name, (first, last) in PERIODS.items():
            notes = {"setup_seconds": round(setup, 1), **info}
            rows.append(
                _measure(
                    options,
                    f"dashboard.pg_summary_{name}",
                    box,
                    pg_replay,
                    name,
                    first,
                    last,
                    notes,
                )
            )
    finally:
        pg_replay.close()
        box.close()
    return rows
