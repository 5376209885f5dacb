"""The data the HTTP suite serves: orders to refund against, requests to read, a token.

Everything is written through refundflow's services, as an integration would, so the
database holds what the app itself would have written. Each order has a few lines of
100 000 units at 1.00, paid in full: one-unit refund requests never run out of balance,
while a run adds only tens of requests per order, so the per-order balance query that
every create runs still reads a realistic number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.app import settings_for
from refundflow.adapters.db.migrate import upgrade
from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.permissions import Role
from refundflow.entrypoints.bootstrap import bootstrap
from refundflow.services import auth, intake, orders

UNITS_PER_LINE = 100_000
SEEDER = Actor(ActorKind.STAFF, Role.ADMIN, "bench", "bench seeder")


@dataclass(frozen=True, slots=True)
class Dataset:
    token: str  # an admin API token
    pairs: list[tuple[str, str]]  # (order_no, sku) to refund one unit of, in cycle order
    request_ids: list[int]  # requests that exist, for reads
    pairs_used: int  # how many of ``pairs`` the seeded requests took: creates go on from here


def _order(number: int, lines: int, at: datetime) -> orders.UpsertOrder:
    # SKUs repeat across orders (a shop sells the same products many times) but never
    # within one order.
    skus = [f"SKU{(number * lines + j) % 997:03d}" for j in range(lines)]
    return orders.UpsertOrder(
        order_no=f"BENCH{number:06d}",
        channel="own_site",
        currency="CNY",
        customer=orders.CustomerInput(name=f"bench customer {number}", phone=f"139{number:08d}"),
        lines=[
            orders.LineInput(
                sku=sku, name=f"product {sku}", quantity=UNITS_PER_LINE, unit_price="1.00"
            )
            for sku in skus
        ],
        payments=[orders.PaymentInput(method="alipay", amount=str(lines * UNITS_PER_LINE))],
        placed_at=at,
        paid_at=at,
        shipped_at=at + timedelta(hours=20),
        delivered_at=at + timedelta(days=2),
    )


def interleave(order_skus: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """Line 1 of every order, then line 2 of every order, …: consecutive creates land on
    different orders, as independent customers' requests would."""
    longest = max(len(skus) for _, skus in order_skus)
    return [
        (order_no, skus[j])
        for j in range(longest)
        for order_no, skus in order_skus
        if j < len(skus)
    ]


def build(path: Path, *, order_count: int, lines_per_order: int, request_count: int) -> Dataset:
    """Migrate a new database at ``path`` and fill it; takes a few seconds."""
    box = bootstrap(settings_for(path))
    try:
        upgrade(box.engine)
        placed = datetime.now(UTC) - timedelta(days=3)
        order_skus = []
        for number in range(order_count):
            cmd = _order(number, lines_per_order, placed)
            orders.upsert_order(box.uows, cmd)
            order_skus.append((cmd.order_no, [line.sku for line in cmd.lines]))
        pairs = interleave(order_skus)
        request_ids = []
        for order_no, sku in pairs[:request_count]:
            submitted = intake.submit_refund_request(
                box.uows,
                intake.SubmitRefundRequest(
                    order_no=order_no, type="refund_only", reason="quality_issue", lines=[(sku, 1)]
                ),
                SEEDER,
            )
            request_ids.append(int(submitted.view["id"]))
        token = auth.issue_token(box.uows, "admin", "bench")
    finally:
        box.engine.dispose()
    return Dataset(token, pairs, request_ids, pairs_used=request_count)
