"""Every route through the worker against the local gateways, on SQLite and PostgreSQL:
records, keys, the request following its records, the representation, and finance's
manual actions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from refundflow.domain.lifecycle import Action
from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.web.app import create_app
from refundflow.services import ledger
from refundflow.services.auth import issue_token
from refundflow.services.clock import ManualClock
from refundflow.services.payouts import bank, records
from tests.conftest import REVIEW_EVERYTHING, publish, snapshot
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


def _record(doc: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return dict(doc["refunds"][index])


@pytest.mark.parametrize(
    ("method", "currency"), [("alipay", "CNY"), ("wechat_pay", "CNY"), ("stripe", "USD")]
)
def test_an_original_route_refund_goes_back_through_the_worker_once(
    pbox: Container, fakes: Fakes, clock: ManualClock, method: str, currency: str
) -> None:
    paid_order(pbox, fakes, "O-1", [(method, "100.00")], currency=currency)
    rid = approved_request(pbox, "O-1")
    executed = act(pbox, rid, Action.EXECUTE)
    assert executed["status"] == "refunding"
    record = _record(executed)
    assert record["status"] == "pending"
    assert record["route"] == method
    assert record["amount"] == "100.00"
    assert record["idempotency_key"] == f"rf{record['id']:012d}"
    assert set(record) >= {
        "id",
        "route",
        "amount",
        "currency",
        "status",
        "idempotency_key",
        "gateway_reference",
        "attempts",
    }
    drain(pbox, clock)
    doc = request_doc(pbox, rid)
    assert doc["status"] == "refunded"
    assert doc["amount_refunded"] == "100.00"
    assert _record(doc)["status"] == "succeeded"
    assert _record(doc)["gateway_reference"]
    fake = {"alipay": fakes.alipay, "wechat_pay": fakes.wechat, "stripe": fakes.stripe}[method]
    assert dict(fake.refunds_made) == {record["idempotency_key"]: 1}
    timeline = doc["timeline"]
    assert timeline[-1]["action"] == "mark-refunded"
    assert timeline[-1]["actor"]["kind"] == "system"


def test_split_tender_refunds_each_payment_up_to_what_it_has_left(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    """Store credit first (the default order), then Alipay; a second request takes what the
    first left; no payment gives more than it captured."""
    paid_order(
        pbox,
        fakes,
        "O-2",
        [("alipay", "150.00"), ("store_credit", "50.00")],
        price="100.00",
        quantity=2,
    )
    first = approved_request(pbox, "O-2")
    parts = {r["route"]: r["amount"] for r in act(pbox, first, Action.EXECUTE)["refunds"]}
    assert parts == {"store_credit": "50.00", "alipay": "50.00"}
    second = approved_request(pbox, "O-2")
    parts = {r["route"]: r["amount"] for r in act(pbox, second, Action.EXECUTE)["refunds"]}
    assert parts == {"alipay": "100.00"}
    drain(pbox, clock)
    assert request_doc(pbox, first)["status"] == request_doc(pbox, second)["status"] == "refunded"
    assert fakes.alipay.refunded_minor("AL-O-2-0") == 15000
    customer = rows(pbox, "SELECT customer_id FROM orders WHERE order_no = 'O-2'")[0][0]
    credit = ledger.balance_view(pbox.uows, customer, FINANCE)
    assert credit["balance"] == "50.00"
    assert [e["kind"] for e in credit["entries"]] == ["refund"]


def test_proportional_allocation_splits_by_captured_value(
    db_url: str, fakes: Fakes, clock: ManualClock
) -> None:
    box = payout_box(db_url, fakes, clock, payout_allocation="proportion")
    try:
        publish(box, REVIEW_EVERYTHING)
        paid_order(box, fakes, "O-P", [("alipay", "66.67"), ("wechat_pay", "33.33")])
        rid = approved_request(box, "O-P")
        parts = {r["route"]: r["amount"] for r in act(box, rid, Action.EXECUTE)["refunds"]}
        assert parts == {"alipay": "66.67", "wechat_pay": "33.33"}
    finally:
        box.close()


def test_store_credit_route_credits_the_customer_and_shows_in_the_api(
    pbox: Container, fakes: Fakes, clock: ManualClock, settings: Any
) -> None:
    paid_order(pbox, fakes, "O-3", [("wechat_pay", "100.00")])
    rid = approved_request(pbox, "O-3", route="store_credit")
    assert _record(act(pbox, rid, Action.EXECUTE))["route"] == "store_credit"
    drain(pbox, clock)
    assert request_doc(pbox, rid)["status"] == "refunded"
    assert not fakes.wechat.refunds_made, "the money went to store credit, not back to WeChat"
    token = issue_token(pbox.uows, "finance", "t")
    with TestClient(create_app(pbox.settings, container=pbox)) as client:
        order = client.get("/api/v1/orders/O-3", headers={"Authorization": f"Bearer {token}"})
        customer = order.json()["customer"]["id"]
        view = client.get(
            f"/api/v1/customers/{customer}/store-credit",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert view["balance"] == "100.00"
        assert view["currency"] == "CNY"
        assert view["entries"][0]["refund_id"] == _record(request_doc(pbox, rid))["id"]
        missing = client.get(
            "/api/v1/customers/999999/store-credit", headers={"Authorization": f"Bearer {token}"}
        )
        assert missing.status_code == 404


def test_compensation_credits_and_spending_never_take_a_balance_below_zero(
    pbox: Container, fakes: Fakes
) -> None:
    from refundflow.domain.ledger import InsufficientBalanceError

    paid_order(pbox, fakes, "O-4", [("alipay", "100.00")])
    customer = rows(pbox, "SELECT customer_id FROM orders WHERE order_no = 'O-4'")[0][0]
    ledger.credit(pbox.uows, customer, "20.00", "CNY", note="快递延误补偿")
    ledger.spend(pbox.uows, customer, "15.00", "CNY", reference="ORDER-9")
    before = snapshot(pbox)
    with pytest.raises(InsufficientBalanceError):
        ledger.spend(pbox.uows, customer, "5.01", "CNY")
    assert snapshot(pbox) == before
    assert ledger.balance_view(pbox.uows, customer, FINANCE)["balance"] == "5.00"


def test_bank_transfers_are_exported_once_then_paid_from_the_bank_result_file(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    paid_order(pbox, fakes, "O-5", [("alipay", "100.00")], quantity=2, price="50.00")
    first = approved_request(pbox, "O-5", route="bank_transfer")
    second = approved_request(pbox, "O-5", route="bank_transfer")
    account = {"account_name": "王芳", "bank_name": "招商银行", "account_no": "6225880112345678"}
    act(pbox, first, Action.EXECUTE, **account)
    act(pbox, second, Action.EXECUTE, **account)
    drain(pbox, clock)
    assert request_doc(pbox, first)["status"] == "refunding", "waits for the bank"
    batch = bank.export_batch(pbox.uows, FINANCE)
    assert batch["count"] == 2
    assert batch["total"] == "100.00"
    assert "6225880112345678" in batch["csv"]
    again = bank.export_batch(pbox.uows, FINANCE)
    assert again["count"] == 0, "a transfer goes into one batch only"
    keys = [line.split(",")[0] for line in batch["csv"].splitlines()[1:]]
    result_file = "reference,status,bank_reference,amount,reason\n"
    result_file += f"{keys[0]},paid,BANK-0001,50.00,\n{keys[1]},failed,,50.00,账户已销户\n"
    outcome = bank.import_result(pbox.uows, result_file, FINANCE)
    assert len(outcome["applied"]) == 2
    assert outcome["problems"] == []
    statuses = {request_doc(pbox, rid)["status"] for rid in (first, second)}
    assert statuses == {"refunded", "refund_failed"}
    before = snapshot(pbox)
    assert bank.import_result(pbox.uows, result_file, FINANCE)["applied"] == []
    assert snapshot(pbox) == before, "importing the same file twice changes nothing"


def test_finance_marks_one_bank_transfer_paid_with_its_reference(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    paid_order(pbox, fakes, "O-6", [("cash_on_delivery", "100.00")])
    rid = approved_request(pbox, "O-6")
    record = _record(act(pbox, rid, Action.EXECUTE))
    assert record["route"] == "bank_transfer", "cash on delivery goes back by bank transfer"
    drain(pbox, clock)
    view = records.mark_paid(pbox.uows, record["id"], "BANK-77", FINANCE)
    assert view["status"] == "succeeded"
    assert view["gateway_reference"] == "BANK-77"
    assert request_doc(pbox, rid)["status"] == "refunded"


def test_mark_refunded_is_refused_while_a_gateway_answer_is_outstanding(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    from refundflow.domain.errors import ConflictError

    paid_order(pbox, fakes, "O-7", [("alipay", "100.00")])
    rid = approved_request(pbox, "O-7")
    act(pbox, rid, Action.EXECUTE)
    fakes.alipay.inject("5xx")
    drain(pbox, clock, rounds=1)
    before = snapshot(pbox)
    with pytest.raises(ConflictError, match="answer is not in"):
        act(pbox, rid, Action.MARK_REFUNDED, reference="ALI-MANUAL")
    assert snapshot(pbox) == before
    drain(pbox, clock)
    assert request_doc(pbox, rid)["status"] == "refunded"
    assert sum(fakes.alipay.refunds_made.values()) == 1


def test_auto_execute_requests_are_executed_by_the_system_without_finance(
    db_url: str, fakes: Fakes, clock: ManualClock
) -> None:
    box = payout_box(db_url, fakes, clock)
    try:
        publish(
            box,
            {
                "rules": [
                    {
                        "id": "auto",
                        "name": "小额自动退款",
                        "conditions": [],
                        "outcome": "approve",
                        "options": {"requires_return": False, "auto_execute": True},
                    }
                ]
            },
        )
        paid_order(box, fakes, "O-8", [("alipay", "100.00")])
        rid = approved_request(box, "O-8")
        assert request_doc(box, rid)["status"] == "refund_pending"
        drain(box, clock)
        doc = request_doc(box, rid)
        assert doc["status"] == "refunded"
        executed = next(e for e in doc["timeline"] if e["action"] == "execute")
        assert executed["actor"] == {
            "kind": "system",
            "role": "system",
            "id": None,
            "name": "auto-execute",
        }
        assert sum(fakes.alipay.refunds_made.values()) == 1
    finally:
        box.close()


def test_an_order_keeps_the_payments_its_refunds_came_from(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    from refundflow.domain.errors import ConflictError
    from refundflow.services import orders

    paid_order(pbox, fakes, "O-9", [("alipay", "100.00")])
    act(pbox, approved_request(pbox, "O-9"), Action.EXECUTE)
    with pytest.raises(ConflictError, match="refunds already take"):
        orders.upsert_order(
            pbox.uows,
            orders.UpsertOrder(
                order_no="O-9",
                channel="own_site",
                currency="CNY",
                customer=orders.CustomerInput("王芳", None, "13700000009"),
                lines=[orders.LineInput("SKU-1", "跑步鞋", 1, "100.00", "shoes")],
                payments=[orders.PaymentInput("wechat_pay", "100.00", "WX-NEW")],
                placed_at=clock.now(),
            ),
        )
