"""Fixtures shared by the suite: databases (SQLite and PostgreSQL), a controlled clock, the
app, tokens per role, and a snapshot of every table to prove that refusals change nothing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from refundflow.adapters.db.schema import metadata
from refundflow.entrypoints.bootstrap import Container, bootstrap, migrate
from refundflow.entrypoints.settings import Settings
from refundflow.services.auth import issue_token
from refundflow.services.clock import ManualClock
from tests.tools import pgserver

START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    # In the controller (or a plain run) find or start PostgreSQL once; xdist workers
    # inherit the environment variables this sets.
    if not hasattr(config, "workerinput"):
        pgserver.run_prefix()
        try:
            pgserver.find_server()
        except pgserver.PostgresUnavailableError as exc:
            raise pytest.UsageError(f"PostgreSQL is required by the suite: {exc}") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and os.environ.get(pgserver.SHARED_ENV):
        pgserver.PgServer(os.environ[pgserver.SHARED_ENV]).drop_run_databases(pgserver.run_prefix())


def _migrate(url: str) -> None:
    """Schema at head and the default policy published, as `refundflow migrate` leaves it."""
    box = bootstrap(Settings(database_url=url, environment="test"), clock=lambda: START)
    try:
        migrate(box)
    finally:
        box.close()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# ---------------------------------------------------------------- templates (once per worker)
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")  # closing the last connection checkpoints the WAL
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def pg_server() -> pgserver.PgServer:
    return pgserver.find_server()


@pytest.fixture(scope="session")
def pg_template(pg_server: pgserver.PgServer) -> str:
    name = f"{pgserver.run_prefix()}tmpl_{_worker()}"
    _migrate(pg_server.create_database(name))
    return name


_counter = iter(range(1, 10**9))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "refundflow.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(pg_server: pgserver.PgServer, pg_template: str) -> Iterator[str]:
    name = f"{pgserver.run_prefix()}{_worker()}_{next(_counter)}"
    url = pg_server.create_database(name, template=pg_template)
    yield url
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(fixture))


# ---------------------------------------------------------------- the application
@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, environment="test", token_cache_seconds=0)


@pytest.fixture
def box(settings: Settings, clock: ManualClock) -> Iterator[Container]:
    container = bootstrap(settings, clock=clock.now)
    yield container
    container.close()


ROLES = ("admin", "manager", "cs", "warehouse", "finance", "integration")


@pytest.fixture
def tokens(box: Container) -> dict[str, str]:
    return {role: issue_token(box.uows, role, f"test {role}") for role in ROLES}


# ---------------------------------------------------------------- proving "nothing changed"
def snapshot(box: Container) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order (api_tokens' last use excluded: reading
    with a token is allowed to touch it; the audit trail excluded: it records refusals)."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    with box.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "audit_events":
                continue
            columns = [c.name for c in table.columns if c.name != "last_used_at"]
            result = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table.name}"))
            rows[table.name] = sorted((tuple(r) for r in result), key=repr)
    return rows


REVIEW_EVERYTHING = {
    "rules": [{"id": "all", "name": "全部人工审核", "conditions": [], "outcome": "review"}]
}


def publish(box: Container, document: dict[str, object]) -> int:
    """Publish ``document`` as the next policy version, through the use cases."""
    from refundflow.domain.actors import Actor, ActorKind
    from refundflow.domain.permissions import Role
    from refundflow.services.policies import publish_draft, put_draft

    manager = Actor(ActorKind.STAFF, Role.MANAGER, "manager-1", "manager")
    put_draft(box.uows, manager, {k: v for k, v in document.items() if k != "version"})
    return int(publish_draft(box.uows, manager)["version"])


@pytest.fixture
def manual_review(box: Container) -> int:
    """A published policy that sends every new request to review (lifecycle tests)."""
    return publish(box, REVIEW_EVERYTHING)
