"""The ``import`` suite: order lines per second of ``refundflow import orders`` into SQLite,
next to a bare ``executemany`` of the same rows into the same tables.

One CSV file of ``LINES`` order lines (about 1–5 lines per order, a few orders per
customer, a payment per order) is generated once per run. Each round copies a freshly
migrated SQLite file and imports the CSV into it:

- refundflow: what the command runs (``entrypoints.importing.import_file``: ``open_table``
  → ``resolve_columns`` → ``services.order_import.import_orders``) — CSV reading, every
  domain check, customer matching, the bulk writes, chunk transactions;
- baseline: ``csv.reader`` over the same file and plain ``sqlite3`` ``executemany`` of the
  same customers, orders, lines and payments into the same tables (same indexes, WAL,
  ``synchronous=NORMAL``), ids counted in Python, money converted with ``Decimal``, one
  transaction per 2,000 orders: no checks, no lookups.

The sides alternate A, B, A, B … for ``rounds`` rounds (at most 5); rows report medians.
"""

from __future__ import annotations

import csv
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.errors import BenchError
from bench.options import RunOptions
from bench.rows import Figures, Row
from refundflow.adapters.db.migrate import upgrade
from refundflow.entrypoints.bootstrap import bootstrap
from refundflow.entrypoints.importing import import_file
from refundflow.entrypoints.settings import Settings
from refundflow.services.order_import import COLUMNS

LINES = 60_000
SEED = 20261126
RATIO_TARGET = 0.4
RATE_TARGET = 20_000.0
CHUNK = 2000
CATEGORIES = ["apparel", "home", "food"]
SKUS = [(f"SKU-{i:05d}", f"商品 {i}", CATEGORIES[i % 3]) for i in range(3000)]


