"""Importing orders from CSV and Excel files: the bulk path on SQLite and PostgreSQL, the
exact error report of a mixed file, idempotent re-runs, and the command itself."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from refundflow.adapters.files.tables import open_table
from refundflow.entrypoints.bootstrap import Container
from refundflow.services.clock import ManualClock
from refundflow.services.order_import import (
    COLUMNS,
    ImportReport,
    import_orders,
    pick,
    resolve_columns,
)
from tests.conftest import snapshot
from tests.integration.api import Api
from tests.integration.test_cli import cli, count

HEADER = (
    "order_no,channel,currency,placed_at,customer_name,customer_phone,customer_email,"
    "sku,name,category,quantity,unit_price,discount,shipping_fee,payment_method,"
    "payment_amount,payment_reference"
)
ROWS = [
    # row 2-3: a good order of two lines, order columns blank on its second row
    "IM-1,tmall,CNY,2026-11-20 10:00:00,李娜,13900000001,,AP-1,T恤,apparel,2,79.00,,12.00,"
    "alipay,170.00,ALI-1",
    "IM-1,,,,,,,AP-2,袜子,apparel,1,20.00,5.00,,,,",
    # row 4: good, one line
    "IM-2,jd,CNY,2026-11-21T09:00:00+08:00,王伟,13900000002,ww@example.cn,EL-1,耳机,"
    "electronics,1,199.5,,0,wechat_pay,199.50,WX-1",
    # rows 5-6: a price with three decimals spoils its order
    "IM-3,jd,CNY,2026-11-21T09:00:00+08:00,张三,13900000003,,EL-2,充电器,electronics,1,12.345,,,,,",
    "IM-3,jd,CNY,2026-11-21T09:00:00+08:00,张三,13900000003,,EL-3,数据线,electronics,1,9.90,,,,,",
    # row 7: not a time
    "IM-4,jd,CNY,not-a-date,赵六,13900000004,,EL-4,耳机,electronics,1,5.00,,,,,",
    # row 8: no units
    "IM-5,jd,CNY,2026-11-21T09:00:00+08:00,钱七,,qq@example.cn,EL-5,耳机,electronics,0,5.00,,,,,",
    # row 9: an unknown payment method
    "IM-6,jd,CNY,2026-11-21T09:00:00+08:00,孙八,13900000006,,EL-6,耳机,electronics,1,5.00,,,"
    "paypal,5.00,",
    # rows 10-11: the second row contradicts the first
    "IM-7,tmall,CNY,2026-11-22T09:00:00+08:00,周九,13900000007,,AP-3,衬衫,apparel,1,10.00,,,,,",
    "IM-7,taobao,,,,,,AP-4,领带,apparel,1,10.00,,,,,",
    # row 12: a line of IM-2 away from the order's other rows
    "IM-2,,,,,,,EL-9,耳塞,electronics,1,9.00,,,,,",
    # rows 13-14: the same sku twice
    "IM-9,jd,CNY,2026-11-23T09:00:00+08:00,吴十,13900000009,,EL-7,耳机,electronics,1,5.00,,,,,",
    "IM-9,,,,,,,EL-7,耳机,electronics,2,5.00,,,,,",
]
EXPECTED_REPORT = [
    ("5", "IM-3", "unit_price: 12.345 has more decimals than CNY allows (2)"),
    ("6", "IM-3", "not imported: row 5 of this order is invalid"),
    ("7", "IM-4", "placed_at: 'not-a-date' is not a date-time such as 2026-11-20T10:00:00+08:00"),
    ("8", "IM-5", "quantity must be a whole number of at least 1, not '0'"),
    (
        "9",
        "IM-6",
        "payment_method: 'paypal' is not one of alipay, wechat_pay, stripe, card, "
        "bank_transfer, e_wallet, store_credit, cash_on_delivery",
    ),
    ("10", "IM-7", "not imported: row 11 of this order is invalid"),
    ("11", "IM-7", "channel 'taobao' differs from row 10 of the same order"),
    ("12", "IM-2", "the rows of order IM-2 must be together; it started at row 4"),
    ("13", "IM-9", "not imported: row 14 of this order is invalid"),
    ("14", "IM-9", "sku EL-7 appears twice: merge them into one line with the total"),
]


def write_csv(path: Path, rows: list[str] = ROWS, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def run(
    box: Container, path: Path, mapping: dict[str, str] | None = None, **kw: Any
) -> ImportReport:
    table = open_table(path)
    row_of = pick(resolve_columns(table.header, mapping or {}))
    return import_orders(
        box.uows, ((n, row_of(cells)) for n, cells in table.rows), tz=box.settings.tz, **kw
    )


def test_a_mixed_file_imports_its_good_orders_and_reports_each_bad_row(
    box: Container, api: Api, tmp_path: Path
) -> None:
    report = run(box, write_csv(tmp_path / "orders.csv"))
    assert [(str(b.row), b.order_no, b.reason) for b in report.bad_rows] == EXPECTED_REPORT
    assert (report.rows, report.orders, report.lines, report.created) == (13, 2, 3, 2)
    first = api.get("/api/v1/orders/IM-1").json()
    assert first["placed_at"] == "2026-11-20T02:00:00+00:00", "no offset: the shop's time zone"
    assert [(li["sku"], li["net"]) for li in first["lines"]] == [
        ("AP-1", "158.00"),
        ("AP-2", "15.00"),
    ]
    assert (first["shipping_fee"], first["paid"]) == ("12.00", "170.00")
    assert api.get("/api/v1/orders/IM-2").json()["lines"][0]["unit_price"] == "199.50"
    for refused in ("IM-3", "IM-4", "IM-5", "IM-6", "IM-7", "IM-9"):
        assert api.get(f"/api/v1/orders/{refused}").status_code == 404


def test_importing_the_same_file_again_changes_nothing(
    box: Container, tmp_path: Path, clock: ManualClock
) -> None:
    path = write_csv(tmp_path / "orders.csv")
    run(box, path)
    before = snapshot(box)
    clock.advance(timedelta(hours=1))
    again = run(box, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert snapshot(box) == before
    changed = write_csv(tmp_path / "changed.csv", [ROWS[0].replace("79.00", "75.00"), ROWS[1]])
    assert run(box, changed).updated == 1


def test_a_dry_run_checks_everything_and_writes_nothing(box: Container, tmp_path: Path) -> None:
    before = snapshot(box)
    report = run(box, write_csv(tmp_path / "orders.csv"), dry_run=True)
    assert (report.created, len(report.bad_rows)) == (2, len(EXPECTED_REPORT))
    assert snapshot(box) == before


def test_customers_are_matched_by_phone_then_email_across_orders_and_runs(
    box: Container, api: Api, tmp_path: Path
) -> None:
    rows = [
        "C-1,tmall,CNY,2026-11-20T10:00:00+08:00,李娜,13911112222,,S-1,a,general,1,1.00,,,,,",
        "C-2,tmall,CNY,2026-11-20T10:00:00+08:00,李娜,13911112222,ln@example.cn,S-1,a,general,1,1.00,,,,,",
        "C-3,tmall,CNY,2026-11-20T10:00:00+08:00,李娜娜,,ln@example.cn,S-1,a,general,1,1.00,,,,,",
    ]
    run(box, write_csv(tmp_path / "a.csv", rows), chunk_orders=2)
    ids = {api.get(f"/api/v1/orders/C-{i}").json()["customer"]["id"] for i in (1, 2, 3)}
    assert len(ids) == 1
    later = ["C-4,jd,CNY,2026-11-21T10:00:00+08:00,李娜,,ln@example.cn,S-2,b,general,1,2.00,,,,,"]
    run(box, write_csv(tmp_path / "b.csv", later))
    customer = api.get("/api/v1/orders/C-4", params={"unmask": "true"}).json()["customer"]
    assert customer["id"] in ids
    assert (customer["name"], customer["phone"]) == ("李娜", "13911112222")


def test_an_excel_sheet_with_its_own_headers_imports_through_a_column_mapping(
    box: Container, api: Api, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        [
            "订单号",
            "渠道",
            "币种",
            "下单时间",
            "客户",
            "手机",
            "商品编码",
            "商品名称",
            "数量",
            "单价",
        ]
    )
    sheet.append(
        [
            "X-1",
            "own_site",
            "CNY",
            datetime(2026, 11, 20, 10, 0),
            "陈一",
            "13700000001",
            "SK-1",
            "杯子",
            3,
            19.9,
        ]
    )
    sheet.append(["X-1", None, None, None, None, None, "SK-2", "碟子", 1.0, 5])
    path = tmp_path / "orders.xlsx"
    workbook.save(path)
    ours = "order_no channel currency placed_at customer_name customer_phone sku name quantity"
    theirs = "订单号 渠道 币种 下单时间 客户 手机 商品编码 商品名称 数量"
    mapping = dict(zip([*ours.split(), "unit_price"], [*theirs.split(), "单价"], strict=True))
    report = run(box, path, mapping)
    assert (report.created, report.bad_rows) == (1, [])
    order = api.get("/api/v1/orders/X-1").json()
    assert [(li["sku"], li["quantity"], li["unit_price"]) for li in order["lines"]] == [
        ("SK-1", 3, "19.90"),
        ("SK-2", 1, "5.00"),
    ]
    assert order["placed_at"] == "2026-11-20T02:00:00+00:00"


def test_a_header_without_the_required_columns_is_refused_before_anything_is_read() -> None:
    with pytest.raises(Exception, match=r"lacks required columns: sku \(header 'sku'\)"):
        resolve_columns([c for c in COLUMNS if c != "sku"], {})
    with pytest.raises(Exception, match="unknown columns: colour"):
        resolve_columns(list(COLUMNS), {"colour": "颜色"})


@pytest.mark.slow
def test_the_import_command_writes_the_exact_error_report_and_exits_1(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    cli("migrate", url=url)
    path = write_csv(tmp_path / "orders.csv")
    dry = cli("import", "orders", str(path), "--dry-run", url=url, check=False)
    assert dry.returncode == 1 and "would import 2 orders (3 lines)" in dry.stdout
    assert count(url, "orders") == 0
    result = cli("import", "orders", str(path), url=url, check=False)
    assert result.returncode == 1, result.stderr
    assert "imported 2 orders (3 lines) from 13 rows: 2 new" in result.stdout
    report = (tmp_path / "orders.csv.errors.csv").read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(report))) == [["row", "order_no", "reason"]] + [
        list(r) for r in EXPECTED_REPORT
    ]
    assert count(url, "orders") == 2
    good = write_csv(tmp_path / "good.csv", ROWS[:3])
    again = cli("import", "orders", str(good), url=url)
    assert "0 new, 0 updated, 2 unchanged" in again.stdout
    bad_header = write_csv(tmp_path / "bad.csv", ROWS[:2], header=HEADER.replace("sku", "item"))
    refused = cli("import", "orders", str(bad_header), url=url, check=False)
    assert refused.returncode == 2 and "lacks required columns: sku" in refused.stderr
    mapped = cli("import", "orders", str(bad_header), "--map", "sku=item", url=url)
    assert "1 unchanged" in mapped.stdout
