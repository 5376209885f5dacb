"""The file commands behind ``refundflow import orders`` and ``refundflow export``: files
in and out, a progress bar, the error report."""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from refundflow.adapters.db.migrate import is_current
from refundflow.adapters.files.tables import FORMATS, Table, open_table, write_table
from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.errors import RefundflowError
from refundflow.domain.permissions import Role
from refundflow.entrypoints.bootstrap import Container
from refundflow.services import exports
from refundflow.services.order_import import (
    ImportReport,
    import_orders,
    pick,
    resolve_columns,
)

CLI_ACTOR = Actor(ActorKind.STAFF, Role.ADMIN, "cli", "command line")


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, sep, header = pair.partition("=")
        if not sep or not column.strip() or not header.strip():
            raise ValueError(f"--map {pair!r}: write it as COLUMN=HEADER, e.g. order_no=订单号")
        mapping[column.strip()] = header.strip()
    return mapping


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """An import allocates millions of small objects (rows, orders, lines, money) that live
    until their chunk is written and hold no reference cycles; with the default thresholds
    the cyclic collector scans them again and again (measured: a third of the import's
    CPU). Older objects are frozen out of its sight and it runs less often meanwhile."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def import_file(
    box: Container,
    file: Path,
    mapping: dict[str, str],
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    table: Table | None = None,
) -> ImportReport:
    """What ``refundflow import orders`` does with a file (the bench measures this)."""
    table = table or open_table(file)
    row_of = pick(resolve_columns(table.header, mapping))
    with bulk_allocation():
        return import_orders(
            box.uows,
            ((number, row_of(cells)) for number, cells in table.rows),
            tz=box.settings.tz,
            dry_run=dry_run,
            progress=progress,
        )


def write_error_report(path: Path, report: ImportReport) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "order_no", "reason"])
        writer.writerows((bad.row, bad.order_no, bad.reason) for bad in report.bad_rows)


def run_import(
    box: Container,
    file: Path,
    pairs: list[str],
    dry_run: bool,
    errors: Path | None,
    out: Console,
    err: Console,
) -> int:
    if not is_current(box.engine):
        err.print("[red]error:[/red] the schema is not current; run 'refundflow migrate' first")
        return 2
    try:
        mapping = _mapping(pairs)
        table = open_table(file)
        resolve_columns(table.header, mapping)
    except (ValueError, RefundflowError) as exc:
        err.print(f"[red]error:[/red] {getattr(exc, 'message', exc)}")
        return 2
    size_column = DownloadColumn() if table.unit == "bytes" else MofNCompleteColumn()
    with Progress(
        TextColumn("importing" if not dry_run else "checking"),
        BarColumn(),
        size_column,
        TimeRemainingColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("orders", total=table.size)
        try:
            report = import_file(
                box,
                file,
                mapping,
                dry_run=dry_run,
                progress=lambda _rows: progress.update(task, completed=table.position()),
                table=table,
            )
        except RefundflowError as exc:  # the file itself could not be read on
            err.print(f"[red]error:[/red] {exc.message}")
            return 2
        progress.update(task, completed=table.size)
    verb = "would import" if dry_run else "imported"
    out.print(
        f"{verb} {report.orders} orders ({report.lines} lines) from {report.rows} rows: "
        f"{report.created} new, {report.updated} updated, {report.unchanged} unchanged"
    )
    if report.ok:
        return 0
    path = errors or file.with_name(file.name + ".errors.csv")
    write_error_report(path, report)
    err.print(
        f"[yellow]{len(report.bad_rows)} rows not imported[/yellow]; each with its reason in {path}"
    )
    return 1


def run_export(
    box: Container,
    start: str,
    end: str,
    fmt: str,
    by: str,
    output: Path | None,
    out: Console,
    err: Console,
) -> int:
    if fmt not in FORMATS:
        err.print("[red]error:[/red] --format must be csv or xlsx")
        return 2
    try:
        begin, finish = exports.period(start, end, box.settings.tz)
        rows = list(
            exports.export_rows(box.uows, CLI_ACTOR, begin, finish, by=by, typed=fmt == "xlsx")
        )
    except RefundflowError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        return 2
    tz = box.settings.tz
    path = output or Path(
        f"refund-requests-{begin.astimezone(tz):%Y%m%d}-{finish.astimezone(tz):%Y%m%d}.{fmt}"
    )
    write_table(path, exports.COLUMNS, rows, fmt)
    out.print(f"exported {len(rows)} refund requests to {path}")
    return 0
