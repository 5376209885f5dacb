"""The column layout of an order import table (docs/import.md): one row per order line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
