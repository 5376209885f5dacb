"""Reading plain inputs (strings, numbers) into domain values, with errors that name the field.

Every entry point (API, CLI, imports, demo) goes through these, so a float or a naive time is
refused the same way everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.money import Money

E = TypeVar("E", bound=StrEnum)


def parse_enum(kind: type[E], value: object, field: str) -> E:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidInputError(
            f"{field}: {value!r} is not one of {choices}", details={"field": field}
        ) from None


def parse_money(value: object, currency: str, field: str) -> Money:
    return Money.parse(value, currency, field=field)


def parse_time(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{field} must be a date-time", details={"field": field})
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"{field} needs a time zone offset, e.g. 2026-11-26T10:00:00+08:00",
            details={"field": field},
        )
    return value.astimezone(UTC)


def parse_quantity(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{field} must be a whole number", details={"field": field})
    if value < 1:
        raise InvalidInputError(f"{field} must be at least 1", details={"field": field})
    return value


def parse_text(value: object, field: str, *, limit: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be text", details={"field": field})
    value = value.strip()
    if required and not value:
        raise InvalidInputError(f"{field} is required", details={"field": field})
    if len(value) > limit:
        raise InvalidInputError(
            f"{field} is longer than {limit} characters", details={"field": field}
        )
    return value
