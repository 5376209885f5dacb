"""Reading shop payloads exactly: integers stay integers whatever their size (Shopify ids
exceed 2^53, where a double loses digits), JSON numbers with a fraction become ``Decimal``
(never ``float``), money strings are read as written, times keep their offsets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from refundflow.domain.errors import InvalidInputError


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"the body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidInputError("the body must be a JSON object")
    return payload


def text(value: Any) -> str:
    """A shop value as text: ids (int or str) exactly, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def money(value: Any, field: str) -> str:
    """A money amount as a decimal string; a JSON number is read through Decimal, exactly
    as written (the payload is parsed with ``parse_float=Decimal``)."""
    if isinstance(value, bool) or value is None:
        raise InvalidInputError(f"{field} is missing", details={"field": field})
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise InvalidInputError(f"{field} is not an amount", details={"field": field})


def shop_money(node: Any, fallback: Any, field: str) -> str:
    """``x_set.shop_money.amount`` (Shopify's shop currency), else the plain field."""
    if isinstance(node, dict):
        amount = (node.get("shop_money") or {}).get("amount")
        if amount is not None:
            return money(amount, field)
    return money(fallback, field)


def time(value: Any, field: str, *, naive_is_utc: bool = False) -> datetime | None:
    """An ISO 8601 time; one without an offset is refused unless the shop documents it as
    UTC (WooCommerce's ``*_gmt`` fields)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} is not a time", details={"field": field})
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{field}: {value!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        if not naive_is_utc:
            raise InvalidInputError(f"{field} has no time zone offset", details={"field": field})
        at = at.replace(tzinfo=UTC)
    return at


def quantity(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{field} must be a whole number", details={"field": field})
    return value
