"""Finance's payout desk in a real browser: a refund in doubt settled with its reference, a
bank transfer exported in a batch and paid from the bank's result file, and an Alipay bill
reconciled — each ending in the state the API reports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from refundflow.domain.lifecycle import Action
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.entrypoints.settings import Settings
from refundflow.services.clock import ManualClock
from tests.browser.conftest import LiveServer, shot, sign_in
from tests.conftest import REVIEW_EVERYTHING, publish
from tests.integration.payouts import (
    Fakes,
    act,
    approved_request,
    drain,
    paid_order,
    request_doc,
    running_fakes,
)

pytestmark = pytest.mark.slow

ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,"
    "对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注"
)


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with running_fakes() as running:
        yield running


@pytest.fixture
def box(sqlite_url: str, fakes: Fakes, clock: ManualClock) -> Iterator[Container]:
    settings = Settings(
        database_url=sqlite_url,
        environment="test",
        token_cache_seconds=0,
        payout_max_unknown_attempts=1,
        **fakes.settings_fields(),
    )
    container = bootstrap(settings, clock=clock.now)
    publish(container, REVIEW_EVERYTHING)
    yield container
    container.close()


def _alipay_bill(rows: list[tuple[str, str, str]], at: str) -> bytes:
    lines = ["#支付宝业务明细查询", ALIPAY_HEADER]
    for trade, key, amount in rows:
        lines.append(
            f"{trade}\t,OUT-{trade}\t,退款,跑步鞋,{at},{at},,,,,159****5620,-{amount},-{amount},"
            f"0.00,0.00,0.00,0.00,0.00,,0.00,0.00,{key}\t,0.00,0.00,"
        )
    lines.append("#导出时间：[2026年11月27日 09:00:00]")
    return "\n".join(lines).encode("gb18030")


def test_finance_settles_doubts_pays_bank_transfers_and_reconciles_in_the_browser(
    box: Container,
    fakes: Fakes,
    clock: ManualClock,
    live: LiveServer,
    staff: dict[str, str],
    new_page: object,
    tmp_path: Path,
) -> None:
    # A refund whose answer never came (in doubt), one waiting for the bank, one to reconcile.
    paid_order(box, fakes, "F-1", [("alipay", "100.00")])
    doubt = approved_request(box, "F-1")
    doubt_record = act(box, doubt, Action.EXECUTE)["refunds"][0]
    fakes.alipay.inject("timeout")
    fakes.alipay.inject("5xx", op="query", times=5)
    paid_order(box, fakes, "F-2", [("cash_on_delivery", "80.00")], price="80.00")
    transfer = approved_request(box, "F-2")
    account = {"account_name": "王芳", "bank_name": "招商银行", "account_no": "6225880112345678"}
    act(box, transfer, Action.EXECUTE, **account)
    drain(box, clock, rounds=3)
    fakes.alipay.faults["query"].clear()
    assert request_doc(box, doubt)["refunds"][0]["status"] == "needs_reconciliation"
    assert request_doc(box, transfer)["status"] == "refunding"
    paid_order(box, fakes, "F-3", [("alipay", "60.00")], price="60.00")
    matched = approved_request(box, "F-3")
    act(box, matched, Action.EXECUTE)
    drain(box, clock)
    matched_key = request_doc(box, matched)["refunds"][0]["idempotency_key"]
    made_before = sum(fakes.alipay.refunds_made.values())

    page = new_page()  # type: ignore[operator]
    sign_in(page, live, staff["finance"])
    page.goto(f"{live.url}/console/finance")
    doubt_row = page.locator(f"#record-{doubt_record['id']}")
    expect(doubt_row).to_contain_text(doubt_record["idempotency_key"])
    expect(page.locator("#rec-bank_transfers_to_pay")).to_contain_text("(1)")
    shot(page, "console-finance-payouts")

    # 1. The refund in doubt: finance saw it paid in the Alipay dashboard.
    doubt_row.locator("input[name=reference]").fill("2026112622001888")
    doubt_row.get_by_role("button", name="确认已付款").click()
    expect(page.locator(f"#record-{doubt_record['id']}")).to_have_count(0)
    assert request_doc(box, doubt)["status"] == "refunded"

    # 2. The bank transfer: exported once, then paid from the bank's result file.
    page.click("#export-batch")
    expect(page.locator("#batch-made")).to_contain_text("80.00 CNY")
    with page.expect_download() as download:
        page.locator("#batch-made a").click()
    batch = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "6225880112345678" in batch and "80.00" in batch
    key = batch.splitlines()[1].split(",")[0]
    page.click("#export-batch")
    expect(page.locator("#batch-made")).to_contain_text("没有可导出的银行转账")
    result = tmp_path / "bank-result.csv"
    result.write_text(
        f"reference,status,bank_reference,amount,reason\n{key},paid,CMB-0001,80.00,\n",
        encoding="utf-8",
    )
    page.locator("form[action$='/bank-results'] input[type=file]").set_input_files(str(result))
    page.locator("form[action$='/bank-results'] button").click()
    expect(page.locator("#bank-result")).to_contain_text("已处理: 1")
    assert request_doc(box, transfer)["status"] == "refunded"

    # 3. The Alipay bill: one row matches, one differs, one was refunded outside refundflow.
    at = (clock.now() + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    bill = tmp_path / "20880000000000000156_20261126_业务明细.csv"
    bill.write_bytes(
        _alipay_bill(
            [
                ("AL-F-3-0", matched_key, "60.00"),
                ("AL-F-1-0", doubt_record["idempotency_key"], "99.00"),
                ("2026112622001999", "DASHBOARD-1", "30.00"),
            ],
            at,
        )
    )
    page.select_option("select[name=route]", "alipay")
    page.locator("form[action$='/reconcile'] input[type=file]").set_input_files(str(bill))
    page.locator("form[action$='/reconcile'] button").click()
    summary = page.locator("#reconciled")
    expect(summary.locator(".kind-matched")).to_have_text("1")
    expect(summary.locator(".kind-amount_mismatch")).to_have_text("1")
    expect(summary.locator(".kind-missing_ours")).to_have_text("1")
    expect(page.locator("#reconcile table").last).to_contain_text(bill.name)
    shot(page, "console-finance-reconciled")
    assert sum(fakes.alipay.refunds_made.values()) == made_before, "nothing refunded again"

    # Bad input is refused with a message and changes nothing.
    page.goto(f"{live.url}/console/finance")
    row = page.locator("#rec-needs_reconciliation")
    expect(row).to_contain_text("(0)")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    page.locator("form[action$='/bank-results'] input[type=file]").set_input_files(str(empty))
    page.locator("form[action$='/bank-results'] button").click()
    expect(page.locator("body")).to_contain_text(re.compile("empty|空"))


def test_other_roles_cannot_use_the_payout_desk(
    box: Container, live: LiveServer, staff: dict[str, str], new_page: object
) -> None:
    page = new_page()  # type: ignore[operator]
    sign_in(page, live, staff["manager"])
    page.goto(f"{live.url}/console/finance")
    expect(page.locator("h1")).to_have_text("财务")
    assert page.locator("#payouts").count() == 0, "managers see the queue, not the money desk"
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(
        f"{live.url}/console/finance/batches", form={"csrf_token": csrf or ""}
    )
    assert answer.status == 403
    agent = new_page()  # type: ignore[operator]
    sign_in(agent, live, staff["cs"])
    assert agent.goto(f"{live.url}/console/finance").status == 403
