"""A large stored history for the benches that read millions of rows (policy simulation,
later the dashboard): customers, orders and refund requests written with ``executemany``
into a migrated SQLite file, consistent with what the services would have stored.

Writing 1,000,000 requests this way takes about a minute; going through the services would
take a quarter of an hour. The file is kept under ``bench/.cache`` and reused while the
schema and this generator are unchanged (the file name carries both).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path

from refundflow.entrypoints.bootstrap import bootstrap, migrate
from refundflow.entrypoints.settings import Settings

CACHE = Path(__file__).parent / ".cache"
SEP = "\x1f"
END = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 365
BATCH = 50_000

CATEGORIES = ["apparel", "shoes", "electronics", "home", "beauty", "food"]
CHANNELS = ["tmall", "jd", "douyin", "own_site", "wechat_store"]
METHODS = ["alipay", "wechat_pay", "card", "stripe"]
TIERS = [("standard", 60), ("silver", 22), ("gold", 12), ("vip", 6)]
TYPES = [("return_and_refund", 6), ("refund_only", 3), ("exchange", 1)]
REASONS = [
    "no_reason_7d",
    "quality_issue",
    "wrong_item",
    "damaged_in_transit",
    "not_as_described",
    "missing_parts",
    "late_delivery",
    "other",
]
STATUSES = [
    ("refunded", 55),
    ("rejected", 8),
    ("cancelled", 7),
    ("exchanged", 5),
    ("pending_review", 6),
    ("awaiting_return", 6),
    ("refund_pending", 5),
    ("received", 3),
    ("refunding", 2),
    ("refund_failed", 2),
    ("exchange_pending", 1),
]
OUTCOMES = [("approve", 55), ("review", 42), ("reject", 3)]
APPROVED = {
    "refunded",
    "exchanged",
    "awaiting_return",
    "refund_pending",
    "received",
    "refunding",
    "refund_failed",
    "exchange_pending",
}


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _version_key() -> str:
    from refundflow.adapters.db.migrate import head_revision

    # The generator and every migration: a migration edited in place changes the schema too.
    digest = hashlib.sha256(Path(__file__).read_bytes())
    versions = Path(head_revision.__code__.co_filename).parent / "migrations" / "versions"
    for migration in sorted(versions.glob("*.py")):
        digest.update(migration.read_bytes())
    return f"{head_revision()}-{digest.hexdigest()[:8]}"


def history_database(requests: int, *, seed: int = 11) -> Path:
    """A migrated SQLite file holding ``requests`` refund requests (built once, cached)."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"history-{requests}-{seed}-{_version_key()}.db"
    if path.exists():
        return path
    for stale in CACHE.glob(f"history-{requests}-{seed}-*.db*"):
        stale.unlink()
    building = path.with_suffix(".building")
    for leftover in CACHE.glob(building.name + "*"):
        leftover.unlink()
    box = bootstrap(Settings(database_url=f"sqlite:///{building}", _env_file=None))
    try:
        migrate(box)
    finally:
        box.close()
    _fill(building, requests, random.Random(seed))
    _add_draft(building)
    shutil.move(building, path)
    return path


