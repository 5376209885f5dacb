"""The refund requests export for finance and ERP imports (CSV or Excel).

One row per request whose creation (or last update, or refund) time falls in [from, to):
stable machine column names, amounts as exact decimals in the request's currency, times in
the shop's time zone with their offset. Finance, managers and admins may export.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import InvalidInputError, PermissionDeniedError
from refundflow.domain.money import Money
from refundflow.domain.permissions import Operation, may
from refundflow.services.unit_of_work import UnitOfWorkFactory

COLUMNS = [
    "number",
    "id",
    "created_at",
    "order_no",
    "channel",
    "customer_name",
    "type",
    "reason",
    "status",
    "currency",
    "amount_requested",
    "amount_approved",
    "amount_refunded",
    "include_shipping",
    "shipping_amount",
    "refund_route",
    "intake_channel",
    "skus",
    "decision_rule",
    "approved_at",
    "refunded_at",
    "updated_at",
]
BY = ("created", "updated", "refunded")
_TIMES = {2, 19, 20, 21}
_MONEY = {10, 11, 12, 14}


def period(start: str, end: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """``from``/``to`` as UTC-aware times: a date is midnight in the shop's zone, a
    date-time needs its offset (or is taken in the shop's zone)."""

    def read(value: str, name: str) -> datetime:
        text = value.strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), time(), tz)
            at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"{name} must be a date (2026-11-01) or a date-time with an offset",
                details={"field": name},
            ) from None
        return at if at.tzinfo else at.replace(tzinfo=tz)

    begin, finish = read(start, "from"), read(end, "to")
    if finish <= begin:
        raise InvalidInputError("to must be after from", details={"field": "to"})
    return begin, finish


def export_rows(
    uows: UnitOfWorkFactory,
    actor: Actor,
    start: datetime,
    end: datetime,
    *,
    by: str = "created",
    typed: bool = False,
) -> Iterator[list[Any]]:
    """The rows (without the header) of requests in [start, end); amounts as decimal strings,
    or as ``Decimal`` and times as naive local times with ``typed`` (for spreadsheets)."""
    if not may(actor.role, Operation.EXPORT_REQUESTS):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot export refund requests")
    if by not in BY:
        raise InvalidInputError("by must be created, updated or refunded", details={"field": "by"})
    return _rows(uows, start, end, by, typed)


def _rows(
    uows: UnitOfWorkFactory, start: datetime, end: datetime, by: str, typed: bool
) -> Iterator[list[Any]]:
    with uows(write=False) as uow:
        tz = uow.tz
        for raw in uow.exports.requests(start, end, by):
            row = list(raw)
            currency = row[9]
            for i in _TIMES:
                local = row[i].astimezone(tz) if row[i] else None
                row[i] = (
                    (local.replace(tzinfo=None) if typed else local.isoformat()) if local else None
                )
            for i in _MONEY:
                if row[i] is not None:
                    amount: Decimal = Money.from_minor(int(row[i]), currency).amount
                    row[i] = amount if typed else str(amount)
            row[13] = bool(row[13])
            row[17] = ";".join(row[17].split("\x1f")) if row[17] else ""
            yield row
