"""Concurrency guards of the payouts, on SQLite and PostgreSQL.

- 50 callers executing one request at once (real server processes): one set of records,
  one refund per record at the gateway. Guard: the request's row lock (``FOR UPDATE`` on
  PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and the lifecycle table.
- Executions of different requests of one order at once: no payment gives more than it
  captured. Guard: the order's row lock around the per-payment sums.
- One store-credit record delivered by many workers at once, and again after a "crash":
  credited once. Guard: the unique index on ``ledger_entries.refund_id``.

Seen failing once with each guard removed (issue 5's closing note): without the request's
``FOR UPDATE`` 3 of 50 executes succeeded on PostgreSQL; without the order's, ten executions
took 1,000.00 from a 500.00 Alipay payment; without the ledger's unique index the record was
credited 10 times; without the unique index on keys a second record with a used key was
accepted.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from refundflow.domain.errors import ConflictError
from refundflow.domain.lifecycle import Action
from refundflow.domain.payouts import PayoutRoute
from refundflow.entrypoints.bootstrap import Container
from refundflow.services.auth import issue_token
from refundflow.services.clock import ManualClock
from tests.conftest import REVIEW_EVERYTHING, publish
from tests.integration.payouts import (
    FINANCE,
    Fakes,
    act,
    approved_request,
    drain,
    paid_order,
    payout_box,
    request_doc,
    rows,
)
from tests.tools.servers import running_servers

CALLERS = 50


@pytest.fixture
def pbox(db_url: str, fakes: Fakes, clock: ManualClock) -> Iterator[Container]:
    box = payout_box(db_url, fakes, clock)
    publish(box, REVIEW_EVERYTHING)
    yield box
    box.close()


@pytest.mark.slow
def test_fifty_callers_executing_one_request_make_one_refund_per_record(
    pbox: Container, fakes: Fakes, clock: ManualClock, db_url: str
) -> None:
    # The order has room for more than this request (three units), so only the request's own
    # lock stops a second execution; the per-payment cap alone would let it through.
    paid_order(pbox, fakes, "C-1", [("alipay", "260.00"), ("store_credit", "40.00")], quantity=3)
    rid = approved_request(pbox, "C-1")
    token = issue_token(pbox.uows, "finance", "race")
    barrier = threading.Barrier(CALLERS)

    def call(i: int) -> int:
        with httpx.Client(base_url=urls[i % len(urls)], timeout=60) as client:
            client.get("/healthz")
            barrier.wait()
            response = client.post(
                f"/api/v1/refund-requests/{rid}/execute",
                headers={"Authorization": f"Bearer {token}"},
            )
            return response.status_code

    with running_servers(db_url, 4, env=fakes.env()) as urls, ThreadPoolExecutor(CALLERS) as pool:
        statuses = Counter(pool.map(call, range(CALLERS)))
    assert statuses == {200: 1, 409: CALLERS - 1}
    records = rows(
        pbox, f"SELECT route, idempotency_key, amount_minor FROM refunds WHERE request_id = {rid}"
    )
    assert sorted((r[0], r[2]) for r in records) == [("alipay", 6000), ("store_credit", 4000)]
    drain(pbox, clock)
    assert request_doc(pbox, rid)["status"] == "refunded"
    assert dict(fakes.alipay.refunds_made) == {r[1]: 1 for r in records if r[0] == "alipay"}
    assert fakes.alipay.refunded_minor("AL-C-1-0") == 6000
    assert rows(pbox, "SELECT COUNT(*), SUM(amount_minor) FROM ledger_entries") == [(1, 4000)]


def test_concurrent_executions_on_one_order_never_overdraw_a_payment(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    """Ten one-unit requests on an order paid 500 by Alipay and 500 by WeChat Pay, executed
    by ten threads at once: each payment gives exactly what it captured."""
    paid_order(pbox, fakes, "C-2", [("alipay", "500.00"), ("wechat_pay", "500.00")], quantity=10)
    rids = [approved_request(pbox, "C-2") for _ in range(10)]
    barrier = threading.Barrier(len(rids))

    def execute(rid: int) -> str:
        barrier.wait()
        act(pbox, rid, Action.EXECUTE)
        return "executed"

    with ThreadPoolExecutor(len(rids)) as pool:
        assert list(pool.map(execute, rids)) == ["executed"] * len(rids)
    used = dict(rows(pbox, "SELECT payment_id, SUM(amount_minor) FROM refunds GROUP BY payment_id"))
    captured = dict(rows(pbox, "SELECT id, amount_minor FROM payments"))
    assert used == captured
    drain(pbox, clock)
    assert fakes.alipay.refunded_minor("AL-C-2-0") == 50000
    assert fakes.wechat.refunded_minor("WE-C-2-1") == 50000
    assert not fakes.alipay.bad_requests and not fakes.wechat.bad_requests


def test_a_store_credit_record_delivered_many_times_credits_once(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    """As after a crash between the credit and saving the record: the ledger adapter is
    called again and again, from many threads, for the same record."""
    from refundflow.services.payouts.ports import PaymentFacts, RefundInstruction

    paid_order(pbox, fakes, "C-3", [("store_credit", "100.00")])
    rid = approved_request(pbox, "C-3")
    record = act(pbox, rid, Action.EXECUTE)["refunds"][0]
    gateway = pbox.gateways.routes[PayoutRoute.STORE_CREDIT]
    customer = rows(pbox, "SELECT customer_id FROM orders WHERE order_no = 'C-3'")[0][0]
    from decimal import Decimal

    from refundflow.domain.money import Money

    instruction = RefundInstruction(
        record["id"],
        record["idempotency_key"],
        PayoutRoute.STORE_CREDIT,
        Money(Decimal("100.00"), "CNY"),
        PaymentFacts("store_credit", None, None, "C-3", customer, "RF"),
    )
    barrier = threading.Barrier(8)

    def deliver(_: int) -> str:
        barrier.wait()
        return gateway.refund(instruction).outcome.value

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(deliver, range(8))) == {"succeeded"}
    assert gateway.refund(instruction).outcome.value == "succeeded"
    drain(pbox, clock)
    assert rows(pbox, "SELECT COUNT(*), SUM(amount_minor) FROM ledger_entries") == [(1, 10000)]
    assert rows(pbox, "SELECT balance_minor FROM ledger_balances") == [(10000,)]
    assert request_doc(pbox, rid)["status"] == "refunded"


def test_two_records_can_never_share_an_idempotency_key(pbox: Container, fakes: Fakes) -> None:
    """The unique index behind the keys: a second record with a used key is refused."""
    paid_order(pbox, fakes, "C-4", [("alipay", "100.00")])
    rid = approved_request(pbox, "C-4")
    record = act(pbox, rid, Action.EXECUTE)["refunds"][0]
    refused = pytest.raises(IntegrityError, match=r"(?i)unique|duplicate")
    with pbox.engine.connect() as conn, refused:
        conn.exec_driver_sql(
            "INSERT INTO refunds (id, request_id, order_id, route, currency, amount_minor, "
            "status, attempts, idempotency_key, created_at, updated_at) SELECT 999, request_id, "
            f"order_id, route, currency, 1, 'pending', 0, idempotency_key, created_at, updated_at "
            f"FROM refunds WHERE id = {record['id']}"
        )
    with pytest.raises(ConflictError):
        act(pbox, rid, Action.EXECUTE, actor=FINANCE)
