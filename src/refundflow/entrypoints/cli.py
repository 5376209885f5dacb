"""The ``refundflow`` command."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from refundflow.domain.actors import Actor
from refundflow.domain.errors import RefundflowError
from refundflow.entrypoints import cli_ops
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.entrypoints.settings import Settings

app = typer.Typer(
    help="refundflow — a self-hosted refund and returns desk. "
    "Settings come from REFUNDFLOW_* environment variables (see README).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
tokens = typer.Typer(help="API tokens for staff and integrations.", no_args_is_help=True)
users = typer.Typer(help="Staff users of the console.", no_args_is_help=True)
imports = typer.Typer(help="Import data from files.", no_args_is_help=True)
app.add_typer(tokens, name="tokens")
app.add_typer(users, name="users")
app.add_typer(imports, name="import")
payouts = typer.Typer(help="Bank-transfer payout batches.", no_args_is_help=True)
app.add_typer(payouts, name="payouts")
metrics_app = typer.Typer(help="The dashboard's daily rollups.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")

out = Console()
err = Console(stderr=True)


@contextmanager
def _container() -> Iterator[Container]:
    try:
        box = bootstrap(Settings())
    except Exception as exc:  # settings errors are the user's to fix
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None
    try:
        yield box
    finally:
        box.close()


def _fail(exc: RefundflowError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc.message}")
    return typer.Exit(1)


def _migrate(box: Container) -> None:
    from refundflow.entrypoints.bootstrap import migrate as migrate_database

    migrate_database(box)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (safe to run any time)."""
    with _container() as box:
        _migrate(box)
        out.print(f"database at head: {box.engine.url.render_as_string(hide_password=True)}")


def _run_demo(box: Container, orders: int, seed: int) -> None:
    from refundflow.adapters.db.uow import SqlUnitOfWorkFactory
    from refundflow.services.clock import ManualClock
    from refundflow.services.demo import seed_demo

    clock = ManualClock()
    uows = SqlUnitOfWorkFactory(
        box.engine,
        clock=clock.now,
        tz=box.settings.tz,
        config=box.uows.config,
        cipher=box.uows.cipher,
    )
    with Progress(
        TextColumn("demo data"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("orders", total=orders)
        result = seed_demo(
            uows,
            clock,
            orders_count=orders,
            seed=seed,
            progress=lambda done: progress.update(task, completed=done),
        )
    shown = ", ".join(f"{k} {v}" for k, v in sorted(result.by_status.items()))
    out.print(f"loaded {result.orders} orders and {result.requests} refund requests ({shown})")


@app.command()
def demo(
    orders: Annotated[int, typer.Option(min=1, max=1_000_000, help="how many orders")] = 2000,
    seed: Annotated[int, typer.Option(help="same seed, same data")] = 7,
) -> None:
    """Load a believable 90-day merchant history (orders and refund requests)."""
    from refundflow.adapters.db.migrate import is_current
    from refundflow.services.demo import demo_loaded

    with _container() as box:
        if not is_current(box.engine):
            err.print("[red]error:[/red] the schema is not current; run 'refundflow migrate' first")
            raise typer.Exit(1)
        if demo_loaded(box.uows, seed):
            err.print(
                f"[red]error:[/red] demo data for seed {seed} is already loaded; use another --seed"
            )
            raise typer.Exit(1)
        _run_demo(box, orders, seed)


@tokens.command("create")
def tokens_create(
    role: Annotated[
        str, typer.Option(help="admin, manager, cs, warehouse, finance or integration")
    ],
    name: Annotated[str, typer.Option(help="who or what uses it")] = "cli",
) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    from refundflow.services.auth import issue_token

    with _container() as box:
        try:
            token = issue_token(box.uows, role, name)
        except RefundflowError as exc:
            raise _fail(exc) from None
    out.print(f"token for role {role} ({name}); store it now, it is not shown again:")
    typer.echo(token)


@tokens.command("list")
def tokens_list() -> None:
    """List API tokens: id, role, name, created, last used, revoked (never the token)."""
    from refundflow.services.auth import list_tokens

    with _container() as box:
        rows = list_tokens(box.uows)
    for t in rows:
        used = t["last_used_at"].isoformat(timespec="seconds") if t["last_used_at"] else "never"
        state = f"revoked {t['revoked_at']:%Y-%m-%d}" if t["revoked_at"] else "live"
        created = t["created_at"].isoformat(timespec="seconds")
        typer.echo(f"{t['id']}\t{t['role']}\t{t['name']}\t{created}\tused {used}\t{state}")


@tokens.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="the id from `tokens list`")],
) -> None:
    """Revoke an API token; it stops working within REFUNDFLOW_TOKEN_CACHE_SECONDS (≤ 60)."""
    from refundflow.services.auth import revoke_token

    with _container() as box:
        try:
            revoke_token(box.uows, token_id)
        except RefundflowError as exc:
            raise _fail(exc) from None
    out.print(f"token {token_id} revoked")


