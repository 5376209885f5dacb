"""Reading one order out of its rows of an import table (``services.order_import``): every
value through the same domain checks as the API, errors pinned to the row at fault."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum
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
from refundflow.services.import_layout import COLUMNS, LINE_COLUMNS, ORDER_COLUMNS, BadRow, Row
from refundflow.services.parsing import E, parse_enum, parse_text


# ---------------------------------------------------------------- reading values
def text_of(value: Any) -> str:
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


class Reader:
    """Reads one order's values; ``tz`` is the shop's zone for times without an offset."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.money_cache: dict[tuple[str, str], Money] = {}
        self.enum_cache: dict[tuple[type, Any], StrEnum] = {}
        self.channels: set[str] = set()

    def money(self, value: Any, currency: str, column: str, default: str = "0") -> Money:
        """``Money.parse`` of the cell, remembered by its text (catalogue prices repeat)."""
        text = (value.strip() if value.__class__ is str else text_of(value)) or default
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
            member = self.enum_cache[key] = parse_enum(kind, text_of(value), column)
        return member  # type: ignore[return-value]

    def time(self, value: Any, column: str, *, required: bool = False) -> datetime | None:
        if isinstance(value, datetime):
            at = value
        else:
            text = text_of(value)
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
                f"quantity must be a whole number of at least 1, not {text_of(value)!r}",
                details={"field": "quantity"},
            )
        return value


# ---------------------------------------------------------------- one order from its rows
_I = {c: i for i, c in enumerate(COLUMNS)}
_ORDER_INDEXES = [(c, _I[c]) for c in ORDER_COLUMNS]
SKU, NAME, CATEGORY, QUANTITY, UNIT_PRICE, DISCOUNT = (_I[c] for c in LINE_COLUMNS)
_COL_CHANNEL = _I["channel"]
_COL_CURRENCY = _I["currency"]
_COL_CUSTOMER_EMAIL = _I["customer_email"]
_COL_CUSTOMER_NAME = _I["customer_name"]
_COL_CUSTOMER_PHONE = _I["customer_phone"]
_COL_CUSTOMER_TIER = _I["customer_tier"]
_COL_DELIVERED_AT = _I["delivered_at"]
_COL_PAID_AT = _I["paid_at"]
_COL_PAYMENT_AMOUNT = _I["payment_amount"]
_COL_PAYMENT_METHOD = _I["payment_method"]
_COL_PAYMENT_REFERENCE = _I["payment_reference"]
_COL_PLACED_AT = _I["placed_at"]
_COL_SHIPPED_AT = _I["shipped_at"]
_COL_SHIPPING_FEE = _I["shipping_fee"]


def _short(value: Any, column: str, limit: int, default: str = "") -> str:
    """A required text of at most ``limit`` characters (``default`` when blank)."""
    text = value.strip() if value.__class__ is str else text_of(value)
    if 0 < len(text) <= limit:
        return text
    if not text and default:
        return default
    return parse_text(text, column, limit=limit)  # raises with the field named


def order_level_conflicts(rows: list[tuple[int, Row]]) -> list[BadRow]:
    """Rows whose order columns contradict the order's first row (blank is allowed)."""
    first_no, first = rows[0]
    bad = []
    for number, row in rows[1:]:
        for column, i in _ORDER_INDEXES:
            raw = row[i]
            if not raw or raw == first[i]:
                continue
            value = text_of(raw)
            if value and value != text_of(first[i]):
                bad.append(
                    BadRow(
                        number,
                        text_of(first[0]),
                        f"{column} {value!r} differs from row {first_no} of the same order",
                    )
                )
                break
    return bad


def build_order(rows: list[tuple[int, Row]], reader: Reader) -> Order:
    """The order its rows describe; raises ``RowError`` naming the row at fault."""
    first_no, first = rows[0]
    try:
        currency = check_currency(text_of(first[_COL_CURRENCY]))
        channel = text_of(first[_COL_CHANNEL])
        if channel not in reader.channels:
            reader.channels.add(check_channel(channel))
        order_no = parse_text(text_of(first[0]), "order_no", limit=64)
        customer = Customer(
            name=parse_text(text_of(first[_COL_CUSTOMER_NAME]), "customer_name", limit=100),
            email=parse_text(
                text_of(first[_COL_CUSTOMER_EMAIL]), "customer_email", limit=254, required=False
            )
            or None,
            phone=parse_text(
                text_of(first[_COL_CUSTOMER_PHONE]), "customer_phone", limit=32, required=False
            )
            or None,
            tier=reader.enum(Tier, first[_COL_CUSTOMER_TIER] or "standard", "customer_tier"),
        )
        payments = []
        method, amount = text_of(first[_COL_PAYMENT_METHOD]), text_of(first[_COL_PAYMENT_AMOUNT])
        if method or amount:
            payments.append(
                Payment(
                    reader.enum(PaymentMethod, method, "payment_method"),
                    reader.money(amount, currency, "payment_amount", default=""),
                    parse_text(
                        text_of(first[_COL_PAYMENT_REFERENCE]),
                        "payment_reference",
                        limit=128,
                        required=False,
                    )
                    or None,
                )
            )
        placed_at = reader.time(first[_COL_PLACED_AT], "placed_at", required=True)
        assert placed_at is not None
        shipping = reader.money(first[_COL_SHIPPING_FEE], currency, "shipping_fee")
        paid_at = reader.time(first[_COL_PAID_AT], "paid_at")
        shipped_at = reader.time(first[_COL_SHIPPED_AT], "shipped_at")
        delivered_at = reader.time(first[_COL_DELIVERED_AT], "delivered_at")
    except RefundflowError as error:
        raise RowError(first_no, error.message) from None
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
            raise RowError(number, error.message) from None
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
        at = next((n for n, r in reversed(rows) if bad and text_of(r[SKU]) == bad), first_no)
        raise RowError(at, error.message) from None
    return order


class RowError(Exception):
    def __init__(self, row: int, reason: str) -> None:
        super().__init__(reason)
        self.row = row
        self.reason = reason
