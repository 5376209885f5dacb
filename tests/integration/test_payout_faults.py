"""Faults the local gateways inject, callbacks (duplicate, reordered, forged, mismatched,
unknown), retries with the same key and switching route. Every case ends in the right state
and never refunds twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from refundflow.domain.errors import ConflictError
from refundflow.domain.lifecycle import Action
from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.web.app import create_app
from refundflow.services.clock import ManualClock
from refundflow.services.payouts import records
from tests.conftest import snapshot
from tests.integration.payouts import (
    FINANCE,
    Fakes,
    act,
    approved_request,
    drain,
    paid_order,
    request_doc,
    rows,
)

GATEWAYS = [("alipay", "CNY"), ("wechat_pay", "CNY"), ("stripe", "USD")]
PROCESSED_THEN_LOST = ["timeout", "reset", "malformed", "bad_signature"]
REFUSED_BEFORE = ["5xx", "429"]


def _fake(fakes: Fakes, method: str) -> Any:
    return {"alipay": fakes.alipay, "wechat_pay": fakes.wechat, "stripe": fakes.stripe}[method]


def _executed(
    box: Container, fakes: Fakes, method: str, currency: str, order_no: str = "F-1"
) -> tuple[int, dict[str, Any]]:
    paid_order(box, fakes, order_no, [(method, "100.00")], currency=currency)
    rid = approved_request(box, order_no)
    return rid, act(box, rid, Action.EXECUTE)["refunds"][0]


@pytest.mark.parametrize(("method", "currency"), GATEWAYS)
@pytest.mark.parametrize("fault", PROCESSED_THEN_LOST + REFUSED_BEFORE)
def test_a_lost_or_refused_answer_is_settled_by_asking_with_the_same_key(
    pbox: Container, fakes: Fakes, clock: ManualClock, method: str, currency: str, fault: str
) -> None:
    fake = _fake(fakes, method)
    rid, record = _executed(pbox, fakes, method, currency)
    fake.inject(fault)
    drain(pbox, clock)
    doc = request_doc(pbox, rid)
    assert doc["status"] == "refunded", doc["refunds"]
    assert doc["refunds"][0]["status"] == "succeeded"
    assert fake.injected[fault] == 1
    assert dict(fake.refunds_made) == {record["idempotency_key"]: 1}, "one refund, one key"
    if not (method == "stripe" and fault == "bad_signature"):  # Stripe's answers are unsigned
        assert doc["refunds"][0]["attempts"] >= 2
    attempts = rows(
        pbox,
        f"SELECT kind, outcome FROM refund_attempts WHERE refund_id = "
        f"{record['id']} AND kind <> 'status' ORDER BY id",
    )
    assert attempts[-1][1] == "succeeded"


@pytest.mark.parametrize(("method", "currency"), GATEWAYS)
def test_unknown_outcomes_past_the_limit_go_to_finance_and_are_never_paid_twice(
    pbox: Container, fakes: Fakes, clock: ManualClock, method: str, currency: str
) -> None:
    fake = _fake(fakes, method)
    rid, record = _executed(pbox, fakes, method, currency)
    fake.inject("5xx", op="refund", times=10)
    fake.inject("5xx", op="query", times=10)
    drain(pbox, clock)
    doc = request_doc(pbox, rid)
    assert doc["refunds"][0]["status"] == "needs_reconciliation"
    assert doc["status"] == "refunding"
    queue = records.finance_queue(pbox.uows, FINANCE)
    assert [r["id"] for r in queue["needs_reconciliation"]] == [record["id"]]
    assert not fake.refunds_made
    fake.faults["refund"].clear()
    fake.faults["query"].clear()
    final = act(pbox, rid, Action.MARK_FAILED, reason="对账单无此退款")
    assert final["status"] == "refund_failed"
    retried = act(pbox, rid, Action.RETRY, reason="重试")
    assert retried["refunds"][0]["idempotency_key"] == record["idempotency_key"]
    drain(pbox, clock)
    assert request_doc(pbox, rid)["status"] == "refunded"
    assert dict(fake.refunds_made) == {record["idempotency_key"]: 1}


@pytest.mark.parametrize(("method", "currency"), [("alipay", "CNY"), ("wechat_pay", "CNY")])
def test_a_definite_failure_is_retried_with_the_same_record_and_key(
    pbox: Container, fakes: Fakes, clock: ManualClock, method: str, currency: str
) -> None:
    fake = _fake(fakes, method)
    rid, record = _executed(pbox, fakes, method, currency)
    fake.inject("fail")
    drain(pbox, clock)
    doc = request_doc(pbox, rid)
    assert doc["status"] == "refund_failed"
    assert doc["refunds"][0]["status"] == "failed"
    retried = act(pbox, rid, Action.RETRY)
    assert [r["id"] for r in retried["refunds"]] == [record["id"]]
    drain(pbox, clock)
    doc = request_doc(pbox, rid)
    assert doc["status"] == "refunded"
    assert dict(fake.refunds_made) == {record["idempotency_key"]: 1}


def test_stripe_replays_a_failed_refund_for_its_key_so_finance_switches_route(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    rid, record = _executed(pbox, fakes, "stripe", "USD")
    fakes.stripe.inject("fail")
    drain(pbox, clock)
    assert request_doc(pbox, rid)["status"] == "refund_failed"
    act(pbox, rid, Action.RETRY)
    drain(pbox, clock)
    assert request_doc(pbox, rid)["status"] == "refund_failed", "same key, same failure"
    switched = act(pbox, rid, Action.RETRY, route="store_credit")
    live = [r for r in switched["refunds"] if r["id"] != record["id"]]
    assert len(live) == 1
    assert live[0]["route"] == "store_credit"
    assert live[0]["idempotency_key"] != record["idempotency_key"]
    drain(pbox, clock)
    doc = request_doc(pbox, rid)
    assert doc["status"] == "refunded"
    old = next(r for r in doc["refunds"] if r["id"] == record["id"])
    assert old["status"] == "failed"
    assert old["replaced_by"] == live[0]["id"]
    assert not fakes.stripe.refunds_made, "the failed Stripe refund never paid"


def test_a_pending_refund_cannot_be_replaced_by_another_route(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    rid, _ = _executed(pbox, fakes, "alipay", "CNY")
    before = snapshot(pbox)
    with pytest.raises(ConflictError):
        act(pbox, rid, Action.RETRY, route="store_credit")
    assert snapshot(pbox) == before


# ---------------------------------------------------------------- callbacks
@pytest.fixture
def client(pbox: Container) -> Iterator[TestClient]:
    with TestClient(create_app(pbox.settings, container=pbox)) as c:
        yield c


def _post(client: TestClient, route: str, body: bytes | str, headers: dict[str, str]) -> Any:
    content = body.encode() if isinstance(body, str) else body
    return client.post(f"/api/v1/gateways/{route}/callbacks", content=content, headers=headers)


def test_a_wechat_callback_finishes_a_processing_refund_and_duplicates_change_nothing(
    pbox: Container, fakes: Fakes, clock: ManualClock, client: TestClient
) -> None:
    fakes.wechat.settle_on_query = False
    rid, record = _executed(pbox, fakes, "wechat_pay", "CNY")
    drain(pbox, clock, rounds=1)
    assert request_doc(pbox, rid)["refunds"][0]["status"] == "pending"
    body, headers = fakes.wechat.callback(record["idempotency_key"], event_id="EV-1")
    first = _post(client, "wechat_pay", body, headers)
    assert first.status_code == 204
    assert request_doc(pbox, rid)["status"] == "refunded"
    before = snapshot(pbox)
    for _ in range(3):
        assert _post(client, "wechat_pay", body, headers).status_code == 204
    assert snapshot(pbox) == before
    late, late_headers = fakes.wechat.callback(
        record["idempotency_key"], status="ABNORMAL", event_id="EV-0"
    )
    assert _post(client, "wechat_pay", late, late_headers).status_code == 204
    doc = request_doc(pbox, rid)
    assert doc["status"] == "refunded", "terminal states stay terminal"
    assert doc["refunds"][0]["status"] == "succeeded"
    outcomes = rows(pbox, "SELECT event_id, outcome FROM gateway_events ORDER BY id")
    assert outcomes == [("EV-1", "applied"), ("EV-0", "conflict")]
    drain(pbox, clock)
    assert dict(fakes.wechat.refunds_made) == {record["idempotency_key"]: 1}


@pytest.mark.parametrize("route", ["alipay", "wechat_pay", "stripe"])
def test_a_forged_callback_changes_nothing(
    pbox: Container, fakes: Fakes, clock: ManualClock, client: TestClient, route: str
) -> None:
    currency = "USD" if route == "stripe" else "CNY"
    fake = _fake(fakes, route)
    rid, record = _executed(pbox, fakes, route, currency)
    fake.inject("timeout")  # the gateway refunds; our worker never hears back
    drain(pbox, clock, rounds=1)
    key = record["idempotency_key"]
    assert key in fake.refunds
    before = snapshot(pbox)
    if route == "alipay":
        response = _post(
            client,
            route,
            fake.notification(key, forged=True),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
    elif route == "wechat_pay":
        body, headers = fake.callback(key, forged=True)
        response = _post(client, route, body, headers)
    else:
        body, headers = fake.event(key, forged=True)
        response = _post(client, route, body, headers)
    assert response.status_code in (400, 401)
    assert snapshot(pbox) == before
    assert request_doc(pbox, rid)["refunds"][0]["status"] == "pending"
    return


def test_an_alipay_notification_settles_a_refund_in_doubt(
    pbox: Container, fakes: Fakes, clock: ManualClock, client: TestClient
) -> None:
    rid, record = _executed(pbox, fakes, "alipay", "CNY")
    fakes.alipay.inject("timeout")
    drain(pbox, clock, rounds=1)
    assert request_doc(pbox, rid)["refunds"][0]["status"] == "pending"
    response = _post(
        client,
        "alipay",
        fakes.alipay.notification(record["idempotency_key"]),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.text == "success"
    assert request_doc(pbox, rid)["status"] == "refunded"
    drain(pbox, clock)
    assert dict(fakes.alipay.refunds_made) == {record["idempotency_key"]: 1}


def test_a_callback_with_another_amount_is_kept_for_finance_and_applies_nothing(
    pbox: Container, fakes: Fakes, clock: ManualClock, client: TestClient
) -> None:
    fakes.wechat.settle_on_query = False
    rid, record = _executed(pbox, fakes, "wechat_pay", "CNY")
    drain(pbox, clock, rounds=1)
    body, headers = fakes.wechat.callback(record["idempotency_key"], refund_minor=1)
    assert _post(client, "wechat_pay", body, headers).status_code == 204
    assert request_doc(pbox, rid)["refunds"][0]["status"] == "pending"
    queue = records.finance_queue(pbox.uows, FINANCE)
    assert [e["outcome"] for e in queue["callbacks_to_check"]] == ["amount_mismatch"]


def test_a_callback_for_a_refund_made_outside_refundflow_is_not_recorded_as_ours(
    pbox: Container, fakes: Fakes, client: TestClient
) -> None:
    from tests.fakes.base import Refund

    fakes.stripe.add_trade("pi_dashboard", 5000)
    fakes.stripe.refunds["dashboard-1"] = Refund(
        "dashboard-1", "pi_dashboard", 5000, "succeeded", "re_dashboard"
    )
    body, headers = fakes.stripe.event("dashboard-1")
    assert _post(client, "stripe", body, headers).status_code == 200
    assert rows(pbox, "SELECT COUNT(*) FROM refunds") == [(0,)]
    assert rows(pbox, "SELECT outcome FROM gateway_events") == [("unmatched",)]
