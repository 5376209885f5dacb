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
from datetime import tzinfo
from operator import itemgetter
from typing import Any

from refundflow.domain.errors import InvalidInputError
from refundflow.domain.orders import Order
from refundflow.services.bulk_orders import FAILED, store_orders
from refundflow.services.import_layout import (
    CHUNK_ORDERS,
    COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    REQUIRED,
    BadRow,
    Row,
)
from refundflow.services.order_rows import (
    Reader,
    RowError,
    build_order,
    order_level_conflicts,
    text_of,
)
from refundflow.services.unit_of_work import UnitOfWorkFactory

__all__ = [
    "COLUMNS",
    "LINE_COLUMNS",
    "ORDER_COLUMNS",
    "REQUIRED",
    "BadRow",
    "ImportReport",
    "import_orders",
    "pick",
    "resolve_columns",
]


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
        order_no = text_of(row[0])
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
    reader = Reader(tz)
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
        order_no = text_of(group[0][1][0])
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
        bad = order_level_conflicts(group)
        if bad:
            report.bad_rows += _refuse(group, bad, order_no)
            continue
        try:
            order = build_order(group, reader)
        except RowError as error:
            report.bad_rows += _refuse(group, [BadRow(error.row, order_no, error.reason)], order_no)
            continue
        chunk.append(order)
        chunk_rows.append(group)
        if len(chunk) >= chunk_orders:
            flush()
    flush()
    report.bad_rows.sort(key=lambda b: b.row)
    return report
