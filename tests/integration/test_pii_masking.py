"""Phones and bank accounts leave the API masked; a role that may see one in full sees it
only when it asks (``?unmask=true``), and every such look is in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from refundflow.entrypoints.bootstrap import Container
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body

PHONE = "13912345678"
ACCOUNT = {"account_name": "王芳", "bank_name": "招商银行", "account_no": "6225880112345678"}


def _unmask_rows(box: Container) -> list[tuple[str, str, str]]:
    with box.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT actor, subject, detail FROM audit_events "
                "WHERE action = 'pii.unmask' ORDER BY id"
            )
        ).all()
    return [(str(a), str(s), str(d)) for a, s, d in rows]


def test_an_order_shows_the_phone_masked_to_every_role_by_default(
    api: Api, an_order: dict[str, Any]
) -> None:
    assert an_order["customer"]["phone"] == "139****5678", "even to the integration that sent it"
    for role in ("admin", "manager", "cs", "warehouse", "finance", "integration"):
        shown = api.as_(role).get("/api/v1/orders/TM-1001")
        assert shown.status_code == 200, (role, shown.text)
        assert shown.json()["customer"]["phone"] == "139****5678", role
        assert PHONE not in shown.text, role


@pytest.mark.parametrize("role", ["cs", "manager", "admin"])
def test_customer_service_sees_the_full_phone_when_asking_and_the_look_is_audited(
    api: Api, box: Container, an_order: dict[str, Any], role: str
) -> None:
    shown = api.as_(role).get("/api/v1/orders/TM-1001", params={"unmask": "true"})
    assert shown.status_code == 200, shown.text
    assert shown.json()["customer"]["phone"] == PHONE
    [(actor, subject, detail)] = _unmask_rows(box)
    assert actor.startswith("staff:"), actor  # who looked
    assert subject == "order:TM-1001" and '"phone"' in detail


@pytest.mark.parametrize("role", ["warehouse", "finance", "integration"])
def test_other_roles_asking_for_the_full_phone_are_refused(
    api: Api, box: Container, an_order: dict[str, Any], role: str
) -> None:
    before = snapshot(box)
    refused = api.as_(role).get("/api/v1/orders/TM-1001", params={"unmask": "true"})
    assert refused.status_code == 403
    assert PHONE not in refused.text
    assert _unmask_rows(box) == []
    assert snapshot(box) == before


@pytest.fixture
def bank_refund(api: Api, manual_review: int) -> int:
    """A cash-on-delivery order refunded by bank transfer to ACCOUNT: the record's id."""
    payments = [{"method": "cash_on_delivery", "amount": "1019.00", "reference": "COD-1"}]
    order = api.as_("integration").post("/api/v1/orders", json=order_body(payments=payments))
    assert order.status_code == 201, order.text
    created = api.as_("cs").post("/api/v1/refund-requests", json=request_body(type="refund_only"))
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert api.as_("cs").act(rid, "approve").status_code == 200
    executed = api.as_("finance").act(rid, "execute", **ACCOUNT)
    assert executed.status_code == 200, executed.text
    assert ACCOUNT["account_no"] not in executed.text
    [record] = executed.json()["refunds"]
    assert record["route"] == "bank_transfer"
    return int(record["id"])


def test_a_bank_transfer_shows_the_account_by_its_last_four_digits(
    api: Api, bank_refund: int
) -> None:
    for role in ("finance", "admin"):
        shown = api.as_(role).get(f"/api/v1/refunds/{bank_refund}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["payout_account"]["account_no"] == "****5678"
        assert shown.json()["payout_account"]["account_name"] == "王芳"
        assert "62258801" not in shown.text


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_sees_the_full_account_when_asking_and_the_look_is_audited(
    api: Api, box: Container, bank_refund: int, role: str
) -> None:
    shown = api.as_(role).get(f"/api/v1/refunds/{bank_refund}", params={"unmask": "true"})
    assert shown.status_code == 200, shown.text
    assert shown.json()["payout_account"]["account_no"] == ACCOUNT["account_no"]
    [(_, subject, detail)] = _unmask_rows(box)
    assert subject == f"refund:{bank_refund}" and '"account_no"' in detail


def test_a_role_that_may_read_refunds_but_not_accounts_gets_no_account(
    api: Api, box: Container, bank_refund: int
) -> None:
    for role in ("cs", "manager", "warehouse", "integration"):
        refused = api.as_(role).get(f"/api/v1/refunds/{bank_refund}", params={"unmask": "true"})
        assert refused.status_code == 403, role
        assert ACCOUNT["account_no"] not in refused.text
    assert _unmask_rows(box) == []


def test_a_customers_notification_contacts_show_phones_masked_unless_revealed(
    api: Api, box: Container, an_order: dict[str, Any]
) -> None:
    customer = an_order["customer"]["id"]
    path = f"/api/v1/customers/{customer}/preferences"
    saved = api.as_("cs").client.put(
        path,
        json={"contact_phone": "13800001111"},
        headers={"Authorization": f"Bearer {api.tokens['cs']}"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["contact_phone"] == "138****1111"
    shown = api.as_("cs").get(path).json()
    assert shown["contact_phone"] == "138****1111"
    assert shown["order_contact"]["phone"] == "139****5678"
    assert PHONE not in repr(shown) and "13800001111" not in repr(shown)
    revealed = api.as_("cs").get(path, params={"unmask": "true"}).json()
    assert revealed["contact_phone"] == "+8613800001111"
    assert revealed["order_contact"]["phone"] == PHONE
    assert [s for _, s, _ in _unmask_rows(box)] == [f"customer:{customer}"]
    assert api.as_("integration").get(path, params={"unmask": "true"}).status_code == 403
