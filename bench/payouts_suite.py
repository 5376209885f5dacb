"""The ``payouts`` suite: refunds executed per second through the worker against the local
Alipay server, and the outbox lag under that load.

Baseline: the same local Alipay server (``tests/fakes/alipay.py``: a threaded HTTP server that
verifies our RSA2 signature and signs its answer) called by a bare client — refundflow's own
``AlipayGateway.refund`` (the SDK's signing, the HTTP call, the answer's verification) in a
tight loop with new keys, no database. What the worker adds on top is the point of the row:
two short transactions per refund (claim and attempt log; result, request status, document,
timeline and outbox event), the outbox claim and the delivered mark. Both sides run in this
process, one at a time, one refund at a time (one worker), for ``rounds`` alternated rounds.

Rows:
- ``payouts.worker_refunds``: refunds/s of one worker draining N executed requests (each
  request one Alipay record) on SQLite; p50/p99 are the per-refund outbox lag (row written →
  delivered) of that drain, which is mostly queueing since all rows are due at once;
- ``payouts.outbox_lag``: a producer executes requests at ~60 % of the measured worker rate
  for a few seconds while the worker runs: per_second is the rate delivered, p50/p99 the
  lag from the execute's commit to the refund's delivery — what a customer waits under a
  steady load.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.fakes.alipay import FakeAlipay

from bench.errors import BenchError
from bench.options import RunOptions
from bench.rows import Figures, Row
from refundflow.adapters.db.migrate import upgrade
from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.lifecycle import Action
from refundflow.domain.money import Money
from refundflow.domain.payouts import PayoutRoute
from refundflow.domain.permissions import Role
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.worker import Worker
from refundflow.services import intake, orders
from refundflow.services.actions import ActionInput, perform
from refundflow.services.payouts.ports import PaymentFacts, RefundInstruction
from refundflow.services.policies import ensure_published

BATCH = 300
CS = Actor(ActorKind.STAFF, Role.CS, "cs", "cs")
FINANCE = Actor(ActorKind.STAFF, Role.FINANCE, "fin", "finance")
REVIEW = {"rules": [{"id": "all", "name": "review", "conditions": [], "outcome": "review"}]}


def _box(path: Path, fake: FakeAlipay) -> Container:
    """A fresh database; its own key prefix, since every round talks to the same gateway (two
    installations sharing one prefix would share keys: the gateway would refuse the second)."""
    fields = {k.removeprefix("REFUNDFLOW_").lower(): v for k, v in fake.settings_env(5.0).items()}
    prefix = "b" + "".join(chr(97 + int(d)) for d in f"{abs(hash(path.name)) % 10**6:06d}")
    box = bootstrap(
        Settings(
            database_url=f"sqlite:///{path}", environment="test", payout_key_prefix=prefix, **fields
        )
    )
    upgrade(box.engine)
    ensure_published(box.uows, REVIEW, box.uows.clock())
    return box


def _order(box: Container, fake: FakeAlipay, n: int) -> str:
    order_no = f"B-{n}"
    fake.add_trade(f"T-{n}", 10000)
    orders.upsert_order(
        box.uows,
        orders.UpsertOrder(
            order_no=order_no,
            channel="own_site",
            currency="CNY",
            customer=orders.CustomerInput("王芳", None, f"139{n:08d}"),
            lines=[orders.LineInput("SKU-1", "跑步鞋", 1, "100.00", "shoes")],
            payments=[orders.PaymentInput("alipay", "100.00", f"T-{n}")],
            placed_at=datetime(2026, 11, 20, tzinfo=UTC),
        ),
    )
    return order_no


def _approved(box: Container, fake: FakeAlipay, n: int) -> str:
    order_no = _order(box, fake, n)
    view = intake.submit_refund_request(
        box.uows,
        intake.SubmitRefundRequest(order_no, "refund_only", "quality_issue", [("SKU-1", 1)]),
        CS,
    ).view
    perform(box.uows, str(view["id"]), Action.APPROVE, CS, ActionInput())
    return str(view["id"])


def _execute(box: Container, rid: str) -> None:
    perform(box.uows, rid, Action.EXECUTE, FINANCE, ActionInput(), options=box.payout_options)


def _lags_ms(box: Container) -> list[float]:
    lags = []
    with box.engine.connect() as conn:
        for created, delivered in conn.exec_driver_sql(
            "SELECT created_at, delivered_at FROM outbox WHERE topic = 'refund.due' "
            "AND delivered_at IS NOT NULL"
        ):
            a, b = datetime.fromisoformat(created), datetime.fromisoformat(delivered)
            lags.append((b - a).total_seconds() * 1000)
    return lags


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _undelivered(box: Container) -> int:
    with box.engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND topic = 'refund.due'"
            ).scalar_one()
        )


def _drain_round(fake: FakeAlipay, base: Path, number: int) -> dict[str, Any]:
    box = _box(base / f"drain{number}.db", fake)
    try:
        rids = [_approved(box, fake, number * 100_000 + i) for i in range(BATCH)]
        for rid in rids:
            _execute(box, rid)
        worker = Worker(box, worker_id="bench")
        made_before = sum(fake.refunds_made.values())
        started = time.perf_counter()
        while _undelivered(box):
            worker.run_once()
        seconds = time.perf_counter() - started
        made = sum(fake.refunds_made.values()) - made_before
        if made != BATCH:
            raise BenchError(f"the worker made {made} refunds for {BATCH} records")
        lags = _lags_ms(box)
        return {
            "refunds": made,
            "seconds": round(seconds, 3),
            "per_second": made / seconds,
            "lag_p50_ms": _pct(lags, 0.5),
            "lag_p99_ms": _pct(lags, 0.99),
        }
    finally:
        box.close()


def _bare_round(fake: FakeAlipay, box: Container, number: int) -> dict[str, Any]:
    gateway = box.gateways.routes[PayoutRoute.ALIPAY]
    facts = PaymentFacts("alipay", "T-bare", Money(Decimal("100000.00"), "CNY"), "B", 1, "RF")
    fake.add_trade("T-bare", 10**12)
    started = time.perf_counter()
    for i in range(BATCH):
        key = f"bare{number:03d}{i:06d}"
        result = gateway.refund(
            RefundInstruction(
                i + 1, key, PayoutRoute.ALIPAY, Money(Decimal("1.00"), "CNY"), facts, "bench"
            )
        )
        if result.outcome.value != "succeeded":
            raise BenchError(f"the bare client's refund {key} ended {result.outcome.value}")
    seconds = time.perf_counter() - started
    return {"refunds": BATCH, "seconds": round(seconds, 3), "per_second": BATCH / seconds}


def _lag_round(
    fake: FakeAlipay, base: Path, number: int, rate: float, seconds: float
) -> dict[str, Any]:
    box = _box(base / f"lag{number}.db", fake)
    try:
        count = max(20, int(rate * seconds))
        rids = [_approved(box, fake, 900_000 + number * 10_000 + i) for i in range(count)]
        stop = threading.Event()
        worker = Worker(box, worker_id="bench-lag")

        def work() -> None:
            while not stop.is_set():
                if not worker.run_once():
                    time.sleep(0.002)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        started = time.perf_counter()
        for i, rid in enumerate(rids):
            due = started + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            _execute(box, rid)
        deadline = time.perf_counter() + 60
        while _undelivered(box) and time.perf_counter() < deadline:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        stop.set()
        thread.join(10)
        lags = _lags_ms(box)
        if len(lags) != count:
            raise BenchError(f"{count - len(lags)} refunds were not delivered within a minute")
        return {
            "refunds": count,
            "seconds": round(elapsed, 3),
            "per_second": count / elapsed,
            "offered_per_second": rate,
            "lag_p50_ms": _pct(lags, 0.5),
            "lag_p99_ms": _pct(lags, 0.99),
        }
    finally:
        box.close()


def run(options: RunOptions) -> list[Row]:
    console = options.console
    rounds = max(1, min(options.rounds, 3))
    fake = FakeAlipay()
    worker_rounds: list[dict[str, Any]] = []
    bare_rounds: list[dict[str, Any]] = []
    lag_rounds: list[dict[str, Any]] = []
    with fake.running(), tempfile.TemporaryDirectory(prefix="refundflow-bench-") as tmp:
        base = Path(tmp)
        bare_box = _box(base / "bare.db", fake)
        try:
            for number in range(rounds):
                with console.status(f"payouts: round {number + 1} of {rounds}…"):
                    worker_rounds.append(_drain_round(fake, base, number))
                    bare_rounds.append(_bare_round(fake, bare_box, number))
                if options.verbose:
                    console.print(f"  worker {worker_rounds[-1]}\n  bare   {bare_rounds[-1]}")
            rate = 0.6 * statistics.median(r["per_second"] for r in worker_rounds)
            for number in range(rounds):
                with console.status(f"payouts: lag under load, round {number + 1}…"):
                    lag_rounds.append(_lag_round(fake, base, number, rate, options.seconds))
                if options.verbose:
                    console.print(f"  lag    {lag_rounds[-1]}")
        finally:
            bare_box.close()
    med = statistics.median
    worker = Figures(
        med(r["per_second"] for r in worker_rounds),
        med(r["lag_p50_ms"] for r in worker_rounds),
        med(r["lag_p99_ms"] for r in worker_rounds),
    )
    bare = Figures(med(r["per_second"] for r in bare_rounds))
    lag = Figures(
        med(r["per_second"] for r in lag_rounds),
        med(r["lag_p50_ms"] for r in lag_rounds),
        med(r["lag_p99_ms"] for r in lag_rounds),
    )
    return [
        Row(
            "payouts.worker_refunds",
            "refunds/s through the worker (Alipay, SQLite)",
            worker,
            "bare SDK client → local Alipay",
            bare,
            None,
            [
                {"round": i + 1, "subject": w, "baseline": b}
                for i, (w, b) in enumerate(zip(worker_rounds, bare_rounds, strict=True))
            ],
            {"refunds_per_round": BATCH, "database": "sqlite", "workers": 1},
        ),
        Row(
            "payouts.outbox_lag",
            "outbox lag under 60% load (p50/p99 ms)",
            lag,
            None,
            None,
            None,
            [{"round": i + 1, "subject": r} for i, r in enumerate(lag_rounds)],
            {"offered_rate": round(rate, 1)},
        ),
    ]
