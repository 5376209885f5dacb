"""Migrations run forwards and backwards on both databases; readiness knows when they lag."""

from __future__ import annotations

from refundflow.adapters.db.engine import make_engine
from refundflow.adapters.db.migrate import current_revision, head_revision, is_current, upgrade
from tests.tools.pgserver import PgServer, run_prefix


def _downgrade_all(url: str) -> None:
    from alembic import command

    from refundflow.adapters.db.migrate import _config

    engine = make_engine(url)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    engine.dispose()


def test_sqlite_migrates_up_down_and_up_again(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    engine = make_engine(url)
    assert not is_current(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
    _downgrade_all(url)
    engine = make_engine(url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert is_current(engine)
    engine.dispose()


def test_postgresql_migrates_up_down_and_up_again(pg_server: PgServer) -> None:
    name = f"{run_prefix()}migrations"
    url = pg_server.create_database(name)
    try:
        engine = make_engine(url)
        upgrade(engine)
        assert is_current(engine)
        engine.dispose()
        _downgrade_all(url)
        engine = make_engine(url)
        assert current_revision(engine) is None
        upgrade(engine)
        assert is_current(engine)
        engine.dispose()
    finally:
        pg_server.drop_database(name)


def test_the_migrations_build_exactly_the_tables_the_code_declares(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from refundflow.adapters.db.schema import metadata

    engine = make_engine(db_url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert differences == []
