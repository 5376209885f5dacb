"""Importing orders from a table (CSV or Excel): one row per order line.

The layout (docs/import.md): order columns (``order_no``, ``channel``, ``currency``,
``placed_at`` … ``payment_reference``) repeat on every line of the order or are left blank
after its first row; line columns (``sku``, ``name``, ``quantity``, ``unit_price`` …) are
per row. The rows of one order must be next to each other. Header names can be mapped
(``their header → our column``).

Rules:
- an order is imported whole or not at all: a bad row keeps its whole order out, and each
  of the order's rows is reported (the bad one with its reason, the others as "not
  imported because of row N");
- every value goes through the same domain checks as the API (money exact in the order's
  currency, a known payment method and tier, one line per sku, …);
- times without an offset are the shop's local time (spreadsheets rarely carry offsets);
- re-importing a file changes nothing: orders that exist and match are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from operator import itemgetter
from typing import Any

from refundflow.domain.errors import InvalidInputError, RefundflowError
from refundflow.domain.money import Money, check_currency
from refundflow.domain.orders import (
    Customer,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    Tier,
    check_channel,
)
from refundflow.services.bulk_orders import FAILED, store_orders
from refundflow.services.parsing import E, parse_enum, parse_text
from refundflow.services.unit_of_work import UnitOfWorkFactory

ORDER_COLUMNS = (
    "order_no",
    "channel",
    "currency",
    "placed_at",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "customer_name",
    "customer_phone",
    "customer_email",
    "customer_tier",
    "shipping_fee",
    "payment_method",
    "payment_amount",
    "payment_reference",
)
LINE_COLUMNS = ("sku", "name", "category", "quantity", "unit_price", "discount")
COLUMNS = ORDER_COLUMNS + LINE_COLUMNS
REQUIRED = ("order_no", "channel", "currency", "placed_at", "customer_name", "sku", "name",
            "quantity", "unit_price")  # fmt: skip
CHUNK_ORDERS = 2000

Row = tuple[Any, ...]  # values in COLUMNS order


@dataclass(frozen=True, slots=True)
class BadRow:
    row: int
    order_no: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    orders: int = 0
    lines: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad_rows


def resolve_columns(header: list[str], mapping: Mapping[str, str]) -> list[int | None]:
    """For each of ``COLUMNS``, the index of the header cell that holds it (or None).
    ``mapping`` is our column → their header; other headers match our names ignoring case."""
    unknown = sorted(set(mapping) - set(COLUMNS))
    if unknown:
        raise InvalidInputError(
            f"--map names unknown columns: {', '.join(unknown)}; known: {', '.join(COLUMNS)}"
        )
    cells = {str(h).strip().lower(): i for i, h in enumerate(header) if h is not None}
    positions = []
    for column in COLUMNS:
        wanted = mapping.get(column, column).strip().lower()
        positions.append(cells.get(wanted))
    missing = [c for c, p in zip(COLUMNS, positions, strict=True) if p is None and c in REQUIRED]
    if missing:
        raise InvalidInputError(
            "the header lacks required columns: "
            + ", ".join(f"{c} (header {mapping.get(c, c)!r})" for c in missing)
        )
    return positions


def pick(positions: list[int | None]) -> Callable[[list[Any]], Row]:
    """A function from a raw table row to a row of values in ``COLUMNS`` order (a missing
    column or a short row reads as None)."""
    getter = itemgetter(*[p if p is not None else -1 for p in positions])
    width = max((p for p in positions if p is not None), default=0) + 1

    def row(cells: list[Any]) -> Row:
        if len(cells) < width:
            cells = cells + [None] * (width - len(cells))
        cells.append(None)  # what index -1 (a missing column) reads
        return getter(cells)  # type: ignore[no-any-return]

    return row


# ---------------------------------------------------------------- reading values
def _text(value: Any) -> str:
    if value.__class__ is str:
        text: str = value.strip()
        return text
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


class _Reader:
    """Reads one order's values; ``tz`` is the shop's zone for times without an offset."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.money_cache: dict[tuple[str, str], Money] = {}
        self.enum_cache: dict[tuple[type, Any], StrEnum] = {}
        self.channels: set[str] = set()

    def money(self, value: Any, currency: str, column: str, default: str = "0") -> Money:
        """``Money.parse`` of the cell, remembered by its text (catalogue prices repeat)."""
        text = (value.strip() if value.__class__ is str else _text(value)) or default
        key = (text, currency)
        cached = self.money_cache.get(key)
        if cached is None:
            try:
                cached = Money(Decimal(text), currency)
            except (InvalidOperation, RefundflowError):
                cached = Money.parse(text, currency, field=column)  # raises, naming the column
            if len(self.money_cache) < 100_000:
                self.money_cache[key] = cached
        return cached

    def enum(self, kind: type[E], value: Any, column: str) -> E:
        key = (kind, value)
        member = self.enum_cache.get(key)
        if member is None:
            member = self.enum_cache[key] = parse_enum(kind, _text(value), column)
        return member  # type: ignore[return-value]

    def time(self, value: Any, column: str, *, required: bool = False) -> datetime | None:
        if isinstance(value, datetime):
            at = value
        else:
            text = _text(value)
            if not text:
                if required:
                    raise InvalidInputError(f"{column} is required", details={"field": column})
                return None
            try:
                at = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidInputError(
                    f"{column}: {text!r} is not a date-time such as 2026-11-20T10:00:00+08:00",
                    details={"field": column},
                ) from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.tz)
        return at.astimezone(UTC)

    @staticmethod
    def quantity(value: Any) -> int:
        if value.__class__ is str and value.isdigit() and value[0] != "0":
            return int(value)
        if isinstance(value, bool):
            value = None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or value < 1:
            raise InvalidInputError(
                f"quantity must be a whole number of at least 1, not {_text(value)!r}",
                details={"field": "quantity"},
            )
        return value


