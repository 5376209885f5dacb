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
        logging.getLogger(name).setLevel(logging.DEBUG)
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
