"""The REST API, end to end in-process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

import pytest

from refundflow.entrypoints.bootstrap import Container
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body


@pytest.fixture(autouse=True)
def _everything_to_review(manual_review: int) -> None:
    """These tests drive the lifecycle by hand: no request is decided by the policy."""


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return dict(body["error"])


# ---------------------------------------------------------------- orders
def test_an_order_is_created_then_updated_by_its_number(api: Api) -> None:
    integration = api.as_("integration")
    created = integration.post("/api/v1/orders", json=order_body())
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["total"] == "1019.00"
    assert order["paid"] == "1019.00"
    assert order["status"] == "delivered"
    assert order["customer"]["id"] > 0
    assert [line["refundable_quantity"] for line in order["lines"]] == [2, 1]
    assert order["delivered_at"] == "2026-11-22T07:00:00+00:00", "stored in UTC"

    updated = integration.post(
        "/api/v1/orders",
        json=order_body(customer={"name": "李娜", "phone": "13912345678", "tier": "vip"}),
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["customer"]["tier"] == "vip"
    assert updated.json()["customer"]["id"] == order["customer"]["id"]
    assert api.get("/api/v1/orders/TM-1001").json()["customer"]["tier"] == "vip"


def test_an_order_line_with_requests_cannot_shrink(api: Api, an_order: Any, box: Container) -> None:
    assert api.post("/api/v1/refund-requests", json=request_body()).status_code == 201
    before = snapshot(box)
    body = order_body()
    body["lines"][0]["quantity"] = 1
    response = api.as_("integration").post("/api/v1/orders", json=body)
    _error(response, 409, "conflict")
    assert snapshot(box) == before


def test_only_integrations_push_orders(api: Api, box: Container) -> None:
    before = snapshot(box)
    _error(api.as_("cs").post("/api/v1/orders", json=order_body()), 403, "forbidden")
    assert snapshot(box) == before


# ---------------------------------------------------------------- the lifecycle through the API
def test_a_return_goes_from_request_to_money_back(api: Api, an_order: Any) -> None:
    created = api.as_("cs").post("/api/v1/refund-requests", json=request_body())
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["status"] == "pending_review"
    assert request["number"].startswith("RF20261126-")
    assert request["amount_requested"] == "79.00"
    rid = request["id"]

    steps = [
        ("cs", "approve", {}, "awaiting_return"),
        (
            "cs",
            "return-shipment",
            {"carrier": "顺丰速运", "tracking_no": "SF1234567890"},
            "awaiting_return",
        ),
        ("warehouse", "receive", {"note": "已签收"}, "received"),
        ("warehouse", "inspect", {"result": "pass"}, "refund_pending"),
        ("finance", "execute", {}, "refunding"),
        ("finance", "mark-refunded", {"reference": "ALI-RF-9"}, "refunded"),
    ]
    for role, action, body, status in steps:
        response = api.as_(role).act(rid, action, **body)
        assert response.status_code == 200, (action, response.text)
        assert response.json()["status"] == status

    final = api.get(f"/api/v1/refund-requests/{request['number']}").json()
    assert final["amount_refunded"] == "79.00"
    assert final["return_shipment"] == {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}
    assert final["allowed_actions"] == []
    timeline = final["timeline"]
    assert [e["action"] for e in timeline] == ["submit", "decide"] + [s[1] for s in steps]
    assert [e["actor"]["role"] for e in timeline] == ["cs", "system"] + [s[0] for s in steps]
    assert timeline[1]["actor"]["kind"] == "policy"
    assert all(e["from_status"] == p["to_status"] for p, e in itertools.pairwise(timeline))
    assert api.get("/api/v1/orders/TM-1001").json()["refundable"]["amount"] == "940.00"


def test_an_exchange_ends_with_the_replacement_shipped(api: Api, an_order: Any) -> None:
    rid = api.post("/api/v1/refund-requests", json=request_body(type="exchange")).json()["id"]
    for role, action, body in [
        ("cs", "approve", {}),
        ("warehouse", "receive", {}),
        ("warehouse", "inspect", {"result": "pass"}),
        ("warehouse", "ship-replacement", {"carrier": "中通快递", "tracking_no": "ZT1"}),
    ]:
        assert api.as_(role).act(rid, action, **body).status_code == 200
    request = api.get(f"/api/v1/refund-requests/{rid}").json()
    assert request["status"] == "exchanged"
    assert request["amount_requested"] == "0.00"


def test_cancelling_gives_the_units_back(api: Api, an_order: Any) -> None:
    body = request_body(lines=[{"sku": "AP-TS-001", "quantity": 2}])
    rid = api.post("/api/v1/refund-requests", json=body).json()["id"]
    _error(api.post("/api/v1/refund-requests", json=body), 409, "balance_exceeded")
    assert api.act(rid, "cancel", reason="changed my mind").json()["status"] == "cancelled"
    assert api.post("/api/v1/refund-requests", json=body).status_code == 201


def test_an_appeal_needs_the_balance_to_still_be_there(
    api: Api, an_order: Any, box: Container
) -> None:
    body = request_body(lines=[{"sku": "EL-EB-501", "quantity": 1}])
    first = api.post("/api/v1/refund-requests", json=body).json()["id"]
    assert api.act(first, "reject", reason="used").status_code == 200
    second = api.post("/api/v1/refund-requests", json=body).json()["id"]
    before = snapshot(box)
    _error(api.act(first, "appeal", reason="not used"), 409, "balance_exceeded")
    assert snapshot(box) == before
    api.act(second, "cancel")
    appealed = api.act(first, "appeal", reason="not used")
    assert appealed.json()["status"] == "pending_review"
    assert appealed.json()["appealed"] is True


def test_refund_only_before_shipping_includes_the_shipping_fee(api: Api) -> None:
    api.as_("integration").post(
        "/api/v1/orders", json=order_body("TM-2", shipped_at=None, delivered_at=None)
    )
    body = request_body(
        "TM-2",
        type="refund_only",
        include_shipping=True,
        lines=[{"sku": "AP-TS-001", "quantity": 2}, {"sku": "EL-EB-501", "quantity": 1}],
    )
    created = api.post("/api/v1/refund-requests", json=body).json()
    assert created["amount_requested"] == "1019.00"
    assert created["shipping_amount"] == "12.00"
    assert api.act(created["id"], "approve").json()["status"] == "refund_pending"


# ---------------------------------------------------------------- refusals change nothing
def test_an_illegal_move_answers_409_with_the_allowed_actions(
    api: Api, an_order: Any, box: Container
) -> None:
    rid = api.post("/api/v1/refund-requests", json=request_body()).json()["id"]
    before = snapshot(box)
    error = _error(api.as_("warehouse").act(rid, "receive"), 409, "illegal_transition")
    assert error["details"]["allowed_actions"] == ["approve", "reject", "cancel"]
    assert "pending_review" in error["message"]
    assert snapshot(box) == before


@pytest.mark.parametrize(
    ("role", "action"),
    [
        ("warehouse", "approve"),
        ("cs", "receive"),
        ("cs", "execute"),
        ("finance", "reject"),
        ("integration", "cancel"),
    ],
)
def test_a_role_outside_the_table_gets_403(
    api: Api, an_order: Any, box: Container, role: str, action: str
) -> None:
    rid = api.post("/api/v1/refund-requests", json=request_body()).json()["id"]
    before = snapshot(box)
    error = _error(api.as_(role).act(rid, action, reason="x"), 403, "forbidden")
    assert "admin" in error["details"]["allowed_roles"]
    assert snapshot(box) == before


def test_no_token_or_a_bad_token_gets_401(api: Api, an_order: Any, box: Container) -> None:
    before = snapshot(box)
    response = api.client.post("/api/v1/refund-requests", json=request_body())
    _error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    bad = api.client.get("/api/v1/refund-requests/1", headers={"Authorization": "Bearer rf_x"})
    _error(bad, 401, "unauthenticated")
    _error(
        api.client.get("/api/v1/refund-requests/1", headers={"Authorization": "Basic x"}),
        401,
        "unauthenticated",
    )
    assert snapshot(box) == before


def test_unknown_things_get_404(api: Api, an_order: Any, box: Container) -> None:
    before = snapshot(box)
    _error(api.get("/api/v1/refund-requests/999"), 404, "not_found")
    _error(api.get("/api/v1/refund-requests/RF20261126-999999"), 404, "not_found")
    _error(api.get("/api/v1/orders/NOPE"), 404, "not_found")
    _error(api.post("/api/v1/refund-requests", json=request_body("NOPE")), 404, "not_found")
    _error(api.act(999, "approve"), 404, "not_found")
    _error(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert snapshot(box) == before


def _with(body: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target = changed
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


ORDER_422 = [
    (["lines", 0, "unit_price"], 79.0, "decimal strings"),
    (["lines", 0, "unit_price"], 79, "decimal strings"),
    (["shipping_fee"], "12.005", "more decimals"),
    (["payments", 0, "amount"], "abc", "unit_price|amount|pattern"),
    (["currency"], "XYZ", "unknown currency"),
    (["placed_at"], "2026-11-20T10:00:00", "timezone"),
    (["lines", 0, "quantity"], 1.5, "integer"),
    (["lines", 0, "quantity"], 0, "greater than or equal"),
    (["lines"], [], "at least 1"),
    (["customer", "tier"], "diamond", "tier"),
    (["payments", 0, "method"], "paypal", "method"),
    (["channel"], "Tmall Store", "channel"),
    (["surprise"], "field", "Extra inputs"),
    (["customer"], KeyError, "customer"),
    (["lines", 0, "discount"], "500.00", "discount exceeds"),
]


@pytest.mark.parametrize(("path", "value", "message"), ORDER_422)
def test_a_bad_order_gets_422_naming_the_field(
    api: Api, box: Container, path: list[Any], value: Any, message: str
) -> None:
    before = snapshot(box)
    response = api.as_("integration").post("/api/v1/orders", json=_with(order_body(), path, value))
    error = _error(
        response,
        422,
        "invalid_input"
        if "decimals" not in message and "currency" not in message
        else "invalid_money",
    )
    assert re.search(message, error["message"] + str(error["details"]), re.IGNORECASE), error
    assert snapshot(box) == before


REQUEST_422 = [
    (["reason"], "because", "reason code"),
    (["type"], "refund", "type"),
    (["lines", 0, "quantity"], "1", "integer"),
    (["lines", 0, "sku"], "NOT-ON-ORDER", "not on order"),
    (
        ["lines"],
        [{"sku": "AP-TS-001", "quantity": 1}, {"sku": "AP-TS-001", "quantity": 1}],
        "listed twice",
    ),
    (["lines"], [], "at least one line"),
    (["refund_route"], "cash", "refund_route"),
    (["intake_channel"], "fax", "intake_channel"),
    (["description"], "x" * 2001, "2000"),
]


@pytest.mark.parametrize(("path", "value", "message"), REQUEST_422)
def test_a_bad_refund_request_gets_422_naming_the_problem(
    api: Api, an_order: Any, box: Container, path: list[Any], value: Any, message: str
) -> None:
    before = snapshot(box)
    response = api.post("/api/v1/refund-requests", json=_with(request_body(), path, value))
    error = _error(response, 422, "invalid_input")
    assert message in error["message"] + str(error["details"])
    assert snapshot(box) == before


@pytest.mark.parametrize(
    ("action", "body", "message"),
    [
        ("approve", {"amount": 10.5}, "decimal strings"),
        ("approve", {"amount": "100.00"}, "between 0 and the requested"),
        ("reject", {}, "reason is required"),
        ("approve", {"colour": "red"}, "Extra inputs"),
    ],
)
def test_a_bad_action_body_gets_422(
    api: Api, an_order: Any, box: Container, action: str, body: dict[str, Any], message: str
) -> None:
    rid = api.post("/api/v1/refund-requests", json=request_body()).json()["id"]
    before = snapshot(box)
    response = api.act(rid, action, **body)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]
    assert snapshot(box) == before


def test_asking_for_more_than_remains_gets_409(api: Api, an_order: Any, box: Container) -> None:
    before = snapshot(box)
    response = api.post(
        "/api/v1/refund-requests", json=request_body(lines=[{"sku": "AP-TS-001", "quantity": 3}])
    )
    error = _error(response, 409, "balance_exceeded")
    assert error["details"] == {"sku": "AP-TS-001", "asked": 3, "refundable": 2}
    assert snapshot(box) == before


# ---------------------------------------------------------------- idempotency
def test_the_same_idempotency_key_returns_the_first_response(
    api: Api, an_order: Any, box: Container
) -> None:
    headers = {"Idempotency-Key": "retry-me-1"}
    first = api.post("/api/v1/refund-requests", json=request_body(), headers=headers)
    assert first.status_code == 201
    before = snapshot(box)
    again = api.post("/api/v1/refund-requests", json=request_body(), headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert snapshot(box) == before
    other = api.post(
        "/api/v1/refund-requests", json=request_body(description="other"), headers=headers
    )
    _error(other, 422, "idempotency_key_reused")
    assert snapshot(box) == before


# ---------------------------------------------------------------- lists
def test_requests_are_listed_newest_first_with_filters_and_a_cursor(
    api: Api, an_order: Any
) -> None:
    ids = []
    for sku, quantity in [("AP-TS-001", 1), ("AP-TS-001", 1), ("EL-EB-501", 1)]:
        body = request_body(lines=[{"sku": sku, "quantity": quantity}])
        ids.append(api.post("/api/v1/refund-requests", json=body).json()["id"])
    api.act(ids[0], "reject", reason="no")
    page = api.get("/api/v1/refund-requests", params={"limit": 2}).json()
    assert [item["id"] for item in page["items"]] == [ids[2], ids[1]]
    assert "timeline" not in page["items"][0]
    rest = api.get("/api/v1/refund-requests", params={"limit": 2, "cursor": page["next_cursor"]})
    assert [item["id"] for item in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None
    rejected = api.get("/api/v1/refund-requests", params={"status": "rejected"}).json()["items"]
    assert [item["id"] for item in rejected] == [ids[0]]
    by_order = api.get("/api/v1/refund-requests", params={"q": "TM-1001"}).json()["items"]
    assert len(by_order) == 3
    _error(api.get("/api/v1/refund-requests", params={"status": "lost"}), 422, "invalid_input")
    _error(api.get("/api/v1/refund-requests", params={"cursor": "x"}), 422, "invalid_input")


# ---------------------------------------------------------------- probes and docs
def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json() == {"status": "ready"}


def test_the_openapi_document_lists_every_route_with_bearer_auth(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    assert {
        "/api/v1/orders",
        "/api/v1/refund-requests",
        "/api/v1/refund-requests/{request_id}/{action}",
    } <= set(schema["paths"])
    operation = schema["paths"]["/api/v1/refund-requests"]["post"]
    assert operation["security"] == [{"bearer": []}]
    docs = api.client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower(), "no CDN at run time"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text)
    assert len(assets) >= 2
    for asset in assets:
        assert api.client.get(asset).status_code == 200, asset


# ---------------------------------------------------------------- reason codes
def test_managers_add_and_deactivate_reason_codes(api: Api, an_order: Any, box: Container) -> None:
    listed = api.as_("cs").get("/api/v1/reason-codes").json()
    assert [r["code"] for r in listed][:2] == ["no_reason_7d", "quality_issue"]
    assert listed[0]["label_zh"] == "七天无理由退货"
    before = snapshot(box)
    _error(
        api.as_("cs").client.put(
            "/api/v1/reason-codes/size_wrong",
            json={"label_zh": "尺码不合适", "label_en": "Wrong size"},
            headers={"Authorization": f"Bearer {api.tokens['cs']}"},
        ),
        403,
        "forbidden",
    )
    assert snapshot(box) == before
    manager = {"Authorization": f"Bearer {api.tokens['manager']}"}
    added = api.client.put(
        "/api/v1/reason-codes/size_wrong",
        json={"label_zh": "尺码不合适", "label_en": "Wrong size"},
        headers=manager,
    )
    assert added.status_code == 200, added.text
    assert added.json()["position"] == 8
    body = request_body(reason="size_wrong")
    assert api.post("/api/v1/refund-requests", json=body).status_code == 201
    api.client.put(
        "/api/v1/reason-codes/size_wrong",
        headers=manager,
        json={"label_zh": "尺码不合适", "label_en": "Wrong size", "active": False},
    )
    refused = api.post("/api/v1/refund-requests", json=body)
    assert refused.status_code == 422
    assert "size_wrong" not in refused.json()["error"]["message"].split("one of")[1]
    bad = api.client.put(
        "/api/v1/reason-codes/Bad-Code", headers=manager, json={"label_zh": "x", "label_en": "x"}
    )
    _error(bad, 422, "invalid_input")