# ---------------------------------------------------------------- one order from its rows
_I = {c: i for i, c in enumerate(COLUMNS)}
_ORDER_INDEXES = [(c, _I[c]) for c in ORDER_COLUMNS]
SKU, NAME, CATEGORY, QUANTITY, UNIT_PRICE, DISCOUNT = (_I[c] for c in LINE_COLUMNS)


def _short(value: Any, column: str, limit: int, default: str = "") -> str:
    """A required text of at most ``limit`` characters (``default`` when blank)."""
    text = value.strip() if value.__class__ is str else _text(value)
    if 0 < len(text) <= limit:
        return text
    if not text and default:
        return default
    return parse_text(text, column, limit=limit)  # raises with the field named


def _order_level_conflicts(rows: list[tuple[int, Row]]) -> list[BadRow]:
    """Rows whose order columns contradict the order's first row (blank is allowed)."""
    first_no, first = rows[0]
    bad = []
    for number, row in rows[1:]:
        for column, i in _ORDER_INDEXES:
            raw = row[i]
            if not raw or raw == first[i]:
                continue
            value = _text(raw)
            if value and value != _text(first[i]):
                bad.append(
                    BadRow(
                        number,
                        _text(first[0]),
                        f"{column} {value!r} differs from row {first_no} of the same order",
                    )
                )
                break
    return bad


def build_order(rows: list[tuple[int, Row]], reader: _Reader) -> Order:
    """The order its rows describe; raises ``_RowError`` naming the row at fault."""
    first_no, first = rows[0]
    try:
        currency = check_currency(_text(first[_I["currency"]]))
        channel = _text(first[_I["channel"]])
        if channel not in reader.channels:
            reader.channels.add(check_channel(channel))
        order_no = parse_text(_text(first[0]), "order_no", limit=64)
        customer = Customer(
            name=parse_text(_text(first[_I["customer_name"]]), "customer_name", limit=100),
            email=parse_text(
                _text(first[_I["customer_email"]]), "customer_email", limit=254, required=False
            )
            or None,
            phone=parse_text(
                _text(first[_I["customer_phone"]]), "customer_phone", limit=32, required=False
            )
            or None,
            tier=reader.enum(Tier, first[_I["customer_tier"]] or "standard", "customer_tier"),
        )
        payments = []
        method, amount = _text(first[_I["payment_method"]]), _text(first[_I["payment_amount"]])
        if method or amount:
            payments.append(
                Payment(
                    reader.enum(PaymentMethod, method, "payment_method"),
                    reader.money(amount, currency, "payment_amount", default=""),
                    parse_text(
                        _text(first[_I["payment_reference"]]),
                        "payment_reference",
                        limit=128,
                        required=False,
                    )
                    or None,
                )
            )
        placed_at = reader.time(first[_I["placed_at"]], "placed_at", required=True)
        assert placed_at is not None
        shipping = reader.money(first[_I["shipping_fee"]], currency, "shipping_fee")
        paid_at = reader.time(first[_I["paid_at"]], "paid_at")
        shipped_at = reader.time(first[_I["shipped_at"]], "shipped_at")
        delivered_at = reader.time(first[_I["delivered_at"]], "delivered_at")
    except RefundflowError as error:
        raise _RowError(first_no, error.message) from None
    lines = []
    money = reader.money
    for number, row in rows:
        try:
            sku, name = _short(row[SKU], "sku", 64), _short(row[NAME], "name", 200)
            category = _short(row[CATEGORY], "category", 64, "general")
            line = OrderLine(
                sku,
                name,
                category,
                reader.quantity(row[QUANTITY]),
                money(row[UNIT_PRICE], currency, "unit_price", ""),
                money(row[DISCOUNT], currency, "discount"),
            )
        except RefundflowError as error:
            raise _RowError(number, error.message) from None
        lines.append(line)
    order = Order(
        order_no=order_no,
        channel=channel,
        currency=currency,
        customer=customer,
        lines=lines,
        payments=payments,
        shipping_fee=shipping,
        placed_at=placed_at,
        paid_at=paid_at,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
    )
    try:
        order.check()  # the lines' own checks too (quantities, prices, discounts)
    except RefundflowError as error:
        bad = error.details.get("sku")
        at = next((n for n, r in reversed(rows) if bad and _text(r[SKU]) == bad), first_no)
        raise _RowError(at, error.message) from None
    return order