@users.command("add")
def users_add(
    email: Annotated[str, typer.Option(help="login e-mail")],
    role: Annotated[str, typer.Option(help="admin, manager, cs, warehouse, finance")],
    password: Annotated[
        str, typer.Option(help="at least 10 characters", prompt=True, hide_input=True)
    ],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
) -> None:
    """Add a staff user who logs in to the console."""
    from refundflow.adapters.security import Argon2Hasher
    from refundflow.services.auth import add_user

    with _container() as box:
        try:
            user_id = add_user(
                box.uows, Argon2Hasher(), email=email, role=role, password=password, name=name
            )
        except RefundflowError as exc:
            raise _fail(exc) from None
    out.print(f"user {email} added with role {role} (id {user_id})")


def _serve(box: Container, host: str, port: int, with_worker: bool) -> None:
    import uvicorn

    from refundflow.entrypoints.web.app import create_app
    from refundflow.entrypoints.worker import start_in_thread

    stop = thread = None
    if with_worker:
        thread, stop = start_in_thread(box)
    try:
        uvicorn.run(
            create_app(box.settings, container=box),
            host=host,
            port=port,
            log_level="info",
            access_log=False,
        )
    finally:
        if stop is not None:
            stop.set()
            if thread is not None:
                thread.join(timeout=10)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="do not run the in-process worker")
    ] = False,
) -> None:
    """Serve the API and pages (with an in-process worker unless --no-worker)."""
    with _container() as box:
        _serve(box, host, port, not no_worker)


@app.command()
def worker() -> None:
    """Run a worker: deliver the outbox. Run as many as you like next to the API."""
    from refundflow.entrypoints.worker import Worker

    stop = threading.Event()
    with _container() as box:
        try:
            Worker(box).run_forever(stop)
        except KeyboardInterrupt:
            stop.set()


FINANCE_CLI = "finance (cli)"


def _finance() -> Actor:
    """The command line acts as finance (whoever can run it can read the database)."""
    from refundflow.domain.actors import ActorKind
    from refundflow.domain.permissions import Role

    return Actor(ActorKind.STAFF, Role.FINANCE, "cli", FINANCE_CLI)


