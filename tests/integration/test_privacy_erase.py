"""Forgetting a customer: `refundflow privacy erase --customer ID` and the retention job
leave nothing that identifies them anywhere in the database, keep every amount, status and
reference, are audited, and refuse while money may still move."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.services.clock import ManualClock
from refundflow.services.retention import retain
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body

NAME, PHONE, EMAIL = "欧阳娜娜", "13655557777", "nana@example.cn"
DESCRIPTION = "包装破损，联系我 13655557777"
ACCOUNT = {"account_name": "欧阳娜娜", "bank_name": "招商银行", "account_no": "6217003319870042"}
PERSONAL = [NAME, PHONE, EMAIL, DESCRIPTION, ACCOUNT["account_no"], "SF1234987"]
# What the books need: these stay exactly as they were.
FINANCIAL = ["orders", "order_lines", "payments", "ledger_entries", "ledger_balances"]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url,
        environment="test",
        token_cache_seconds=0,
        sms_provider="webhook",
        sms_url="http://127.0.0.1:9/sms",
        sms_webhook_secret="s" * 32,
        rate_limits=False,
    )


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refundflow.entrypoints.cli", *args],
        env={**os.environ, "REFUNDFLOW_DATABASE_URL": url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _customer(
    api: Api, box: Container, order_no: str, *, close: bool = True, phone: str = PHONE
) -> dict[str, Any]:
    """A customer who signed in, asked for a refund by bank transfer and (unless ``close``
    is False) got it: their id, portal token and request."""
    payments = [{"method": "cash_on_delivery", "amount": "1019.00", "reference": "COD-1"}]
    email = EMAIL if phone == PHONE else f"{phone}@example.cn"
    customer = {"name": NAME, "phone": phone, "email": email}
    body = order_body(order_no, payments=payments, customer=customer)
    assert api.as_("integration").post("/api/v1/orders", json=body).status_code == 201
    lookup = {"order_no": order_no, "contact": phone}
    assert api.client.post("/api/v1/portal/lookup", json=lookup).status_code == 202
    with box.engine.connect() as conn:
        content = conn.exec_driver_sql(
            "SELECT content FROM notifications WHERE notice = 'login_code' ORDER BY id DESC"
        ).first()
    code = re.search(r"\b(\d{6})\b", content[0]).group(1)  # type: ignore[index,union-attr]
    token = api.client.post("/api/v1/portal/verify", json={**lookup, "code": code}).json()["token"]
    me = {"Authorization": f"Bearer {token}"}
    asked = request_body(order_no, type="refund_only", description=DESCRIPTION)
    created = api.client.post("/api/v1/portal/refund-requests", headers=me, json=asked)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    if close:
        assert api.as_("cs").act(rid, "approve").status_code == 200
        assert api.as_("finance").act(rid, "execute", **ACCOUNT).status_code == 200
        paid = api.as_("finance").act(rid, "mark-refunded", reference="BANK-2026-1")
        assert paid.status_code == 200, paid.text
        assert paid.json()["status"] == "refunded"
    order = api.as_("admin").get(f"/api/v1/orders/{order_no}").json()
    return {"id": order["customer"]["id"], "token": token, "request": rid}


def _personal_data_left(box: Container) -> list[str]:
    everything = repr(snapshot(box))
    with box.engine.connect() as conn:
        everything += repr(conn.execute(text("SELECT * FROM audit_events")).all())
    return [p for p in PERSONAL if p in everything]


def test_erasing_a_customer_leaves_nothing_personal_and_keeps_the_books(
    db_url: str, api: Api, box: Container, manual_review: int
) -> None:
    who = _customer(api, box, "ER-1")
    assert _personal_data_left(box) == [NAME, PHONE, EMAIL, DESCRIPTION], "bank no. encrypted"
    before = snapshot(box)
    request_before = api.as_("admin").get(f"/api/v1/refund-requests/{who['request']}").json()

    erased = _cli(db_url, "privacy", "erase", "--customer", str(who["id"]))

    assert erased.returncode == 0, erased.stderr
    assert f"customer {who['id']} erased" in erased.stdout
    assert _personal_data_left(box) == []
    after = snapshot(box)
    assert {t: after[t] for t in FINANCIAL} == {t: before[t] for t in FINANCIAL}
    request_after = api.as_("admin").get(f"/api/v1/refund-requests/{who['request']}").json()
    for field in ("status", "amount_requested", "amount_approved", "amount_refunded"):
        assert request_after[field] == request_before[field], field
    assert request_after["description"] == ""
    [record] = request_after["refunds"]
    refund = api.as_("finance").get(f"/api/v1/refunds/{record['id']}").json()
    assert refund["gateway_reference"] == "BANK-2026-1" and refund["payout_account"] is None
    customer = api.as_("admin").get("/api/v1/orders/ER-1", params={"unmask": "true"}).json()
    assert customer["customer"]["name"] == "[erased]" and customer["customer"]["phone"] is None
    me = {"Authorization": f"Bearer {who['token']}"}
    assert api.client.get("/api/v1/portal/refund-requests", headers=me).status_code == 401
    with box.engine.connect() as conn:
        [detail] = conn.execute(
            text("SELECT detail FROM audit_events WHERE action = 'privacy.erase'")
        ).scalars()
    assert '"customers": 1' in detail
    assert _cli(db_url, "audit", "verify").returncode == 0


def test_a_customer_with_an_open_request_is_not_erased(
    db_url: str, api: Api, box: Container, manual_review: int
) -> None:
    who = _customer(api, box, "ER-2", close=False)
    before = snapshot(box)

    refused = _cli(db_url, "privacy", "erase", "--customer", str(who["id"]))

    assert refused.returncode == 1
    assert "open requests" in refused.stderr and "RF" in refused.stderr
    assert snapshot(box) == before
    unknown = _cli(db_url, "privacy", "erase", "--customer", "999999")
    assert unknown.returncode == 1 and "no customer 999999" in unknown.stderr


def test_retention_erases_only_customers_past_the_period_with_everything_closed(
    api: Api, box: Container, clock: ManualClock, manual_review: int
) -> None:
    old = _customer(api, box, "RT-OLD", phone="13600000001")
    still_open = _customer(api, box, "RT-OPEN", close=False, phone="13600000002")
    clock.advance(timedelta(days=800))
    recent = _customer(api, box, "RT-NEW", phone="13600000003")
    clock.advance(timedelta(days=300))  # RT-OLD and RT-OPEN are 1,100 days old, RT-NEW 300
    assert len({old["id"], still_open["id"], recent["id"]}) == 3

    assert retain(box.uows, timedelta(days=1095)) == [old["id"]]
    assert retain(box.uows, timedelta(days=1095)) == [], "nothing left to do"
    assert retain(box.uows, timedelta(days=200)) == [recent["id"]], "a shorter period"
    names = {
        c: api.as_("admin").get(f"/api/v1/orders/{no}").json()["customer"]["name"]
        for c, no in (("old", "RT-OLD"), ("open", "RT-OPEN"), ("new", "RT-NEW"))
    }
    assert names == {"old": "[erased]", "open": NAME, "new": "[erased]"}


def test_the_commands_explain_themselves(db_url: str) -> None:
    shown = _cli(db_url, "privacy", "erase", "--help")
    assert shown.returncode == 0 and "--customer" in shown.stdout
    assert "refused while a request of theirs is open" in " ".join(shown.stdout.split())
    assert "3 years" in " ".join(_cli(db_url, "privacy", "--help").stdout.split())