class _RowError(Exception):
    def __init__(self, row: int, reason: str) -> None:
        super().__init__(reason)
        self.row = row
        self.reason = reason


def _refuse(rows: list[tuple[int, Row]], bad: list[BadRow], order_no: str) -> list[BadRow]:
    """Every row of a refused order: the bad ones with their reasons, the rest pointing at
    the first bad row."""
    reasons = {b.row: b.reason for b in bad}
    first_bad = min(reasons)
    return [
        BadRow(
            n, order_no, reasons.get(n) or f"not imported: row {first_bad} of this order is invalid"
        )
        for n, _ in rows
    ]


# ---------------------------------------------------------------- the whole table
def _groups(rows: Iterable[tuple[int, Row]]) -> Iterator[list[tuple[int, Row]]]:
    """Consecutive rows with the same order number."""
    group: list[tuple[int, Row]] = []
    current = None
    for number, row in rows:
        order_no = _text(row[0])
        if group and order_no != current:
            yield group
            group = []
        current = order_no
        group.append((number, row))
    if group:
        yield group


def import_orders(
    uows: UnitOfWorkFactory,
    rows: Iterable[tuple[int, Row]],
    *,
    tz: tzinfo,
    dry_run: bool = False,
    chunk_orders: int = CHUNK_ORDERS,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ``rows`` ((row number, values in ``COLUMNS`` order) …); return the counts and
    every bad row. Valid orders are written in chunks, each chunk one transaction, so a
    crash loses at most the chunk in flight — and re-running the file finishes the job."""
    report = ImportReport()
    reader = _Reader(tz)
    seen: dict[str, int] = {}
    chunk: list[Order] = []
    chunk_rows: list[list[tuple[int, Row]]] = []

    def flush() -> None:
        for order, group, stored in zip(
            chunk, chunk_rows, store_orders(uows, chunk, dry_run=dry_run), strict=True
        ):
            if stored.status == FAILED:
                assert stored.error is not None
                report.bad_rows += _refuse(
                    group,
                    [BadRow(group[0][0], order.order_no, stored.error.message)],
                    order.order_no,
                )
                continue
            report.orders += 1
            report.lines += len(order.lines)
            setattr(report, stored.status, getattr(report, stored.status) + 1)
        chunk.clear()
        chunk_rows.clear()
        if progress is not None:
            progress(report.rows)

    for group in _groups(rows):
        report.rows += len(group)
        order_no = _text(group[0][1][0])
        if not order_no:
            report.bad_rows += [BadRow(n, "", "order_no is required") for n, _ in group]
            continue
        if order_no in seen:
            report.bad_rows += [
                BadRow(
                    n,
                    order_no,
                    f"the rows of order {order_no} must be together; it started at row "
                    f"{seen[order_no]}",
                )
                for n, _ in group
            ]
            continue
        seen[order_no] = group[0][0]
        bad = _order_level_conflicts(group)
        if bad:
            report.bad_rows += _refuse(group, bad, order_no)
            continue
        try:
            order = build_order(group, reader)
        except _RowError as error:
            report.bad_rows += _refuse(group, [BadRow(error.row, order_no, error.reason)], order_no)
            continue
        chunk.append(order)
        chunk_rows.append(group)
        if len(chunk) >= chunk_orders:
            flush()
    flush()
    report.bad_rows.sort(key=lambda b: b.row)
    return report
