"""Find a PostgreSQL server for the test run, or start a throwaway one.

In order (the first that works wins):
1. ``REFUNDFLOW_TEST_PG_URL`` if set;
2. a server already listening on 127.0.0.1:5432 with trust auth (CI and development
   machines run PostgreSQL 15 there with a database ``test``);
3. a throwaway cluster started here with ``initdb``/``pg_ctl`` in a temporary directory on a
   free port and stopped at exit; the binaries are installed from Debian's packages when
   missing and we are root.
If none works the run fails with a message that says what was tried: PostgreSQL tests are
never skipped silently.

Each test run creates its own databases (``refundflow_t<run>_…``) and drops them at the end.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import make_url

ENV_URL = "REFUNDFLOW_TEST_PG_URL"
# Set by the first process (the xdist controller) so that workers reuse its server.
SHARED_ENV = "REFUNDFLOW__TEST_PG_SERVER"


class PostgresUnavailableError(RuntimeError):
    pass


@dataclass(frozen=True)
class PgServer:
    """An admin connection string (libpq form) to a server we may create databases on."""

    dsn: str

    def url(self, database: str) -> str:
        url = make_url(_sqlalchemy_url(self.dsn)).set(database=database)
        return url.render_as_string(hide_password=False)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_run_databases(self, prefix: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)
                )
            ]
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlalchemy_url(dsn: str) -> str:
    if dsn.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + dsn.split("://", 1)[1]
    return dsn


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _usable(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bindir() -> str | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _install_postgres() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "postgresql"],
        check=False,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def _start_throwaway() -> str:
    bindir = _pg_bindir()
    if bindir is None:
        _install_postgres()
        bindir = _pg_bindir()
    if bindir is None:
        raise PostgresUnavailableError(
            "no PostgreSQL for the tests: set REFUNDFLOW_TEST_PG_URL, run a server on "
            "127.0.0.1:5432, or install Debian's 'postgresql' package (initdb/pg_ctl)"
        )
    root = tempfile.mkdtemp(prefix="refundflow-pg-")
    data = os.path.join(root, "data")
    port = _free_port()
    user = "postgres"
    run_as: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root; use the postgres system user when there is one.
        os.chmod(root, 0o777)
        run_as = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else []
        if not run_as:
            raise PostgresUnavailableError("cannot run initdb as root and no 'runuser' found")
    subprocess.run(
        [*run_as, f"{bindir}/initdb", "-D", data, "-U", user, "-A", "trust", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            *run_as,
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-l",
            os.path.join(root, "log"),
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "-w",
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )

    def stop() -> None:
        subprocess.run(
            [*run_as, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    dsn = f"postgresql://{user}@127.0.0.1:{port}/postgres"
    deadline = time.monotonic() + 30
    while not _usable(dsn):
        if time.monotonic() > deadline:
            raise PostgresUnavailableError(f"the throwaway PostgreSQL in {root} did not start")
        time.sleep(0.2)
    return dsn


def find_server() -> PgServer:
    """The server for this run (found or started once, then shared with xdist workers)."""
    shared = os.environ.get(SHARED_ENV)
    if shared:
        return PgServer(shared)
    explicit = os.environ.get(ENV_URL)
    if explicit:
        dsn = _libpq(explicit)
        if not _usable(dsn):
            raise PostgresUnavailableError(f"{ENV_URL}={explicit} does not accept connections")
        return _share(dsn)
    local = (
        "postgresql://postgres@127.0.0.1:5432/test",
        f"postgresql://{os.environ.get('USER', 'root')}@127.0.0.1:5432/test",
        "postgresql://postgres@127.0.0.1:5432/postgres",
    )
    # REFUNDFLOW_TEST_PG_THROWAWAY=1 skips the local server (to test the fallback).
    if not os.environ.get("REFUNDFLOW_TEST_PG_THROWAWAY"):
        for dsn in local:
            if _usable(dsn):
                return _share(dsn)
    return _share(_start_throwaway())


def _share(dsn: str) -> PgServer:
    os.environ[SHARED_ENV] = dsn
    return PgServer(dsn)


def run_prefix() -> str:
    """A database-name prefix unique to this test run (shared by its xdist workers)."""
    key = "REFUNDFLOW__TEST_RUN_ID"
    if key not in os.environ:
        os.environ[key] = uuid.uuid4().hex[:8]
    return f"refundflow_t{os.environ[key]}_"
