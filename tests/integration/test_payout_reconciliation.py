"""Reconciliation: gateway statements (Alipay and WeChat Pay bill CSVs, a Stripe balance
export) matched with our records — through the CLI and the API. Mismatches are listed and
nothing is ever refunded to repair them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from refundflow.domain.lifecycle import Action
from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.web.app import create_app
from refundflow.services.auth import issue_token
from refundflow.services.clock import ManualClock
from tests.conftest import REVIEW_EVERYTHING, publish, snapshot
from tests.integration.payouts import (
    Fakes,
    act,
    approved_request,
    drain,
    paid_order,
    payout_box,
    request_doc,
)


@pytest.fixture
def pbox(db_url: str, fakes: Fakes, clock: ManualClock) -> Iterator[Container]:
    box = payout_box(db_url, fakes, clock, payout_max_unknown_attempts=1)
    publish(box, REVIEW_EVERYTHING)
    yield box
    box.close()


def _refunded(
    box: Container, fakes: Fakes, clock: ManualClock, method: str, n: int, currency: str = "CNY"
) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        order_no = f"R-{method}-{i}"
        paid_order(box, fakes, order_no, [(method, "100.00")], currency=currency)
        rid = approved_request(box, order_no)
        out.append((rid, act(box, rid, Action.EXECUTE)["refunds"][0]))
    drain(box, clock)
    return [request_doc(box, rid)["refunds"][0] for rid, _ in out]


def _china(clock: ManualClock, minutes: int = 0) -> str:
    return (clock.now() + timedelta(hours=8, minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")


ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,"
    "对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def _alipay_row(trade: str, key: str, amount: str, at: str) -> str:
    return (
        f"{trade}\t,OUT-{trade}\t,退款,跑步鞋,{at},{at},,,,,159****5620,-{amount},-{amount},"
        f"0.00,0.00,0.00,0.00,0.00,,0.00,0.00,{key}\t,0.00,0.00,"
    )


def test_an_alipay_bill_is_reconciled_from_the_command_line(
    pbox: Container, fakes: Fakes, clock: ManualClock, tmp_path: Path
) -> None:
    matched, mismatched, absent = _refunded(pbox, fakes, clock, "alipay", 3)
    # A fourth refund whose answer never came: settled by the statement, not by paying again.
    paid_order(pbox, fakes, "R-doubt", [("alipay", "100.00")])
    doubt_rid = approved_request(pbox, "R-doubt")
    doubt = act(pbox, doubt_rid, Action.EXECUTE)["refunds"][0]
    fakes.alipay.inject("timeout")
    fakes.alipay.inject("5xx", op="query", times=5)
    drain(pbox, clock, rounds=3)
    assert request_doc(pbox, doubt_rid)["refunds"][0]["status"] == "needs_reconciliation"
    fakes.alipay.faults["query"].clear()
    made_before = sum(fakes.alipay.refunds_made.values())
    lines = [
        "#支付宝业务明细查询",
        "#账号：[20880000000000000156]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        ALIPAY_HEADER,
        _alipay_row("AL-R-alipay-0-0", matched["idempotency_key"], "100.00", _china(clock)),
        _alipay_row("AL-R-alipay-1-0", mismatched["idempotency_key"], "99.00", _china(clock)),
        _alipay_row("AL-R-doubt-0", doubt["idempotency_key"], "100.00", _china(clock, 1)),
        _alipay_row("2026112622001999", "DASHBOARD-1", "30.00", _china(clock, -1)),
        "#-----------------------------------------业务明细列表结束------------------------------------",
        "#交易合计：0笔，商家实收共0.00元，商家优惠共0.00元",
        "#退款合计：4笔，商家实收共-329.00元，商家优惠共0.00元",
        "#导出时间：[2026年11月27日 09:00:00]",
    ]
    bill = tmp_path / "20880000000000000156_20261126_业务明细.csv"
    bill.write_bytes("\n".join(lines).encode("gb18030"))
    env = {
        **os.environ,
        "REFUNDFLOW_DATABASE_URL": pbox.settings.database_url,
        "REFUNDFLOW_ENVIRONMENT": "test",
    }
    result = subprocess.run(
        [sys.executable, "-m", "refundflow.entrypoints.cli", "reconcile", "alipay", str(bill)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "matched 2" in result.stdout
    assert "amount mismatch 1" in result.stdout
    assert "missing ours 1" in result.stdout
    assert "missing theirs 1" in result.stdout
    assert f"refund {absent['id']}" in result.stdout
    assert request_doc(pbox, doubt_rid)["status"] == "refunded"
    assert sum(fakes.alipay.refunds_made.values()) == made_before, "nothing was refunded"
    bad = subprocess.run(
        [sys.executable, "-m", "refundflow.entrypoints.cli", "reconcile", "paypal", str(bill)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert "route" in bad.stderr


WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)


def test_a_wechat_bill_and_a_stripe_export_are_reconciled_through_the_api(
    pbox: Container, fakes: Fakes, clock: ManualClock
) -> None:
    wx = _refunded(pbox, fakes, clock, "wechat_pay", 2)
    st = _refunded(pbox, fakes, clock, "stripe", 2, currency="USD")
    at = _china(clock)

    def wx_row(record: dict[str, Any], amount: str) -> str:
        cells = [
            at,
            "wxd678efh567hg6787",
            "1900000109",
            "0",
            "",
            "4200001",
            "OUT-1",
            "oUp",
            "NATIVE",
            "REFUND",
            "OTHERS",
            "CNY",
            "0.00",
            "0.00",
            record["gateway_reference"],
            record["idempotency_key"],
            amount,
            "0.00",
            "ORIGINAL",
            "SUCCESS",
            "跑步鞋",
            "",
            "0.00",
            "0.60%",
            "100.00",
            amount,
            "",
        ]
        return ",".join("`" + c for c in cells)

    wechat_bill = "\n".join(
        [
            WECHAT_HEADER,
            wx_row(wx[0], "100.00"),
            wx_row(wx[1], "100.01"),
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
            "`2,`0.00,`200.01,`0.00,`0.00,`0.00,`200.01",
        ]
    ).encode()
    created = clock.now().strftime("%Y-%m-%d %H:%M:%S")
    stripe_export = "\n".join(
        [
            "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,"
            "description,refund_metadata[refundflow_key]",
            f"txn_1,{created},usd,-100.00,0.00,-100.00,refund,{st[0]['gateway_reference']},,",
            f"txn_2,{created},usd,-100.00,0.00,-100.00,refund,{st[1]['gateway_reference']},,"
            f"{st[1]['idempotency_key']}",
            f"txn_3,{created},usd,-12.00,0.00,-12.00,refund,re_dashboard,,",
            f"txn_4,{created},usd,250.00,-7.55,242.45,charge,ch_1,,",
        ]
    ).encode()
    token = issue_token(pbox.uows, "finance", "recon")
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(pbox.settings, container=pbox)) as client:
        first = client.post("/api/v1/reconciliations/wechat_pay", content=wechat_bill, headers=auth)
        assert first.status_code == 200, first.text
        assert first.json()["summary"]["matched"] == 1
        assert [m["kind"] for m in first.json()["mismatches"]] == ["amount_mismatch"]
        second = client.post("/api/v1/reconciliations/stripe", content=stripe_export, headers=auth)
        assert second.status_code == 200, second.text
        assert second.json()["summary"]["matched"] == 2
        assert [m["kind"] for m in second.json()["mismatches"]] == ["missing_ours"]
        cs = issue_token(pbox.uows, "cs", "cs")
        before = snapshot(pbox)
        wrong = client.post("/api/v1/reconciliations/stripe", content=wechat_bill, headers=auth)
        assert wrong.status_code == 422
        assert "balance-transactions" in wrong.json()["error"]["message"]
        refused = client.post(
            "/api/v1/reconciliations/stripe",
            content=stripe_export,
            headers={"Authorization": f"Bearer {cs}"},
        )
        assert refused.status_code == 403
        assert snapshot(pbox) == before
