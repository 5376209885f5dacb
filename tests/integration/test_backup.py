"""Backups taken while the shop is writing restore into a fresh database with every
request and refund record that was committed before the backup began, and nothing
half-written."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from refundflow.domain.lifecycle import Action
from refundflow.entrypoints.bootstrap import Container
from refundflow.services.auth import issue_token
from tests.integration.api import order_body, request_body
from tests.integration.payouts import act, approved_request, paid_order
from tests.tools import pgserver
from tests.tools.servers import running_servers

pytestmark = pytest.mark.slow


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REFUNDFLOW_DATABASE_URL": url, "REFUNDFLOW_ENVIRONMENT": "test"}
    return subprocess.run(
        [sys.executable, "-m", "refundflow.entrypoints.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _fresh_database(db_url: str, tmp_path: Path, pg_server: Any) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    return str(pg_server.create_database(f"{pgserver.run_prefix()}restore_{os.getpid()}"))


def _refunds(url: str) -> dict[str, int]:
    """Refund records: idempotency key → amount in minor units."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT idempotency_key, amount_minor FROM refunds")).all()
    finally:
        engine.dispose()
    return {str(key): int(amount) for key, amount in rows}


def _requests(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT number, status FROM refund_requests")).all()
    finally:
        engine.dispose()
    return {str(number): str(status) for number, status in rows}


def test_a_backup_under_write_load_restores_every_committed_request(
    db_url: str, box: Container, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    token = issue_token(box.uows, "admin", "load")
    committed: list[tuple[float, str]] = []  # (time committed, number)
    # Money already on its way back: refund records (store credit and Alipay) before the load.
    for i in range(6):
        order_no = f"BK-PAID-{i}"
        paid_order(box, None, order_no, [("store_credit", "30.00"), ("alipay", "70.00")])
        act(box, approved_request(box, order_no), Action.EXECUTE)
    refunds_before = _refunds(db_url)
    assert len(refunds_before) == 12
    committed.extend((0.0, number) for number in _requests(db_url))
    stop = threading.Event()
    failures: list[str] = []

    with running_servers(db_url) as (url,):

        def write(writer: int) -> None:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
                n = 0
                while not stop.is_set():
                    n += 1
                    no = f"BK-{writer}-{n}"
                    if api.post("/api/v1/orders", json=order_body(no)).status_code != 201:
                        failures.append(f"order {no}")
                        continue
                    created = api.post("/api/v1/refund-requests", json=request_body(no))
                    if created.status_code != 201:
                        failures.append(f"request {no}: {created.text}")
                        continue
                    committed.append((time.monotonic(), created.json()["number"]))

        writers = [threading.Thread(target=write, args=(i,)) for i in range(2)]
        for writer in writers:
            writer.start()
        while len(committed) < 30:  # the shop is busy before the backup starts
            stop.wait(0.05)
        started = time.monotonic()
        target = tmp_path / "shop.backup"
        backed_up = _cli(db_url, "backup", str(target))
        while len(committed) < len([c for c in committed if c[0] <= started]) + 20:
            stop.wait(0.05)  # and goes on writing after it
        stop.set()
        for writer in writers:
            writer.join()
    assert backed_up.returncode == 0, backed_up.stderr
    assert failures == []
    assert _cli(db_url, "backup", str(target)).returncode == 1, "an existing file is kept"

    pg_server = request.getfixturevalue("pg_server") if db_url.startswith("postgresql") else None
    fresh = _fresh_database(db_url, tmp_path, pg_server)
    restored = _cli(fresh, "restore", str(target))
    assert restored.returncode == 0, restored.stderr
    again = _cli(fresh, "restore", str(target))
    assert again.returncode == 1 and "--replace" in again.stderr, "a database with data is kept"

    found = _requests(fresh)
    before = {number for at, number in committed if at <= started}
    assert before <= set(found), "every request committed before the backup is restored"
    assert set(found) <= {number for _, number in committed}, "nothing that was never committed"
    assert len(before) >= 30
    live = _requests(db_url)
    assert all(live[number] == status or number not in before for number, status in found.items())
    assert _refunds(fresh).items() >= refunds_before.items(), "every refund record, same amount"
    print(
        f"\nbackup under load ({db_url.split(':')[0]}): {len(before)} requests committed "
        f"before the backup, {len(found)} restored; {len(refunds_before)} refund records "
        "restored with their amounts"
    )
    assert _cli(fresh, "audit", "verify").returncode == 0
    if pg_server is not None:
        pg_server.drop_database(fresh.rsplit("/", 1)[1])


def test_restore_refuses_a_file_that_is_not_a_backup(db_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database")
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}" if db_url.startswith("sqlite") else db_url
    done = _cli(fresh, "restore", str(junk), "--replace")
    assert done.returncode == 1
    assert "error" in done.stderr
    missing = _cli(fresh, "restore", str(tmp_path / "nothing.backup"))
    assert missing.returncode == 1 and "not a backup file" in missing.stderr
