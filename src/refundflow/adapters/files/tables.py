"""Tables in files: read rows of a CSV or an Excel (.xlsx) sheet, write rows to either.

CSV is read as UTF-8 (a BOM, as Excel writes, is skipped) with the delimiter sniffed among
comma, semicolon and tab. Excel is read with openpyxl in read-only mode, first sheet,
values as stored (numbers come back as numbers, dates as datetimes).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from refundflow.domain.errors import InvalidInputError

FORMATS = ("csv", "xlsx")


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (row number in the file, cells), from row 2
    size: int  # bytes (CSV) or rows (xlsx): the progress bar's total
    unit: str  # "bytes" or "rows"
    position: Any = None  # () -> progress so far, in ``unit``


def table_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "txt"):
        return "csv"
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    raise InvalidInputError(f"{path.name}: only .csv and .xlsx files can be imported")


def open_table(path: Path) -> Table:
    if not path.is_file():
        raise InvalidInputError(f"{path} is not a file")
    if table_format(path) == "csv":
        return _csv(path)
    return _xlsx(path)


def _csv(path: Path) -> Table:
    handle = path.open("r", encoding="utf-8-sig", newline="")
    sample = handle.read(64 * 1024)
    handle.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(handle, dialect)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise InvalidInputError(f"{path.name} is empty") from None
    size = path.stat().st_size

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(reader, start=2):
                if any(cells):
                    yield number, cells
        except UnicodeDecodeError:
            raise InvalidInputError(
                f"{path.name} is not UTF-8 text; save it as CSV UTF-8"
            ) from None
        finally:
            handle.close()

    raw = handle.buffer

    def position() -> int:
        try:
            return int(raw.tell()) if not handle.closed else size  # type: ignore[attr-defined]
        except (OSError, ValueError):
            return size

    return Table(header, rows(), size, "bytes", position)


def _xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise InvalidInputError(f"{path.name} is not a readable .xlsx file: {exc}") from None
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        header = [str(c) if c is not None else "" for c in next(values)]
    except StopIteration:
        workbook.close()
        raise InvalidInputError(f"{path.name} has an empty first sheet") from None
    total = sheet.max_row or 0
    done = [1]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(values, start=2):
                done[0] = number
                if any(c is not None and c != "" for c in cells):
                    yield number, list(cells)
        finally:
            workbook.close()

    return Table(header, rows(), total, "rows", lambda: done[0])


# ---------------------------------------------------------------- writing
def write_csv(out: IO[str], header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)


def csv_chunks(header: list[str], rows: Iterable[list[Any]], every: int = 500) -> Iterator[bytes]:
    """CSV as UTF-8 bytes with a BOM (so Excel opens Chinese text right), in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    first = True
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % every == 0:
            yield (("\ufeff" if first else "") + buffer.getvalue()).encode()
            first = False
            buffer.seek(0)
            buffer.truncate()
    yield (("\ufeff" if first else "") + buffer.getvalue()).encode()


def xlsx_bytes(header: list[str], rows: Iterable[list[Any]], *, title: str) -> bytes:
    """An .xlsx workbook (openpyxl write-only mode: rows are not kept in memory twice).
    Decimal amounts are written as numbers with two decimals shown."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
                decimals = max(0, -int(value.as_tuple().exponent))
                cell.number_format = "0." + "0" * decimals if decimals else "0"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_table(path: Path, header: list[str], rows: Iterable[list[Any]], fmt: str) -> None:
    if fmt == "xlsx":
        path.write_bytes(xlsx_bytes(header, rows, title=path.stem))
        return
    with path.open("wb") as out:
        for chunk in csv_chunks(header, rows):
            out.write(chunk)
