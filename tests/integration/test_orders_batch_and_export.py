"""Orders in by the batch (partial success, never half an order) and refund requests out
for finance (CSV and Excel), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from refundflow.entrypoints.bootstrap import Container
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body

BATCH = "/api/v1/orders/batch"


@pytest.fixture(autouse=True)
def _everything_to_review(manual_review: int) -> None:
    """Requests wait for review, so the tests drive their statuses."""


def test_a_batch_stores_the_good_orders_and_reports_each_bad_one(api: Api, box: Container) -> None:
    integration = api.as_("integration")
    assert integration.post("/api/v1/orders", json=order_body("B-HELD")).status_code == 201
    assert integration.post("/api/v1/orders", json=order_body("B-SAME")).status_code == 201
    assert (
        api.as_("cs").post("/api/v1/refund-requests", json=request_body("B-HELD")).status_code
        == 201
    )
    shrunk = order_body("B-HELD")
    shrunk["lines"][0]["quantity"] = 1  # a line with a refund request cannot shrink
    float_price = order_body("B-FLOAT")
    float_price["lines"][0]["unit_price"] = 79.0
    body = {
        "orders": [
            order_body("B-1"),
            float_price,
            shrunk,
            order_body("B-2", currency="XXQ"),
            order_body("B-1"),
            order_body("B-SAME"),
            {"order_no": "B-3"},
        ]
    }
    response = integration.post(BATCH, json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["updated"], result["unchanged"], result["failed"]) == (
        1,
        0,
        1,
        5,
    )
    statuses = [(r["index"], r["order_no"], r["status"]) for r in result["results"]]
    assert statuses == [
        (0, "B-1", "created"),
        (1, None, "failed"),
        (2, "B-HELD", "failed"),
        (3, "B-2", "failed"),
        (4, "B-1", "failed"),
        (5, "B-SAME", "unchanged"),
        (6, None, "failed"),
    ]
    errors = {r["index"]: r["error"] for r in result["results"] if r["status"] == "failed"}
    assert "decimal strings" in errors[1]["message"]
    assert errors[2]["code"] == "conflict" and "cannot change" in errors[2]["message"]
    assert "currency" in errors[3]["message"]
    assert "already item 0 of this batch" in errors[4]["message"]
    assert api.get("/api/v1/orders/B-HELD").json()["lines"][0]["quantity"] == 2
    assert api.get("/api/v1/orders/B-FLOAT").status_code == 404


def test_a_batch_of_only_bad_orders_changes_nothing(api: Api, box: Container) -> None:
    before = snapshot(box)
    response = api.as_("integration").post(BATCH, json={"orders": [{"order_no": "x"}] * 3})
    assert response.status_code == 200 and response.json()["failed"] == 3
    too_many = api.as_("integration").post(BATCH, json={"orders": [order_body()] * 1001})
    assert too_many.status_code == 422
    assert api.as_("cs").post(BATCH, json={"orders": [order_body()]}).status_code == 403
    assert snapshot(box) == before


def test_a_batch_of_a_thousand_orders_goes_in_at_once(api: Api) -> None:
    orders = [
        order_body(f"K-{i:04d}", customer={"name": "客户", "phone": f"1390000{i:04d}"})
        for i in range(1000)
    ]
    result = api.as_("integration").post(BATCH, json={"orders": orders}).json()
    assert result["created"] == 1000
    again = api.as_("integration").post(BATCH, json={"orders": orders}).json()
    assert again["unchanged"] == 1000


def _requests(api: Api) -> list[dict[str, Any]]:
    api.as_("integration").post("/api/v1/orders", json=order_body("E-1"))
    first = api.as_("cs").post("/api/v1/refund-requests", json=request_body("E-1")).json()
    second = (
        api.as_("cs")
        .post(
            "/api/v1/refund-requests",
            json=request_body("E-1", lines=[{"sku": "EL-EB-501", "quantity": 1}]),
        )
        .json()
    )
    api.as_("cs").act(first["id"], "approve", requires_return=False)
    api.as_("finance").act(first["id"], "execute")
    api.as_("finance").act(first["id"], "mark-refunded", reference="ALI-RF-1")
    return [first, second]


def test_finance_exports_a_period_as_csv_with_exact_amounts(api: Api) -> None:
    first, second = _requests(api)
    response = api.as_("finance").get(
        "/api/v1/refund-requests/export", params={"from": "2026-11-26", "to": "2026-11-27"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "refund-requests-20261126-20261127.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["number"] for r in rows] == [first["number"], second["number"]]
    assert (rows[0]["status"], rows[0]["amount_refunded"], rows[0]["created_at"]) == (
        "refunded",
        "79.00",
        "2026-11-26T10:00:00+08:00",
    )
    assert (rows[1]["amount_requested"], rows[1]["amount_refunded"], rows[1]["skus"]) == (
        "849.00",
        "",
        "EL-EB-501",
    )
    refunded = api.as_("finance").get(
        "/api/v1/refund-requests/export",
        params={"from": "2026-11-26", "to": "2026-11-27", "by": "refunded"},
    )
    assert len(list(csv.DictReader(io.StringIO(refunded.content.decode("utf-8-sig"))))) == 1
    earlier = api.as_("finance").get(
        "/api/v1/refund-requests/export", params={"from": "2026-11-01", "to": "2026-11-26"}
    )
    assert earlier.content.decode("utf-8-sig").count("\n") == 1, "the header alone"


def test_the_excel_export_carries_numbers_and_local_times(api: Api) -> None:
    first, _ = _requests(api)
    response = api.as_("manager").get(
        "/api/v1/refund-requests/export",
        params={
            "from": "2026-11-26T00:00:00+08:00",
            "to": "2026-11-27T00:00:00+08:00",
            "format": "xlsx",
        },
    )
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    row = dict(zip(header, rows[0], strict=True))
    assert row["number"] == first["number"]
    assert Decimal(str(row["amount_refunded"])) == Decimal("79.00")
    assert str(row["created_at"]) == "2026-11-26 10:00:00"


def test_the_export_is_for_finance_and_managers_and_checks_its_period(api: Api) -> None:
    params = {"from": "2026-11-26", "to": "2026-11-27"}
    assert api.as_("cs").get("/api/v1/refund-requests/export", params=params).status_code == 403
    backwards = {"from": "2026-11-27", "to": "2026-11-26"}
    response = api.as_("finance").get("/api/v1/refund-requests/export", params=backwards)
    assert response.status_code == 422 and "after" in response.json()["error"]["message"]
    bad = api.as_("finance").get(
        "/api/v1/refund-requests/export", params={"from": "soon", "to": "x"}
    )
    assert bad.status_code == 422
