"""Inputs the fuzzer found answering 500, now answered as the contract says (issue 9)."""

from __future__ import annotations

import pytest

from refundflow.entrypoints.bootstrap import Container
from tests.conftest import snapshot
from tests.integration.api import Api, request_body

TOO_BIG = "2869333114535034748928"  # past any database integer


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/customers/{TOO_BIG}/store-credit",
        f"/api/v1/customers/{TOO_BIG}/preferences",
        f"/api/v1/refunds/{TOO_BIG}",
        f"/api/v1/payout-batches/{TOO_BIG}.csv",
    ],
)
def test_an_id_past_any_database_integer_is_invalid_input_not_a_crash(api: Api, path: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_input"


def test_a_template_part_set_to_null_is_emptied_in_a_preview_and_a_save(
    api: Api, box: Container
) -> None:
    path = "/api/v1/notification-templates/request_received/en"
    preview = api.as_("cs").post(f"{path}/preview", json={"draft": {"text": None}})
    assert preview.status_code == 200, preview.text
    before = snapshot(box)
    saved = api.as_("manager").put(path, json={"html": None, "sms_params": None})
    assert saved.status_code == 200, saved.text
    assert saved.json()["html"] == "" and saved.json()["sms_params"] == []
    assert snapshot(box) != before


def test_text_with_a_nul_character_is_invalid_input_on_both_databases(
    api: Api, box: Container, an_order: dict[str, object]
) -> None:
    before = snapshot(box)
    asked = api.as_("cs").post(
        "/api/v1/refund-requests", json={**request_body(), "description": "划痕\x00"}
    )
    assert asked.status_code == 422, asked.text
    scanned = api.as_("warehouse").post("/api/v1/warehouse/scan", json={"code": "SF\x001"})
    assert scanned.status_code == 422, scanned.text
    assert api.as_("admin").get("/api/v1/orders/TM%001001").status_code in (404, 422)
    refused = api.as_("warehouse").post("/api/v1/notification-templates/x%00/en/preview")
    assert refused.status_code in (403, 404, 422), refused.text
    assert snapshot(box) == before
