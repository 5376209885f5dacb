"""The audit trail is tamper-evident: one changed byte in any row, or a row removed from the
middle, makes `refundflow audit verify` exit non-zero and name the row where the chain
breaks; an untouched trail verifies."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from refundflow.entrypoints.bootstrap import Container
from tests.integration.api import Api, order_body, request_body


def _verify(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refundflow.entrypoints.cli", "audit", "verify"],
        env={**os.environ, "REFUNDFLOW_DATABASE_URL": url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def trail(api: Api, box: Container) -> list[tuple[int, str, str]]:
    """A few requests' worth of audit rows: (id, actor, detail), oldest first."""
    for n in range(3):
        no = f"AU-{n}"
        assert api.as_("integration").post("/api/v1/orders", json=order_body(no)).status_code == 201
        created = api.as_("cs").post("/api/v1/refund-requests", json=request_body(no))
        assert created.status_code == 201, created.text
    with box.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, actor, detail FROM audit_events ORDER BY id")).all()
    assert len(rows) >= 3
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def _one_byte_changed(value: str) -> str:
    """The first digit moved by one (an amount in the JSON), else the last character."""
    for i, ch in enumerate(value):
        if ch.isdigit():
            return value[:i] + str((int(ch) + 1) % 10) + value[i + 1 :]
    return value[:-1] + chr(ord(value[-1]) ^ 1)


def test_an_untouched_audit_trail_verifies(db_url: str, trail: list[tuple[int, str, str]]) -> None:
    result = _verify(db_url)
    assert result.returncode == 0, result.stderr
    assert f"audit chain intact: {len(trail)} rows" in result.stdout


@pytest.mark.parametrize("column", ["detail", "actor"])
def test_one_changed_byte_in_a_row_fails_verify_and_names_that_row(
    db_url: str, box: Container, trail: list[tuple[int, str, str]], column: str
) -> None:
    row_id, actor, detail = trail[len(trail) // 2]
    original = detail if column == "detail" else actor
    forged = _one_byte_changed(original)
    assert forged != original and len(forged) == len(original)
    with box.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE audit_events SET {column} = :v WHERE id = :id"),
            {"v": forged, "id": row_id},
        )

    result = _verify(db_url)

    assert result.returncode == 1
    assert f"broken at row {row_id}" in " ".join(result.stderr.split())


def test_a_row_deleted_from_the_middle_fails_verify_at_the_row_after_it(
    db_url: str, box: Container, trail: list[tuple[int, str, str]]
) -> None:
    gone = trail[len(trail) // 2][0]
    after = next(row_id for row_id, _, _ in trail if row_id > gone)
    with box.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": gone})

    result = _verify(db_url)

    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"broken at row {after}" in message
