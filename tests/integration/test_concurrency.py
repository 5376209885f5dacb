"""Concurrency guards, against real server processes sharing one database.

Each test here was seen to fail once with its guard removed (see the closing note of the
core issue): the order row lock (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) and
the unique index on idempotency keys.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from refundflow.entrypoints.bootstrap import Container
from refundflow.services import orders
from refundflow.services.auth import issue_token
from tests.tools.servers import running_servers

CALLERS = 20
SERVERS = 4


def UpsertOrderFor(order_no: str, *, quantity: int) -> orders.UpsertOrder:
    """An order of ``quantity`` units of SKU-X at 100.00, paid, not shipped."""
    return orders.UpsertOrder(
        order_no=order_no,
        channel="own_site",
        currency="CNY",
        customer=orders.CustomerInput("王芳", None, f"137{abs(hash(order_no)) % 10**8:08d}"),
        lines=[orders.LineInput("SKU-X", "跑步鞋", quantity, "100.00", "shoes")],
        payments=[orders.PaymentInput("wechat_pay", f"{100 * quantity}.00", f"WX-{order_no}")],
        placed_at=datetime(2026, 11, 20, tzinfo=UTC),
    )


@pytest.fixture
def one_unit_order(box: Container) -> str:
    orders.upsert_order(
        box.uows,
        orders.UpsertOrder(
            order_no="LAST-UNIT",
            channel="own_site",
            currency="CNY",
            customer=orders.CustomerInput("王芳", None, "13700001111"),
            lines=[orders.LineInput("SH-RN-101", "跑步鞋", 1, "429.00", "shoes")],
            payments=[orders.PaymentInput("wechat_pay", "429.00", "WX-1")],
            placed_at=datetime(2026, 11, 20, tzinfo=UTC),
            delivered_at=datetime(2026, 11, 22, tzinfo=UTC),
        ),
    )
    return "LAST-UNIT"


def _fire(
    urls: list[str], token: str, body: dict[str, Any], headers: dict[str, str]
) -> list[httpx.Response]:
    """``CALLERS`` requests released at the same instant, spread over the servers."""
    barrier = threading.Barrier(CALLERS)

    def call(i: int) -> httpx.Response:
        with httpx.Client(base_url=urls[i % len(urls)], timeout=60) as client:
            client.get("/healthz")  # connect first, so that the POSTs leave together
            barrier.wait()
            return client.post(
                "/api/v1/refund-requests",
                json=body,
                headers={"Authorization": f"Bearer {token}", **headers},
            )

    with ThreadPoolExecutor(CALLERS) as pool:
        return list(pool.map(call, range(CALLERS)))


def _count_requests(box: Container) -> int:
    with box.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT COUNT(*) FROM refund_requests").scalar_one())


@pytest.mark.slow
def test_twenty_callers_racing_for_the_last_unit_get_one_201(
    box: Container, db_url: str, one_unit_order: str
) -> None:
    token = issue_token(box.uows, "cs", "race")
    body = {
        "order_no": one_unit_order,
        "type": "return_and_refund",
        "reason": "quality_issue",
        "lines": [{"sku": "SH-RN-101", "quantity": 1}],
    }
    with running_servers(db_url, SERVERS) as urls:
        responses = _fire(urls, token, body, {})
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: CALLERS - 1}, [
        r.text for r in responses if r.status_code not in (201, 409)
    ][:3]
    assert all(
        r.json()["error"]["code"] == "balance_exceeded" for r in responses if r.status_code == 409
    )
    assert _count_requests(box) == 1


@pytest.mark.slow
def test_twenty_concurrent_creates_with_one_idempotency_key_make_one_request(
    box: Container, db_url: str, one_unit_order: str
) -> None:
    token = issue_token(box.uows, "integration", "retrying client")
    body = {
        "order_no": one_unit_order,
        "type": "refund_only",
        "reason": "late_delivery",
        "lines": [{"sku": "SH-RN-101", "quantity": 1}],
    }
    with running_servers(db_url, SERVERS) as urls:
        responses = _fire(urls, token, body, {"Idempotency-Key": "order-LAST-UNIT-refund"})
    assert [r.status_code for r in responses] == [201] * CALLERS, [r.text for r in responses][:3]
    assert len({r.json()["id"] for r in responses}) == 1
    assert _count_requests(box) == 1


def test_twenty_threads_racing_in_one_process_get_one_request(
    box: Container, one_unit_order: str
) -> None:
    """The same race without HTTP in between: the window between the balance check and the
    insert is as narrow as it gets, so a missing lock shows at once."""
    from refundflow.domain.actors import Actor, ActorKind
    from refundflow.domain.errors import BalanceExceededError
    from refundflow.domain.permissions import Role
    from refundflow.services.intake import SubmitRefundRequest, submit_refund_request

    actor = Actor(ActorKind.STAFF, Role.CS, "cs-1", "cs")
    cmd = SubmitRefundRequest(
        one_unit_order, "return_and_refund", "quality_issue", [("SH-RN-101", 1)]
    )
    barrier = threading.Barrier(CALLERS)

    def call(_: int) -> str:
        barrier.wait()
        try:
            submit_refund_request(box.uows, cmd, actor)
        except BalanceExceededError:
            return "refused"
        return "created"

    with ThreadPoolExecutor(CALLERS) as pool:
        outcomes = Counter(pool.map(call, range(CALLERS)))
    assert outcomes == {"created": 1, "refused": CALLERS - 1}
    assert _count_requests(box) == 1
