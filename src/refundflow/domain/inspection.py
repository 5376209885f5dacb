"""Inspection of returned goods: a grade per line, and what a grade takes off the refund.

Grade A goes back to stock as new, B to stock with defects, C is not resellable. A
deduction per grade (a percentage of the line's value, e.g. B: 20 %) applies only when the
customer, not the shop, is answerable for the return (by default the 7-day no-reason returns
and "other"): a defective or wrong item is never charged to the customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.money import Money


class Grade(StrEnum):
    A = "A"  # resellable
    B = "B"  # resellable with defects
    C = "C"  # not resellable


RESELLABLE = frozenset({Grade.A, Grade.B})


@dataclass(frozen=True, slots=True)
class InspectionRules:
    deductions: Mapping[Grade, Decimal] = field(
        default_factory=lambda: {Grade.A: Decimal(0), Grade.B: Decimal(20), Grade.C: Decimal(0)}
    )
    customer_answerable: frozenset[str] = frozenset({"no_reason_7d", "other"})

    def deduction(self, grade: Grade, reason: str) -> Decimal:
        if reason not in self.customer_answerable:
            return Decimal(0)
        return self.deductions.get(grade, Decimal(0))


@dataclass(frozen=True, slots=True)
class LineGrade:
    sku: str
    grade: Grade
    note: str | None = None


def parse_grades(raw: list[tuple[str, str, str | None]], skus: list[str]) -> list[LineGrade]:
    """Grades for the request's lines; every line needs exactly one."""
    grades: dict[str, LineGrade] = {}
    for sku, grade, note in raw:
        if sku not in skus:
            raise InvalidInputError(f"sku {sku} is not on this request", details={"sku": sku})
        if sku in grades:
            raise InvalidInputError(f"sku {sku} is graded twice", details={"sku": sku})
        try:
            grades[sku] = LineGrade(sku, Grade(grade), note)
        except ValueError:
            raise InvalidInputError(
                f"grade {grade!r} for {sku}: use A (resellable), B (with defects) or C "
                "(not resellable)",
                details={"sku": sku},
            ) from None
    missing = [sku for sku in skus if sku not in grades]
    if missing:
        raise InvalidInputError(
            f"grade every line: {', '.join(missing)} has no grade", details={"skus": missing}
        )
    return [grades[sku] for sku in skus]


def after_deductions(line_amount: Money, deduction_pct: Decimal) -> Money:
    return line_amount - line_amount.share(int(deduction_pct * 100), 10_000)