@app.command()
def reconcile(
    route: Annotated[str, typer.Argument(help="alipay, wechat_pay or stripe")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Match a gateway statement with our refunds: Alipay or WeChat Pay bill CSV, Stripe
    balance-transactions export. Lists mismatches; never issues a refund."""
    from refundflow.adapters.gateways.statements import parse_statement
    from refundflow.domain.payouts import PayoutRoute
    from refundflow.services.parsing import parse_enum
    from refundflow.services.payouts.reconcile import reconcile as run_reconcile

    with _container() as box:
        try:
            which = parse_enum(PayoutRoute, route, "route")
            rows = parse_statement(which, file.read_bytes())
            result = run_reconcile(box.uows, which, rows, source=file.name, actor=_finance())
        except RefundflowError as exc:
            raise _fail(exc) from None
    summary = result["summary"]
    out.print(
        f"run {result['run_id']}: {summary['rows']} rows — matched {summary['matched']}, "
        f"amount mismatch {summary['amount_mismatch']}, status mismatch "
        f"{summary['status_mismatch']}, missing ours {summary['missing_ours']}, missing theirs "
        f"{summary['missing_theirs']}; settled from the statement: {len(summary['resolved'])}"
    )
    for item in result["mismatches"]:
        ours = item["ours_minor"]
        theirs = item["theirs_minor"]
        out.print(
            f"  {item['kind']:<16} refund {item['refund_id'] or '-':<6} "
            f"{item['reference'] or '':<32} ours {ours if ours is not None else '-'} "
            f"theirs {theirs if theirs is not None else '-'} {item['detail']}"
        )


@payouts.command("export")
def payouts_export(
    output: Annotated[Path, typer.Argument(dir_okay=False, help="the CSV to write")],
    currency: Annotated[str, typer.Option(help="one batch per currency")] = "CNY",
) -> None:
    """Export pending bank transfers as a payout batch CSV (each transfer only once)."""
    from refundflow.services.payouts.bank import export_batch

    with _container() as box:
        try:
            result = export_batch(box.uows, _finance(), currency)
        except RefundflowError as exc:
            raise _fail(exc) from None
    output.write_text(result["csv"])
    out.print(
        f"batch {result['batch_id']}: {result['count']} transfers, {result['total']} "
        f"{currency} → {output}"
        + (
            f"; without a bank account: {result['missing_account']}"
            if result["missing_account"]
            else ""
        )
    )


@payouts.command("import")
def payouts_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Apply the bank's result file (reference,status,bank_reference,amount,reason)."""
    from refundflow.services.payouts.bank import import_result

    with _container() as box:
        try:
            result = import_result(box.uows, file.read_text(encoding="utf-8-sig"), _finance())
        except RefundflowError as exc:
            raise _fail(exc) from None
    out.print(f"applied {len(result['applied'])} results")
    for problem in result["problems"]:
        out.print(f"  line {problem['line']}: {problem['reference']} — {problem['problem']}")


@app.command(hidden=True)
def quickstart(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """What `make run` does: migrate, load demo data once, print a token, serve."""
    from refundflow.services.auth import issue_token
    from refundflow.services.demo import has_orders

    with _container() as box:
        _migrate(box)
        if not has_orders(box.uows):
            _run_demo(box, 2000, 7)
        token = issue_token(box.uows, "admin", "make run")
        url = f"http://{host}:{port}"
        out.print(f"\nrefundflow is starting on [bold]{url}[/bold]  (API docs: {url}/docs)")
        out.print(f"admin API token: [bold]{token}[/bold]\n")
        _serve(box, host, port, True)


cli_ops.register(app, container=_container, fail=_fail, out=out, err=err)


@imports.command("orders")
def import_orders_command(
    file: Annotated[Path, typer.Argument(help="a .csv (UTF-8) or .xlsx file, one row per line")],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="COLUMN=HEADER: read our column from their header, e.g. --map order_no=订单号",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check everything, write nothing")
    ] = False,
    errors: Annotated[
        Path | None,
        typer.Option(help="where to write the bad rows (default: FILE.errors.csv)"),
    ] = None,
) -> None:
    """Import orders from CSV or Excel (docs/import.md has the columns). Valid orders are
    imported, bad rows are listed in the error report; running it again changes nothing.
    Exit 0: every row imported; 1: some rows refused (the rest imported); 2: nothing read."""
    from refundflow.entrypoints.importing import run_import

    with _container() as box:
        raise typer.Exit(run_import(box, file, map_ or [], dry_run, errors, out, err))


@metrics_app.command("rebuild")
def metrics_rebuild(
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="roll up every day with data again, not only the days changed since the "
            "worker last did (after restoring a backup or changing the time zone)",
        ),
    ] = False,
) -> None:
    """Roll up the dashboard's changed days now instead of waiting for the worker (after an
    upgrade or a large import). The figures are the same either way: days not rolled up are
    read from the requests themselves, only slower."""
    from refundflow.services.metrics import pending_rollups, rebuild_rollups

    with _container() as box:
        with Progress(
            TextColumn("rolling up days"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as progress:
            task = progress.add_task("days", total=None)
            done = rebuild_rollups(
                box.uows,
                everything=everything,
                progress=lambda n, total: progress.update(task, completed=n, total=total),
            )
        left = pending_rollups(box.uows)
        out.print(f"rolled up {done} days; {left} days with changes made meanwhile pending")


@app.command("export")
def export_command(
    start: Annotated[str, typer.Option("--from", help="first day (2026-11-01) or date-time")],
    end: Annotated[str, typer.Option("--to", help="day after the last (exclusive)")],
    format: Annotated[str, typer.Option(help="csv or xlsx")] = "csv",
    by: Annotated[str, typer.Option(help="created, updated or refunded")] = "created",
    output: Annotated[Path | None, typer.Option(help="file to write")] = None,
) -> None:
    """Export refund requests of a period for finance or an ERP (CSV or Excel)."""
    from refundflow.entrypoints.importing import run_export

    with _container() as box:
        raise typer.Exit(run_export(box, start, end, format, by, output, out, err))


def main() -> None:
    try:
        app()
    except RefundflowError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        sys.exit(1)


if __name__ == "__main__":
    main()