def write_dataset(path: Path, lines: int = LINES, seed: int = SEED) -> int:
    """A realistic file: returns the number of order lines written."""
    rng = random.Random(seed)
    start = datetime(2026, 8, 1, tzinfo=UTC)
    written = 0
    order = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        while written < lines:
            order += 1
            customer = rng.randrange(lines // 6)
            placed = start + timedelta(minutes=rng.randrange(90 * 24 * 60))
            items = rng.sample(SKUS, min(rng.choice((1, 1, 2, 2, 3, 4, 5)), lines - written))
            priced = [
                (sku, rng.randint(1, 3), Decimal(rng.randrange(500, 50000)) / 100) for sku in items
            ]
            total = sum((q * p for _, q, p in priced), Decimal(0)) + Decimal("8.00")
            for i, ((sku, name, category), quantity, price) in enumerate(priced):
                first = i == 0
                writer.writerow(
                    [
                        f"BN{order:08d}",
                        "tmall" if first else "",
                        "CNY" if first else "",
                        placed.isoformat() if first else "",
                        (placed + timedelta(minutes=3)).isoformat() if first else "",
                        (placed + timedelta(days=1)).isoformat() if first else "",
                        (placed + timedelta(days=3)).isoformat() if first else "",
                        f"客户{customer}" if first else "",
                        f"139{customer:08d}" if first else "",
                        "",
                        "standard" if first else "",
                        "8.00" if first else "",
                        "alipay" if first else "",
                        str(total) if first else "",
                        f"ALI{order:010d}" if first else "",
                        sku,
                        name,
                        category,
                        quantity,
                        f"{price:.2f}",
                        "0",
                    ]
                )
                written += 1
    return written


def _template(directory: Path) -> Path:
    path = directory / "template.db"
    box = bootstrap(Settings(database_url=f"sqlite:///{path}", environment="test"))
    try:
        upgrade(box.engine)
    finally:
        box.close()
    return path


def _fresh(template: Path, directory: Path, name: str) -> Path:
    path = directory / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.copy(template, path)
    return path


def run_refundflow(db: Path, data: Path) -> tuple[float, float]:
    """(lines/s of wall time, lines/s of this process's CPU time)."""
    box = bootstrap(Settings(database_url=f"sqlite:///{db}", environment="test"))
    try:
        started, cpu = time.perf_counter(), time.process_time()
        report = import_file(box, data, {})
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        box.close()
    if report.bad_rows or report.lines == 0:
        raise BenchError(f"the import refused rows: {report.bad_rows[:3]}")
    return report.lines / elapsed, report.lines / cpu


def _minor(text: str) -> int:
    return int(Decimal(text) * 100)


def run_baseline(db: Path, data: Path) -> tuple[float, float]:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    started, cpu = time.perf_counter(), time.process_time()
    now = datetime.now(UTC).isoformat(" ")
    customers: dict[str, int] = {}
    batch: dict[str, list[list[object]]] = {"c": [], "o": [], "l": [], "p": []}
    order_id = 0
    lines = 0
    current = None

    def flush() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO customers (id, name, email, phone, tier, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            batch["c"],
        )
        conn.executemany(
            "INSERT INTO orders (id, order_no, channel, currency, customer_id, "
            "shipping_fee_minor, total_minor, payment_methods, placed_at, paid_at, shipped_at, "
            "delivered_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?)",
            batch["o"],
        )
        conn.executemany(
            "INSERT INTO order_lines (order_id, sku, name, category, quantity, "
            "unit_price_minor, discount_minor) VALUES (?, ?, ?, ?, ?, ?, ?)",
            batch["l"],
        )
        conn.executemany(
            "INSERT INTO payments (order_id, method, amount_minor, reference) VALUES (?, ?, ?, ?)",
            batch["p"],
        )
        conn.execute("COMMIT")
        for rows in batch.values():
            rows.clear()

    with data.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for r in reader:
            if r[0] != current:
                if len(batch["o"]) >= CHUNK:
                    flush()
                current = r[0]
                order_id += 1
                customer = customers.get(r[8])
                if customer is None:
                    customer = customers[r[8]] = len(customers) + 1
                    batch["c"].append([customer, r[7], None, r[8], r[10], now, now])
                batch["o"].append(
                    [order_id, r[0], r[1], r[2], customer, _minor(r[11]), _minor(r[13]), r[12],
                     r[3], r[4], r[5], r[6], now, now]
                )  # fmt: skip
                batch["p"].append([order_id, r[12], _minor(r[13]), r[14]])
            batch["l"].append(
                [order_id, r[15], r[16], r[17], int(r[18]), _minor(r[19]), _minor(r[20])]
            )
            lines += 1
    flush()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return lines / elapsed, lines / cpu


@dataclass(frozen=True, slots=True)
class _Round:
    refundflow: float
    baseline: float
    refundflow_cpu: float
    baseline_cpu: float


def run(options: RunOptions) -> list[Row]:
    console = options.console
    rounds = max(1, min(options.rounds, 5))
    with tempfile.TemporaryDirectory(prefix="refundflow-bench-import-") as tmp:
        directory = Path(tmp)
        data = directory / "orders.csv"
        lines = write_dataset(data)
        template = _template(directory)
        measured: list[_Round] = []
        for number in range(1, rounds + 1):
            ours, ours_cpu = run_refundflow(_fresh(template, directory, "ours.db"), data)
            bare, bare_cpu = run_baseline(_fresh(template, directory, "bare.db"), data)
            measured.append(_Round(ours, bare, ours_cpu, bare_cpu))
            if options.verbose:
                console.print(
                    f"  round {number}: refundflow {ours:,.0f} lines/s, bare executemany "
                    f"{bare:,.0f} lines/s, ratio {ours / bare:.2f} (CPU time: "
                    f"{ours_cpu:,.0f} vs {bare_cpu:,.0f} lines/s)"
                )
    ours_rate = statistics.median(r.refundflow for r in measured)
    bare_rate = statistics.median(r.baseline for r in measured)
    raw = [
        {
            "round": i,
            "refundflow_lines_per_second": round(r.refundflow, 1),
            "baseline_lines_per_second": round(r.baseline, 1),
            "ratio": round(r.refundflow / r.baseline, 4),
            "refundflow_lines_per_cpu_second": round(r.refundflow_cpu, 1),
            "baseline_lines_per_cpu_second": round(r.baseline_cpu, 1),
        }
        for i, r in enumerate(measured, start=1)
    ]
    notes = {
        "lines": lines,
        "file": "CSV, 21 columns, ~2.6 lines per order, ~10,000 customers",
        "chunk_orders": CHUNK,
        # CPU time is steadier than wall time on a shared machine (see bench/README.md).
        "refundflow_lines_per_cpu_second": round(
            statistics.median(r.refundflow_cpu for r in measured)
        ),
        "baseline_lines_per_cpu_second": round(statistics.median(r.baseline_cpu for r in measured)),
        "median_round_cpu_ratio": round(
            statistics.median(r.refundflow_cpu / r.baseline_cpu for r in measured), 3
        ),
    }
    return [
        Row(
            key="import.orders_csv_ratio",
            label="import orders (CSV → SQLite), lines/s",
            figures=Figures(ours_rate),
            baseline_label="bare executemany of the same rows",
            baseline=Figures(bare_rate),
            target=RATIO_TARGET,
            rounds=raw,
            notes=notes,
        ),
        Row(
            key="import.orders_csv_rate",
            label="import orders (CSV → SQLite), lines/s ≥ 20,000",
            figures=Figures(ours_rate),
            target=RATE_TARGET,
            notes=notes,
        ),
    ]
