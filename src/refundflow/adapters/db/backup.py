"""Backups while the shop runs: SQLite's online backup API (a consistent snapshot that
does not stop writers in WAL mode), ``pg_dump``/``pg_restore`` for PostgreSQL."""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, inspect, make_url, text

from refundflow.domain.errors import ConflictError, InvalidInputError


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InvalidInputError("an in-memory database has nothing to back up")
    return Path(database)


def _pg_tool(name: str) -> str:
    """The newest client on the machine (Debian keeps them per version, off the PATH)."""
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(bindir, name).exists():
            return str(Path(bindir, name))
    found = shutil.which(name)
    if found is None:
        raise ConflictError(f"{name} is not installed: install PostgreSQL's client programs")
    return found


def _run_pg(args: list[str], url: str) -> None:
    """Run a PostgreSQL client; the password goes by environment, never on the command
    line where ``ps`` would show it."""
    parsed = make_url(url)
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string()
    done = subprocess.run([*args, dsn], capture_output=True, env=env, check=False)  # noqa: S603
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise ConflictError(f"{Path(args[0]).name} failed: {message[-1] if message else '?'}")


def backup(engine: Engine, target: Path) -> None:
    """Write a backup of the database to ``target`` (refused if it exists)."""
    if target.exists():
        raise ConflictError(f"{target} exists: choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        partial = target.with_name(target.name + ".partial")
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(partial)
        try:
            # All pages in one step: one read transaction, a consistent snapshot, and
            # writers go on (WAL). Copying in slices would restart at every write.
            with copy:
                source.backup(copy, pages=-1)
            (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise ConflictError(f"the backup failed its integrity check: {verdict}")
        finally:
            copy.close()
            source.close()
        partial.rename(target)  # a backup file exists only once it is whole
        return
    partial = target.with_name(target.name + ".partial")
    _run_pg([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "-f", str(partial)], url)
    partial.rename(target)


def restore(engine: Engine, source: Path, *, replace: bool = False) -> None:
    """Load a backup into the configured database. An existing database with refund data
    is only overwritten with ``replace``."""
    if not source.is_file():
        raise InvalidInputError(f"{source} is not a backup file")
    url = engine.url.render_as_string(hide_password=False)
    if not replace and _has_data(engine):
        raise ConflictError(
            "the target database already holds orders: restore into a fresh database, "
            "or pass --replace to overwrite it"
        )
    engine.dispose()
    if engine.dialect.name == "sqlite":
        try:
            with closing(sqlite3.connect(source)) as check:
                (verdict,) = check.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise InvalidInputError(f"{source} is not a SQLite backup: {exc}") from None
        if verdict != "ok":
            raise InvalidInputError(f"{source} is damaged: {verdict}")
        reader = sqlite3.connect(source)
        writer = sqlite3.connect(_sqlite_path(url))
        try:
            reader.backup(writer)
        finally:
            reader.close()
            writer.close()
        return
    _run_pg(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            str(source),
            "-d",
        ],
        url,
    )


def _has_data(engine: Engine) -> bool:
    if "orders" not in inspect(engine).get_table_names():
        return False
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1 FROM orders LIMIT 1")).first() is not None
