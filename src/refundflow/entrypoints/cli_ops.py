"""Operations commands: backup and restore, the audit chain's check, data keys."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from refundflow.domain.errors import RefundflowError
from refundflow.entrypoints.bootstrap import Container


def register(
    app: typer.Typer,
    *,
    container: Callable[[], AbstractContextManager[Container]],
    fail: Callable[[RefundflowError], typer.Exit],
    out: Console,
    err: Console,
) -> None:
    """Add these commands to the ``refundflow`` command."""
    _container, _fail = container, fail
    audit = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
    app.add_typer(audit, name="audit")
    keys = typer.Typer(
        help="The keys that encrypt bank accounts at rest (REFUNDFLOW_DATA_KEYS).",
        no_args_is_help=True,
    )
    app.add_typer(keys, name="keys")
    privacy = typer.Typer(
        help="Customers' personal data: erase one customer now, or everyone past the "
        "retention period (REFUNDFLOW_RETENTION_DAYS, 3 years by default).",
        no_args_is_help=True,
    )
    app.add_typer(privacy, name="privacy")

    @privacy.command("erase")
    def privacy_erase(
        customer: Annotated[
            int, typer.Option("--customer", min=1, help="the customer's id (as in the API)")
        ],
    ) -> None:
        """Anonymise one customer now (audited; refused while a request of theirs is open).

        Name, phone, e-mail, messages, free text, sessions and bank accounts go; orders,
        amounts, refunds and the ledger stay."""
        from refundflow.services.retention import erase_customer

        with _container() as box:
            try:
                done = erase_customer(box.uows, customer, "system:cli")
            except RefundflowError as exc:
                raise _fail(exc) from None
        changed = ", ".join(f"{table} {n}" for table, n in sorted(done.rows.items()) if n)
        out.print(f"customer {customer} erased ({changed or 'nothing left to erase'})")

    @privacy.command("retain")
    def privacy_retain(
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="list who would be erased; change nothing")
        ] = False,
    ) -> None:
        """Anonymise every customer past the retention period (run it daily from cron).

        Past the period: every request closed and untouched for REFUNDFLOW_RETENTION_DAYS
        (1095 by default), and no order since."""
        from datetime import timedelta

        from refundflow.services.retention import due, retain

        with _container() as box:
            period = timedelta(days=box.settings.retention_days)
            if dry_run:
                ids = due(box.uows, period, limit=100_000)
                out.print(f"{len(ids)} customers past {period.days} days: {ids[:50]}")
                return
            try:
                erased = retain(box.uows, period)
            except RefundflowError as exc:
                raise _fail(exc) from None
        out.print(f"erased {len(erased)} customers past {period.days} days")

    @keys.command("generate")
    def keys_generate() -> None:
        """Print a new data key.

        To rotate: put it first in REFUNDFLOW_DATA_KEYS (keep the old one after it),
        restart, run `refundflow keys rotate`, then drop the old key."""
        from refundflow.adapters.crypto import generate_key

        out.print(generate_key(), highlight=False)

    @keys.command("rotate")
    def keys_rotate() -> None:
        """Re-encrypt every stored bank account with the first key (audited).

        Safe to repeat; runs in batches while the shop works."""
        from refundflow.services.keys import rotate

        with _container() as box:
            try:
                done = rotate(box.uows)
            except RefundflowError as exc:
                raise _fail(exc) from None
        out.print(
            f"re-encrypted {done.rewritten} bank accounts with the current key "
            f"({done.current} were already current)"
        )

    @app.command()
    def backup(
        path: Annotated[Path, typer.Argument(help="the backup file to write (must not exist)")],
    ) -> None:
        """Back up the database while the shop runs (SQLite online backup; pg_dump for
        PostgreSQL)."""
        from refundflow.adapters.db.backup import backup as run_backup

        with _container() as box:
            try:
                with err.status(f"backing up to {path} …"):
                    run_backup(box.engine, path)
            except RefundflowError as exc:
                raise _fail(exc) from None
        out.print(f"backup written to {path} ({path.stat().st_size:,} bytes)")

    @app.command()
    def restore(
        path: Annotated[Path, typer.Argument(help="a file written by `refundflow backup`")],
        replace: Annotated[
            bool, typer.Option("--replace", help="overwrite a database that already has data")
        ] = False,
    ) -> None:
        """Restore a backup into the configured database (a fresh one unless --replace)."""
        from refundflow.adapters.db.backup import restore as run_restore

        with _container() as box:
            try:
                run_restore(box.engine, path, replace=replace)
            except RefundflowError as exc:
                raise _fail(exc) from None
        out.print(
            f"restored {path}; run `refundflow migrate` if the backup is from an older version"
        )

    @audit.command("verify")
    def audit_verify() -> None:
        """Recompute the audit chain; exit 1 and name the first row that was changed."""
        from refundflow.services.audit import verify

        with _container() as box:
            check = verify(box.uows)
        if check.broken_at is not None:
            err.print(
                f"[red]the audit chain is broken at row {check.broken_at}[/red] "
                f"(checked {check.rows} rows): that row or the one before it was changed or removed"
            )
            raise typer.Exit(1)
        out.print(f"audit chain intact: {check.rows} rows")
