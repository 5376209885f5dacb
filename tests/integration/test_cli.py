"""The refundflow command: migrate, demo, tokens, users, and clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from refundflow.adapters.db.migrate import head_revision


def cli(*args: str, url: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "refundflow.entrypoints.cli", *args],
        env={**os.environ, "REFUNDFLOW_DATABASE_URL": url, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def count(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())
    engine.dispose()
    return value


@pytest.fixture
def empty_sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fresh.db'}"


def test_migrate_creates_the_schema_and_is_safe_to_repeat(empty_sqlite: str) -> None:
    assert "database at head" in cli("migrate", url=empty_sqlite).stdout
    cli("migrate", url=empty_sqlite)
    engine = create_engine(empty_sqlite)
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    engine.dispose()
    assert version == head_revision()
    assert count(empty_sqlite, "reason_codes") == 8


def test_demo_writes_a_believable_history_and_refuses_to_load_twice(empty_sqlite: str) -> None:
    cli("migrate", url=empty_sqlite)
    result = cli("demo", "--orders", "300", "--seed", "3", url=empty_sqlite)
    assert "loaded 300 orders" in result.stdout
    assert count(empty_sqlite, "orders") == 300
    requests = count(empty_sqlite, "refund_requests")
    assert 60 <= requests <= 140
    again = cli("demo", "--orders", "300", "--seed", "3", url=empty_sqlite, check=False)
    assert again.returncode == 1
    assert "already loaded" in again.stderr


def test_demo_refuses_an_unmigrated_database(empty_sqlite: str) -> None:
    result = cli("demo", url=empty_sqlite, check=False)
    assert result.returncode == 1
    assert "refundflow migrate" in result.stderr


def test_tokens_create_prints_the_token_alone_on_the_last_line(empty_sqlite: str) -> None:
    cli("migrate", url=empty_sqlite)
    out = cli("tokens", "create", "--role", "finance", "--name", "ERP", url=empty_sqlite).stdout
    last = out.strip().splitlines()[-1]
    assert last.startswith("rf_") and " " not in last
    assert count(empty_sqlite, "api_tokens") == 1


def test_a_revoked_token_is_refused_within_the_cache_period(empty_sqlite: str) -> None:
    from fastapi.testclient import TestClient

    from refundflow.entrypoints.settings import Settings
    from refundflow.entrypoints.web.app import create_app

    cli("migrate", url=empty_sqlite)
    token = cli("tokens", "create", "--role", "cs", "--name", "call centre", url=empty_sqlite)
    secret = token.stdout.strip().splitlines()[-1]
    settings = Settings(database_url=empty_sqlite, environment="test", token_cache_seconds=0.5)
    with TestClient(create_app(settings)) as web:
        me = {"Authorization": f"Bearer {secret}"}
        assert web.get("/api/v1/reason-codes", headers=me).status_code == 200
        listed = cli("tokens", "list", url=empty_sqlite).stdout
        assert "\tcs\tcall centre\t" in listed and "live" in listed
        assert "used never" not in listed, "the last use is recorded"
        assert secret not in listed
        token_id = listed.split("\t", 1)[0]
        assert "revoked" in cli("tokens", "revoke", token_id, url=empty_sqlite).stdout
        time.sleep(0.6)  # the cache period (REFUNDFLOW_TOKEN_CACHE_SECONDS, at most 60)
        assert web.get("/api/v1/reason-codes", headers=me).status_code == 401
    again = cli("tokens", "revoke", token_id, url=empty_sqlite, check=False)
    assert again.returncode == 1 and "no live API token" in again.stderr
    assert "revoked" in cli("tokens", "list", url=empty_sqlite).stdout


def test_a_bad_role_fails_with_a_message_and_writes_nothing(empty_sqlite: str) -> None:
    cli("migrate", url=empty_sqlite)
    result = cli("tokens", "create", "--role", "boss", url=empty_sqlite, check=False)
    assert result.returncode == 1
    assert "role must be one of" in result.stderr
    assert count(empty_sqlite, "api_tokens") == 0


def test_users_add_hashes_the_password_and_refuses_duplicates(empty_sqlite: str) -> None:
    cli("migrate", url=empty_sqlite)
    args = (
        "users",
        "add",
        "--email",
        "Wang@Shop.cn",
        "--role",
        "cs",
        "--password",
        "correct horse battery",
    )
    assert "added" in cli(*args, url=empty_sqlite).stdout
    engine = create_engine(empty_sqlite)
    with engine.connect() as conn:
        email, hashed = conn.exec_driver_sql("SELECT email, password_hash FROM users").one()
    engine.dispose()
    assert email == "wang@shop.cn"
    assert hashed.startswith("$argon2id$")
    again = cli(*args, url=empty_sqlite, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
    short = cli(
        "users",
        "add",
        "--email",
        "a@b.cn",
        "--role",
        "cs",
        "--password",
        "short",
        url=empty_sqlite,
        check=False,
    )
    assert short.returncode == 1 and "at least 10 characters" in short.stderr


def test_bad_settings_fail_with_the_setting_named(empty_sqlite: str) -> None:
    result = cli("migrate", url=empty_sqlite, check=False, REFUNDFLOW_TIMEZONE="Mars/Base")
    assert result.returncode == 2
    assert "unknown time zone" in result.stderr
    prod = cli("migrate", url=empty_sqlite, check=False, REFUNDFLOW_ENVIRONMENT="production")
    assert prod.returncode == 2
    assert "REFUNDFLOW_SECRET_KEY" in prod.stderr


def test_metrics_rebuild_rolls_up_every_changed_day_at_once(empty_sqlite: str) -> None:
    cli("migrate", url=empty_sqlite)
    cli("demo", "--orders", "200", "--seed", "4", url=empty_sqlite)
    assert count(empty_sqlite, "metric_changes") > 0
    result = cli("metrics", "rebuild", url=empty_sqlite)
    days = int(result.stdout.split("rolled up ")[1].split()[0])
    assert days >= 60  # 90 days of demo history
    assert count(empty_sqlite, "metric_days") == days
    assert count(empty_sqlite, "metric_changes") == 0
    again = cli("metrics", "rebuild", "--all", url=empty_sqlite)
    assert f"rolled up {days} days" in again.stdout
    assert "rolling up days" in again.stderr  # the progress bar
    assert "--all" in cli("metrics", "rebuild", "--help", url=empty_sqlite).stdout


def test_help_explains_every_command(empty_sqlite: str) -> None:
    out = cli("--help", url=empty_sqlite).stdout
    for command in ("serve", "worker", "migrate", "demo", "tokens", "users", "metrics"):
        assert command in out
