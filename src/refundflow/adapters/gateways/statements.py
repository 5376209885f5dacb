"""Gateway statements read into ``StatementRow`` lists for reconciliation.

- Alipay business-detail bill (业务明细, CSV, GBK or UTF-8): ``#`` comment lines around a
  header row; refund rows have 业务类型 ``退款``, our key in 退款批次号/请求号 and a negative
  商家实收（元）.
- WeChat Pay trade bill (交易账单, ALL): every value starts with a backtick; refund rows have
  交易状态 ``REFUND``, our key in 商户退款单号, the amount in 退款金额 and 退款状态.
- Stripe itemized balance-change export (balance transactions, CSV): rows with
  ``reporting_category`` ``refund`` (or ``refund_failure``), the refund id in ``source_id``,
  ``gross`` negative in major units, our key in ``refund_metadata[refundflow_key]`` when
  that column was exported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.money import Money
from refundflow.domain.payouts import PayoutRoute
from refundflow.services.payouts.ports import StatementRow

CHINA = timezone(timedelta(hours=8))


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInputError("the statement is neither UTF-8 nor GBK text")


def _amount(value: str, currency: str, line: int) -> Money:
    try:
        amount = abs(Decimal(value.strip().lstrip("`").replace(",", "")))
    except InvalidOperation:
        raise InvalidInputError(f"line {line}: {value!r} is not an amount") from None
    return Money.rounded(amount, currency)


def _china_time(value: str) -> datetime | None:
    value = value.strip().lstrip("`")
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA).astimezone(UTC)
    except ValueError:
        return None


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def parse_alipay(data: bytes) -> list[StatementRow]:
    lines = [row for row in _rows(_text(data)) if row and not row[0].startswith("#")]
    if not lines or "退款批次号/请求号" not in [c.strip() for c in lines[0]]:
        raise InvalidInputError("not an Alipay business-detail bill: no 退款批次号/请求号 column")
    header = [c.strip() for c in lines[0]]
    col = {name: i for i, name in enumerate(header)}
    out = []
    for number, row in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in row]
        if len(cells) < len(header) or cells[col["业务类型"]] != "退款":
            continue
        out.append(
            StatementRow(
                key=cells[col["退款批次号/请求号"]] or None,
                reference=cells[col["支付宝交易号"]] or None,
                amount=_amount(cells[col["商家实收（元）"]], "CNY", number),
                succeeded=True,
                at=_china_time(cells[col["完成时间"]]),
            )
        )
    return out


def parse_wechat(data: bytes) -> list[StatementRow]:
    rows = _rows(_text(data))
    if not rows or "商户退款单号" not in [c.strip() for c in rows[0]]:
        raise InvalidInputError("not a WeChat Pay trade bill: no 商户退款单号 column")
    header = [c.strip() for c in rows[0]]
    col = {name: i for i, name in enumerate(header)}
    out = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [c.strip().lstrip("`") for c in row]
        if len(cells) < len(header):
            break  # the summary block (总交易单数, …) follows the detail rows
        if cells[col["交易状态"]] != "REFUND":
            continue
        currency = cells[col["货币种类"]] or "CNY"
        out.append(
            StatementRow(
                key=cells[col["商户退款单号"]] or None,
                reference=cells[col["微信退款单号"]] or None,
                amount=_amount(cells[col["退款金额"]], currency, number),
                succeeded=cells[col["退款状态"]] == "SUCCESS",
                at=_china_time(cells[col["交易时间"]]),
            )
        )
    return out


def parse_stripe(data: bytes) -> list[StatementRow]:
    reader = csv.DictReader(io.StringIO(_text(data)))
    needed = {"balance_transaction_id", "gross", "currency", "reporting_category", "source_id"}
    if reader.fieldnames is None or not needed <= set(reader.fieldnames):
        raise InvalidInputError(
            "not a Stripe balance-transactions export: it needs the columns "
            + ", ".join(sorted(needed))
        )
    out = []
    for number, row in enumerate(reader, start=2):
        category = row["reporting_category"]
        if category not in ("refund", "refund_failure"):
            continue
        created = row.get("created_utc") or row.get("created") or ""
        try:
            at = datetime.fromisoformat(created.strip()).replace(tzinfo=UTC) if created else None
        except ValueError:
            at = None
        out.append(
            StatementRow(
                key=row.get("refund_metadata[refundflow_key]") or None,
                reference=row["source_id"] or None,
                amount=_amount(row["gross"], row["currency"].upper(), number),
                succeeded=category == "refund",
                at=at,
            )
        )
    return out


PARSERS: dict[PayoutRoute, Callable[[bytes], list[StatementRow]]] = {
    PayoutRoute.ALIPAY: parse_alipay,
    PayoutRoute.WECHAT_PAY: parse_wechat,
    PayoutRoute.STRIPE: parse_stripe,
}


def parse_statement(route: PayoutRoute, data: bytes) -> list[StatementRow]:
    parser = PARSERS.get(route)
    if parser is None:
        raise InvalidInputError(
            f"no statement format for {route.value}: use alipay, wechat_pay or stripe",
            details={"route": route.value},
        )
    return parser(data)
