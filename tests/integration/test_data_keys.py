"""Payees' bank accounts are encrypted at rest: the database holds no digit run of the
account anywhere, the API still pays and shows it, and `refundflow keys rotate` moves every
stored account to a new key so that the old one can be dropped."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from sqlalchemy import text

from refundflow.adapters.crypto import DataKeyError, load_cipher
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.entrypoints.settings import Settings
from refundflow.services.clock import ManualClock
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
ACCOUNT = {"account_name": "王芳", "bank_name": "招商银行", "account_no": "6217003319870042"}


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, environment="test", token_cache_seconds=0, data_keys=OLD)


@pytest.fixture
def record_id(api: Api, manual_review: int) -> int:
    payments = [{"method": "cash_on_delivery", "amount": "1019.00", "reference": "COD-1"}]
    assert (
        api.as_("integration").post("/api/v1/orders", json=order_body(payments=payments))
    ).status_code == 201
    created = api.as_("cs").post("/api/v1/refund-requests", json=request_body(type="refund_only"))
    rid = created.json()["id"]
    assert api.as_("cs").act(rid, "approve").status_code == 200
    executed = api.as_("finance").act(rid, "execute", **ACCOUNT)
    assert executed.status_code == 200, executed.text
    return int(executed.json()["refunds"][0]["id"])


def _raw(box: Container, record_id: int) -> str:
    with box.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT payout_account FROM refunds WHERE id = :id"), {"id": record_id}
            ).scalar_one()
        )


def _runs(value: str, size: int = 4) -> set[str]:
    return {value[i : i + size] for i in range(len(value) - size + 1)}


def test_the_database_holds_no_run_of_five_digits_of_the_account(
    api: Api, box: Container, record_id: int
) -> None:
    raw = _raw(box, record_id)
    assert raw.startswith("enc1:")
    assert not any(run in raw for run in _runs(ACCOUNT["account_no"], 5)), raw
    assert ACCOUNT["account_name"] not in raw
    everything = repr(snapshot(box))
    leaks = sorted(run for run in _runs(ACCOUNT["account_no"], 8) if run in everything)
    assert leaks == [], "no table holds eight digits of the account in a row"
    shown = api.as_("finance").get(f"/api/v1/refunds/{record_id}", params={"unmask": "true"})
    assert shown.json()["payout_account"] == ACCOUNT, "and it reads back whole"


def _cli(url: str, keys: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refundflow.entrypoints.cli", *args],
        env={**os.environ, "REFUNDFLOW_DATABASE_URL": url, "REFUNDFLOW_DATA_KEYS": keys},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _account_with(db_url: str, keys: str, record_id: int, clock: ManualClock) -> object:
    other = bootstrap(
        Settings(database_url=db_url, environment="test", data_keys=keys), clock=clock.now
    )
    try:
        with other.uows(write=False) as uow:
            record = uow.refunds.get(record_id)
            assert record is not None
            return record.payout_account
    finally:
        other.close()


def test_rotation_moves_every_account_to_the_new_key_and_the_old_key_can_go(
    db_url: str, box: Container, record_id: int, clock: ManualClock
) -> None:
    # An account stored before encryption existed is rotated too.
    with box.engine.begin() as conn:
        conn.execute(
            text("UPDATE refunds SET payout_account = :v WHERE id = :id"),
            {"v": json.dumps(ACCOUNT, ensure_ascii=False), "id": record_id},
        )
    assert _account_with(db_url, f"{NEW},{OLD}", record_id, clock) == ACCOUNT
    before = _raw(box, record_id)

    rotated = _cli(db_url, f"{NEW},{OLD}", "keys", "rotate")

    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 1 bank accounts" in rotated.stdout
    after = _raw(box, record_id)
    assert after != before and after.startswith("enc1:")
    assert _account_with(db_url, NEW, record_id, clock) == ACCOUNT, "the new key alone reads it"
    with pytest.raises(DataKeyError):
        _account_with(db_url, OLD, record_id, clock)
    again = _cli(db_url, f"{NEW},{OLD}", "keys", "rotate")
    assert "re-encrypted 0 bank accounts" in again.stdout
    assert "1 were already current" in again.stdout
    with box.engine.connect() as conn:
        actions = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'keys.rotate'")
        ).scalar_one()
    assert actions == 2


def test_a_key_from_the_old_set_only_is_refused_with_a_clear_error(
    db_url: str, box: Container, record_id: int, clock: ManualClock
) -> None:
    assert _account_with(db_url, OLD, record_id, clock) == ACCOUNT
    with pytest.raises(DataKeyError, match="REFUNDFLOW_DATA_KEYS"):
        _account_with(db_url, NEW, record_id, clock)
    rotated = _cli(db_url, NEW, "keys", "rotate")
    assert rotated.returncode == 1 and "cannot be decrypted" in rotated.stderr


def test_without_keys_a_development_key_is_made_once_in_the_data_dir(tmp_path: Path) -> None:
    first = load_cipher(None, str(tmp_path / "data"))
    key_file = tmp_path / "data" / "data.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = load_cipher(None, str(tmp_path / "data"))
    assert second.decrypt(first.encrypt("6225880112345678")) == "6225880112345678"
    assert load_cipher(None, str(tmp_path / "elsewhere")).key_count == 1
    with pytest.raises(DataKeyError):
        load_cipher(None, str(tmp_path / "elsewhere")).decrypt(first.encrypt("x"))


def test_production_refuses_to_start_without_data_keys() -> None:
    with pytest.raises(ValidationError, match="REFUNDFLOW_DATA_KEYS"):
        Settings(environment="production", secret_key="k" * 40)
    Settings(environment="production", secret_key="k" * 40, data_keys=NEW)