def _add_draft(path: Path) -> None:
    """Version 2, a draft: the default policy with a bolder small-amount rule (¥200, refund
    rate under 20%), the kind of change a merchant simulates before publishing."""
    from refundflow.domain.actors import Actor, ActorKind
    from refundflow.domain.permissions import Role
    from refundflow.policy.defaults import DEFAULT_POLICY
    from refundflow.services.policies import put_draft

    document = json.loads(json.dumps(DEFAULT_POLICY))
    for rule in document["rules"]:
        if rule["id"] == "small_trusted":
            rule["conditions"] = [
                {"fact": "amount", "operator": "<=", "value": "200.00"},
                {"fact": "customer_refund_rate", "operator": "<", "value": "0.20"},
            ]
    box = bootstrap(Settings(database_url=f"sqlite:///{path}", _env_file=None))
    try:
        put_draft(
            box.uows,
            Actor(ActorKind.STAFF, Role.MANAGER, "bench", "bench"),
            {k: v for k, v in document.items() if k != "version"},
        )
    finally:
        box.close()


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _fill(path: Path, count: int, rng: random.Random) -> None:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    customers = max(1000, count // 3)
    start = END - timedelta(days=DAYS)
    now = _ts(END)
    conn.executemany(
        "INSERT INTO customers (id, name, email, phone, tier, created_at, updated_at) "
        "VALUES (?, ?, NULL, ?, ?, ?, ?)",
        (
            (i, f"客户{i}", f"139{i:08d}", _pick(rng, TIERS), now, now)
            for i in range(1, customers + 1)
        ),
    )
    order_count = count * 2
    orders = []
    # What the requests need of their order, kept in compact arrays (no query per request).
    order_customer = array("l", [0]) * (order_count + 1)
    order_total = array("q", [0]) * (order_count + 1)
    order_delivered = array("d", [0.0]) * (order_count + 1)
    for order_id in range(1, order_count + 1):
        placed = start + timedelta(seconds=rng.randrange(DAYS * 86400))
        paid = placed + timedelta(minutes=rng.randrange(1, 30))
        shipped = paid + timedelta(hours=rng.randrange(4, 60))
        delivered = shipped + timedelta(hours=rng.randrange(20, 96))
        total = rng.randrange(1_000, 200_000)
        customer = rng.randrange(1, customers + 1)
        order_customer[order_id] = customer
        order_total[order_id] = total
        order_delivered[order_id] = delivered.timestamp()
        orders.append(
            (
                order_id,
                f"B{order_id:09d}",
                rng.choice(CHANNELS),
                "CNY",
                customer,
                0,
                total,
                rng.choice(METHODS),
                _ts(placed),
                _ts(paid),
                _ts(shipped),
                _ts(delivered),
                now,
                now,
            )
        )
        if len(orders) == BATCH:
            _orders(conn, orders)
            orders = []
    _orders(conn, orders)
    rows = []
    order_ids = rng.sample(range(1, order_count + 1), count)
    for request_id, order_id in enumerate(order_ids, start=1):
        order = (order_customer[order_id], order_total[order_id])
        delivered = datetime.fromtimestamp(order_delivered[order_id], UTC)
        created = delivered + timedelta(hours=rng.randrange(1, 24 * 20))
        status = _pick(rng, STATUSES)
        kind = "exchange" if status in ("exchanged", "exchange_pending") else _pick(rng, TYPES)
        if kind == "exchange" and status not in APPROVED | {
            "rejected",
            "cancelled",
            "pending_review",
        }:
            kind = "return_and_refund"
        amount = 0 if kind == "exchange" else min(order[1], rng.randrange(500, 100_000))
        outcome = _pick(rng, OUTCOMES) if status != "pending_review" else "review"
        approved_at = (
            (created + timedelta(hours=rng.randrange(0, 30))) if status in APPROVED else None
        )
        refunded_at = (
            (approved_at + timedelta(hours=rng.randrange(1, 200)))
            if status == "refunded" and approved_at
            else None
        )
        categories = SEP.join(sorted({rng.choice(CATEGORIES)}))
        rows.append(
            (
                request_id,
                f"RF{created:%Y%m%d}-{request_id:06d}",
                order_id,
                order[0],
                kind,
                rng.choice(REASONS),
                "",
                0,
                0,
                "original",
                "portal",
                "CNY",
                amount,
                amount if approved_at else None,
                amount if refunded_at else None,
                status,
                None,
                0,
                0,
                None,
                None,
                None,
                _ts(created),
                _ts(refunded_at or approved_at or created),
                "zh-CN",
                categories,
                f"SKU-{rng.randrange(500):03d}",
                outcome,
                "r",
                1,
                None,
                "normal",
                0,
                None,
                0,
                _ts(approved_at) if approved_at else None,
                _ts(refunded_at) if refunded_at else None,
            )
        )
        if len(rows) == BATCH:
            _requests(conn, rows)
            rows = []
    _requests(conn, rows)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _orders(conn: object, rows: list[tuple[object, ...]]) -> None:
    conn.executemany(  # type: ignore[attr-defined]
        "INSERT INTO orders (id, order_no, channel, currency, customer_id, shipping_fee_minor, "
        "total_minor, payment_methods, placed_at, paid_at, shipped_at, delivered_at, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _requests(conn: object, rows: list[tuple[object, ...]]) -> None:
    conn.executemany(  # type: ignore[attr-defined]
        "INSERT INTO refund_requests (id, number, order_id, customer_id, type, reason, "
        "description, include_shipping, shipping_minor, refund_route, intake_channel, currency, "
        "amount_requested_minor, amount_approved_minor, amount_refunded_minor, status, "
        "requires_return, goods_received, appealed, return_carrier, return_tracking_no, "
        "created_by, created_at, updated_at, language, categories, skus, decision_outcome, "
        "decision_rule, decision_policy_version, decision, priority, fast_track, queue, "
        "auto_execute, approved_at, refunded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
