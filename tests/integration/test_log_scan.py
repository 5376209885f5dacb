"""Logs carry no secrets: a representative day (an order with a phone, a refund request,
a portal sign-in by code, a bank-transfer payout, the worker delivering it all) logged at
DEBUG for every logger holds no full phone number, bank account number, API or portal
token, or login code."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.services.clock import ManualClock
from tests.integration.api import Api, order_body, request_body
from tests.integration.payouts import drain

PHONE = "13912345678"
ACCOUNT_NO = "6225880112345678"


@pytest.fixture
def settings(db_url: str) -> Settings:
    """SMS and e-mail configured towards closed ports: codes are queued, sending fails (and
    failures are what gets logged)."""
    return Settings(
        database_url=db_url,
        environment="test",
        token_cache_seconds=0,
        smtp_url="smtp://127.0.0.1:9",
        sms_provider="webhook",
        sms_url="http://127.0.0.1:9/sms",
        sms_webhook_secret="s" * 32,
        rate_limits=False,
    )


def _login_codes(box: Container) -> list[str]:
    """The codes sent so far, read by the test unlogged (the rows hold the codes)."""
    logging.disable(logging.CRITICAL)
    try:
        with box.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT content FROM notifications WHERE notice = 'login_code'"
            ).all()
    finally:
        logging.disable(logging.NOTSET)
    return [m.group(1) for (content,) in rows if (m := re.search(r"\b(\d{6})\b", content))]


def test_a_day_of_refunds_logged_at_debug_leaks_no_personal_data_or_secrets(
    api: Api,
    box: Container,
    clock: ManualClock,
    tokens: dict[str, str],
    manual_review: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # the root: every logger, SQLAlchemy's and httpx's too
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "sqlalchemy.engine", "httpx"):
        caplog.set_level(logging.DEBUG, logger=name)  # restored after the test
    secrets: list[str] = [PHONE, ACCOUNT_NO, *tokens.values()]

    payments = [{"method": "cash_on_delivery", "amount": "1019.00", "reference": "COD-1"}]
    order = api.as_("integration").post("/api/v1/orders", json=order_body(payments=payments))
    assert order.status_code == 201, order.text
    lookup = {"order_no": "TM-1001", "contact": PHONE}
    assert api.client.post("/api/v1/portal/lookup", json=lookup).status_code == 202
    [code] = _login_codes(box)
    signed_in = api.client.post("/api/v1/portal/verify", json={**lookup, "code": code})
    assert signed_in.status_code == 200, signed_in.text
    portal_token = signed_in.json()["token"]
    secrets += [portal_token]
    me = {"Authorization": f"Bearer {portal_token}"}
    created = api.client.post(
        "/api/v1/portal/refund-requests", headers=me, json=request_body(type="refund_only")
    )
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    wrong = api.client.post(
        "/api/v1/portal/verify", json={**lookup, "code": f"{(int(code) + 1) % 10**6:06d}"}
    )
    assert wrong.status_code == 401
    assert api.as_("cs").act(rid, "approve").status_code == 200
    account = {"account_name": "王芳", "bank_name": "招商银行", "account_no": ACCOUNT_NO}
    assert api.as_("finance").act(rid, "execute", **account).status_code == 200
    refused = api.as_("warehouse").get("/api/v1/orders/TM-1001", params={"unmask": "true"})
    assert refused.status_code == 403
    drain(box, clock)  # notifications and the payout, through the worker
    assert api.client.get(f"/api/v1/portal/refund-requests/{rid}", headers=me).status_code == 200
    batch = api.as_("finance").post("/api/v1/payout-batches")
    assert batch.status_code in (200, 201), batch.text

    logged = _all_text(caplog.records)
    assert len(caplog.records) > 0, "nothing was logged: the scan would prove nothing"
    planted = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", (PHONE,), None)
    assert PHONE in _all_text([planted]), "the scan reads arguments"
    hits = {s[:12] + "…": logged.count(s) for s in [*secrets, code] if s in logged}
    print(f"log scan: {len(caplog.records)} records, {len(hits)} secrets found: {hits}")
    assert hits == {}


def _all_text(records: list[logging.LogRecord]) -> str:
    parts: list[str] = []
    for record in records:
        parts.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(repr(record.exc_info[1]))
        if record.exc_text:
            parts.append(record.exc_text)
        parts.append(repr({k: v for k, v in vars(record).items() if k not in {"msg", "args"}}))
        parts.append(_args(record.args))
    return "\n".join(parts)


def _args(args: Any) -> str:
    try:
        return repr(args)
    except Exception:
        return ""


def test_a_real_server_writes_no_personal_data_or_secrets_to_its_output(
    db_url: str,
    box: Container,
    tokens: dict[str, str],
    manual_review: int,
    tmp_path: Any,
) -> None:
    """The same flow over HTTP against `refundflow serve` (uvicorn as deployed, with its
    own logging): everything the process prints is scanned."""
    import os
    import subprocess
    import sys
    import time

    import httpx

    from tests.tools.servers import free_port

    port = free_port()
    output = tmp_path / "server.log"
    env = {
        **os.environ,
        "REFUNDFLOW_DATABASE_URL": db_url,
        "REFUNDFLOW_ENVIRONMENT": "test",
        "REFUNDFLOW_SMS_PROVIDER": "webhook",
        "REFUNDFLOW_SMS_URL": "http://127.0.0.1:9/sms",
        "REFUNDFLOW_SMS_WEBHOOK_SECRET": "s" * 32,
        "REFUNDFLOW_RATE_LIMITS": "false",
    }
    with output.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "refundflow.entrypoints.cli", "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            secrets = [PHONE, ACCOUNT_NO, *tokens.values()]
            with httpx.Client(base_url=url, timeout=20) as client:
                staff = {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}
                payments = [{"method": "cash_on_delivery", "amount": "1019.00", "reference": "C"}]
                order = order_body(payments=payments)
                pushed = client.post("/api/v1/orders", json=order, headers=staff["integration"])
                assert pushed.status_code == 201, pushed.text
                lookup = {"order_no": "TM-1001", "contact": PHONE}
                assert client.post("/api/v1/portal/lookup", json=lookup).status_code == 202
                [code] = _login_codes(box)
                verified = client.post("/api/v1/portal/verify", json={**lookup, "code": code})
                assert verified.status_code == 200, verified.text
                me = {"Authorization": f"Bearer {verified.json()['token']}"}
                secrets += [code, verified.json()["token"]]
                asked = request_body(type="refund_only")
                created = client.post("/api/v1/portal/refund-requests", headers=me, json=asked)
                rid = created.json()["id"]
                client.post(f"/api/v1/refund-requests/{rid}/approve", headers=staff["cs"])
                account = {"account_name": "王芳", "account_no": ACCOUNT_NO}
                executed = client.post(
                    f"/api/v1/refund-requests/{rid}/execute", json=account, headers=staff["finance"]
                )
                assert executed.status_code == 200, executed.text
                time.sleep(2)  # the in-process worker delivers messages and the payout
        finally:
            server.terminate()
            server.wait(timeout=20)
    printed = output.read_text(errors="replace")
    assert "Uvicorn running" in printed or "Application startup" in printed, printed[-500:]
    hits = [s[:12] + "…" for s in secrets if s in printed]
    print(f"server output: {len(printed.splitlines())} lines, {len(hits)} secrets found")
    assert hits == [], printed[-2000:]
