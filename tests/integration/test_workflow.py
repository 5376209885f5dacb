"""One platform for customer service, the warehouse and finance: queues, deadlines, timers,
returns, money approvals, exchanges, compensation, complaints and follow-ups."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from refundflow.entrypoints.bootstrap import Container
from refundflow.services.clock import ManualClock
from refundflow.services.timers import LEASE, fire_due_timers, fire_timer
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body


@pytest.fixture(autouse=True)
def _everything_to_review(manual_review: int) -> None:
    """Steps are driven by hand here: the policy decides nothing."""


def _create(api: Api, order_no: str = "TM-1001", **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/refund-requests", json=request_body(order_no, **body))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _order(api: Api, order_no: str, **overrides: Any) -> None:
    response = api.as_("integration").post("/api/v1/orders", json=order_body(order_no, **overrides))
    assert response.status_code in (200, 201), response.text


def _queue(api: Api, role: str, queue: str, **params: Any) -> list[dict[str, Any]]:
    response = api.as_(role).get(f"/api/v1/queues/{queue}", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _outbox(box: Container, topic: str) -> list[str]:
    with box.engine.connect() as conn:
        return [
            row[0]
            for row in conn.exec_driver_sql(
                "SELECT payload FROM outbox WHERE topic = ? ORDER BY id"
                if box.is_sqlite
                else "SELECT payload FROM outbox WHERE topic = %s ORDER BY id",
                (topic,),
            )
        ]


def _run_timers(box: Container, worker: str = "w1") -> int:
    return fire_due_timers(box.uows, worker)


# ---------------------------------------------------------------- queues
def test_each_role_works_its_own_queue_soonest_due_first(
    api: Api, an_order: Any, clock: ManualClock
) -> None:
    first = _create(api)
    clock.advance(timedelta(minutes=10))
    second = _create(api, lines=[{"sku": "EL-EB-501", "quantity": 1}])
    items = _queue(api, "cs", "cs")
    assert [i["request_id"] for i in items] == [first["id"], second["id"]]
    assert items[0]["step"] == "review" and items[0]["due_at"] <= items[1]["due_at"]
    assert items[0]["request"]["number"] == first["number"]
    assert first["next_step"]["queue"] == "cs"
    assert api.as_("warehouse").get("/api/v1/queues/cs").status_code == 403
    assert api.as_("cs").get("/api/v1/queues/nowhere").status_code == 404

    api.as_("cs").act(first["id"], "approve")
    api.as_("cs").act(first["id"], "return-shipment", carrier="顺丰", tracking_no="SF42")
    assert [i["request_id"] for i in _queue(api, "warehouse", "warehouse")] == [first["id"]]
    assert [i["request_id"] for i in _queue(api, "cs", "cs")] == [second["id"]]
    page = _queue(api, "cs", "cs", step="review", limit=1)
    assert len(page) == 1


def test_a_step_is_claimed_released_and_assigned(api: Api, an_order: Any, box: Container) -> None:
    created = _create(api)
    item = created["next_step"]["work_item_id"]
    claimed = api.as_("cs").post(f"/api/v1/work-items/{item}/claim")
    assert claimed.status_code == 200
    owner = claimed.json()["owner"]
    assert owner.startswith("token:")
    doc = api.get(f"/api/v1/refund-requests/{created['id']}").json()
    assert doc["next_step"]["owner"] == owner
    other = api.as_("manager").post(f"/api/v1/work-items/{item}/claim")
    assert other.status_code == 409 and "already works" in other.json()["error"]["message"]
    before = snapshot(box)
    assert (
        api.as_("cs")
        .post(f"/api/v1/work-items/{item}/assign", json={"owner": "token:99"})
        .status_code
        == 403
    )
    assert snapshot(box) == before
    assigned = api.as_("manager").post(
        f"/api/v1/work-items/{item}/assign", json={"owner": "token:99"}
    )
    assert assigned.json()["owner"] == "token:99"
    assert _queue(api, "cs", "cs", owner="token:99")[0]["id"] == item
    released = api.as_("manager").post(f"/api/v1/work-items/{item}/release")
    assert released.json()["owner"] is None


# ---------------------------------------------------------------- timers
def test_a_marketplace_review_deadline_reminds_then_approves_exactly_once(
    api: Api, box: Container, clock: ManualClock
) -> None:
    _order(api, "TM-T1", shipped_at=None, delivered_at=None)  # a Tmall order, not shipped
    created = _create(api, "TM-T1", type="refund_only", reason="other")
    due = created["next_step"]["due_at"]
    assert due == (clock.now() + timedelta(hours=48)).isoformat()
    clock.advance(timedelta(hours=36, minutes=1))
    assert _run_timers(box) == 1  # the reminder at 75 %
    assert _run_timers(box) == 0
    assert len(_outbox(box, "work_item.reminder")) == 1
    clock.advance(timedelta(hours=12))
    _run_timers(box, "w1")
    _run_timers(box, "w2")  # a second worker finds nothing left
    request = api.get(f"/api/v1/refund-requests/{created['id']}").json()
    assert request["status"] == "refund_pending"
    approvals = [e for e in request["timeline"] if e["action"] == "approve"]
    assert len(approvals) == 1 and approvals[0]["actor"]["name"] == "sla"
    assert _outbox(box, "work_item.escalated") == [], "the approval closed the step first"


def test_an_overdue_step_escalates_to_managers_once(
    api: Api, box: Container, clock: ManualClock
) -> None:
    _order(api, "OS-1", channel="own_site")
    created = _create(api, "OS-1")
    clock.advance(timedelta(days=5))  # 8 business hours are long gone: catch up at once
    assert _run_timers(box) == 2  # the reminder and the breach, in one pass
    _run_timers(box)
    escalated = _queue(api, "manager", "manager")
    assert [i["request_id"] for i in escalated] == [created["id"]]
    assert escalated[0]["overdue"] and escalated[0]["escalated"]
    timeline = api.get(f"/api/v1/refund-requests/{created['id']}").json()["timeline"]
    assert [e["action"] for e in timeline].count("escalate") == 1
    assert len(_outbox(box, "work_item.escalated")) == 1


def test_a_timer_fires_once_when_two_workers_race_for_it(
    api: Api, box: Container, clock: ManualClock
) -> None:
    _order(api, "OS-2", channel="own_site")
    created = _create(api, "OS-2")
    clock.advance(timedelta(days=5))
    barrier = threading.Barrier(4)

    def work(n: int) -> int:
        barrier.wait()
        return fire_due_timers(box.uows, f"w{n}")

    with ThreadPoolExecutor(4) as pool:
        leased = sum(pool.map(work, range(4)))
    assert leased == 2
    timeline = api.get(f"/api/v1/refund-requests/{created['id']}").json()["timeline"]
    assert [e["action"] for e in timeline].count("escalate") == 1


def test_a_worker_that_dies_holding_a_lease_is_replaced_and_nothing_acts_twice(
    api: Api, box: Container, clock: ManualClock
) -> None:
    _order(api, "OS-3", channel="own_site")
    created = _create(api, "OS-3")
    clock.advance(timedelta(days=5))
    with box.uows() as uow:  # worker A leases the due timers, then dies
        leased = uow.workflow.due_timers(clock.now(), 10, "A", clock.now() + LEASE)
        uow.commit()
    assert len(leased) == 2
    assert _run_timers(box, "B") == 0, "leased by A"
    clock.advance(LEASE + timedelta(seconds=1))
    assert _run_timers(box, "B") == 2, "A's lease ran out: B takes over"
    assert [fire_timer(box.uows, timer) for timer in leased] == [False, False]
    timeline = api.get(f"/api/v1/refund-requests/{created['id']}").json()["timeline"]
    assert [e["action"] for e in timeline].count("escalate") == 1


def test_a_return_not_shipped_in_time_is_cancelled_after_a_notice(
    api: Api, box: Container, clock: ManualClock, an_order: Any
) -> None:
    created = _create(api, "TM-1001", lines=[{"sku": "AP-TS-001", "quantity": 2}])
    api.as_("cs").act(created["id"], "approve")
    clock.advance(timedelta(days=6))
    _run_timers(box)
    notices = _outbox(box, "work_item.reminder")
    assert len(notices) == 1 and '"audience":"customer"' in notices[0]
    clock.advance(timedelta(days=1))
    _run_timers(box)
    request = api.get(f"/api/v1/refund-requests/{created['id']}").json()
    assert request["status"] == "cancelled"
    order = api.get("/api/v1/orders/TM-1001").json()
    assert order["lines"][0]["refundable_quantity"] == 2, "the units are free again"


def test_receipt_is_confirmed_for_the_shop_days_after_the_carrier_delivered(
    api: Api, box: Container, clock: ManualClock
) -> None:
    _order(api, "WX-1", channel="wechat_store")
    created = _create(api, "WX-1")
    api.as_("cs").act(created["id"], "approve")
    api.as_("cs").act(created["id"], "return-shipment", carrier="中通", tracking_no="ZT9")
    clock.advance(timedelta(days=12))
    _run_timers(box)
    assert api.get(f"/api/v1/refund-requests/{created['id']}").json()["status"] == (
        "awaiting_return"
    ), "no automatic receipt before the carrier says delivered"
    delivered = api.as_("warehouse").act(
        created["id"], "carrier-delivered", delivered_at=clock.now().isoformat()
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["next_step"]["due_at"] == (clock.now() + timedelta(days=10)).isoformat()
    clock.advance(timedelta(days=10))
    _run_timers(box)
    assert api.get(f"/api/v1/refund-requests/{created['id']}").json()["status"] == "received"


# ---------------------------------------------------------------- money approval
def test_a_large_refund_needs_a_second_person_from_finance(api: Api, box: Container) -> None:
    _order(
        api,
        "BIG-1",
        lines=[
            {
                "sku": "EL-SW-330",
                "name": "智能手表",
                "category": "electronics",
                "quantity": 2,
                "unit_price": "1299.00",
            }
        ],
        payments=[{"method": "alipay", "amount": "2610.00", "reference": "A-BIG"}],
    )
    created = _create(api, "BIG-1", type="refund_only", lines=[{"sku": "EL-SW-330", "quantity": 2}])
    approved = api.act(created["id"], "approve").json()  # by the admin token
    assert approved["finance_approval"] == {"required": True, "approved_by": None}
    assert approved["next_step"]["step"] == "finance_approval"
    before = snapshot(box)
    early = api.as_("finance").act(created["id"], "execute")
    assert early.status_code == 409 and "second person" in early.json()["error"]["message"]
    same = api.act(created["id"], "finance-approve")  # the admin who approved
    assert same.status_code == 409 and "cannot also" in same.json()["error"]["message"]
    assert snapshot(box) == before
    checked = api.as_("finance").act(created["id"], "finance-approve")
    assert checked.status_code == 200
    assert checked.json()["finance_approval"]["approved_by"].startswith("token:")
    assert checked.json()["timeline"][-1]["action"] == "finance-approve"
    assert api.as_("finance").act(created["id"], "execute").json()["status"] == "refunding"


# ---------------------------------------------------------------- warehouse
def test_the_warehouse_scans_a_tracking_number_and_grades_the_lines(
    api: Api, box: Container, an_order: Any
) -> None:
    created = _create(api, reason="no_reason_7d", lines=[{"sku": "AP-TS-001", "quantity": 2}])
    api.as_("cs").act(created["id"], "approve")
    api.as_("cs").act(created["id"], "return-shipment", carrier="顺丰", tracking_no="SF777")
    assert api.as_("cs").post("/api/v1/warehouse/scan", json={"code": "SF777"}).status_code == 403
    assert (
        api.as_("warehouse").post("/api/v1/warehouse/scan", json={"code": "NOPE"}).status_code
        == 404
    )
    scanned = api.as_("warehouse").post("/api/v1/warehouse/scan", json={"code": "SF777"})
    assert scanned.json()["status"] == "received"
    again = api.as_("warehouse").post("/api/v1/warehouse/scan", json={"code": "SF777"})
    assert again.json()["status"] == "received", "a second scan shows the request"
    missing = api.as_("warehouse").act(
        created["id"], "inspect", result="pass", grades=[{"sku": "NOT-HERE", "grade": "A"}]
    )
    assert missing.status_code == 422
    inspected = (
        api.as_("warehouse")
        .act(created["id"], "inspect", result="pass", grades=[{"sku": "AP-TS-001", "grade": "B"}])
        .json()
    )
    # A 7-day no-reason return of grade B loses 20 % of 158.00.
    assert inspected["amount_approved"] == "126.40"
    assert inspected["lines"][0]["grade"] == "B"
    restocked = _outbox(box, "inventory.restocked")
    assert len(restocked) == 1 and '"grade":"B"' in restocked[0] and '"quantity":2' in restocked[0]


def test_a_shop_fault_is_never_deducted_and_scrap_is_announced(
    api: Api, box: Container, an_order: Any
) -> None:
    created = _create(api, reason="quality_issue", lines=[{"sku": "EL-EB-501", "quantity": 1}])
    api.as_("cs").act(created["id"], "approve")
    api.as_("warehouse").act(created["id"], "receive")
    inspected = (
        api.as_("warehouse")
        .act(created["id"], "inspect", result="pass", grades=[{"sku": "EL-EB-501", "grade": "C"}])
        .json()
    )
    assert inspected["amount_approved"] == "849.00"
    assert len(_outbox(box, "inventory.scrapped")) == 1


# ---------------------------------------------------------------- exchanges and partial refunds
def test_a_cheaper_replacement_refunds_the_difference_when_it_ships(
    api: Api, an_order: Any
) -> None:
    created = _create(
        api,
        type="exchange",
        reason="wrong_item",
        lines=[{"sku": "AP-TS-001", "quantity": 1}],
        exchange_sku="AP-TS-001-M",
        exchange_name="纯棉T恤 白色 M",
        exchange_price="59.00",
    )
    assert created["exchange"]["difference"] == "20.00"
    for role, action, body in [
        ("cs", "approve", {}),
        ("warehouse", "receive", {}),
        ("warehouse", "inspect", {"result": "pass"}),
        ("warehouse", "ship-replacement", {"carrier": "顺丰", "tracking_no": "SF-X"}),
    ]:
        assert api.as_(role).act(created["id"], action, **body).status_code == 200
    shipped = api.get(f"/api/v1/refund-requests/{created['id']}").json()
    note = shipped["timeline"][-1]
    assert note["action"] == "difference-refund"
    child = api.get(f"/api/v1/refund-requests/{note['data']['refund_request_id']}").json()
    assert (child["parent_id"], child["status"], child["amount_approved"]) == (
        created["id"],
        "refund_pending",
        "20.00",
    )


def test_a_dearer_replacement_is_marked_payable(api: Api, an_order: Any) -> None:
    created = _create(
        api,
        type="exchange",
        reason="wrong_item",
        lines=[{"sku": "AP-TS-001", "quantity": 1}],
        exchange_sku="AP-JK-014",
        exchange_price="499.00",
    )
    assert created["exchange"]["amount_payable"] == "420.00"


def test_goodwill_and_partial_refunds_stay_within_what_was_paid(
    api: Api, box: Container, an_order: Any
) -> None:
    goodwill = _create(api, type="refund_only", reason="late_delivery", lines=[], amount="30.00")
    assert goodwill["amount_requested"] == "30.00" and goodwill["lines"] == []
    before = snapshot(box)
    too_much = api.post(
        "/api/v1/refund-requests",
        json=request_body(type="refund_only", reason="late_delivery", lines=[], amount="990.00"),
    )
    assert too_much.status_code == 409
    assert snapshot(box) == before
    kept = _create(api, reason="not_as_described", lines=[{"sku": "EL-EB-501", "quantity": 1}])
    partial = api.as_("cs").act(kept["id"], "approve", percent=30).json()
    assert (partial["amount_approved"], partial["status"]) == ("254.70", "refund_pending")


# ---------------------------------------------------------------- care
def test_compensation_is_booked_with_its_cost_in_the_ledger(
    api: Api, box: Container, an_order: Any, clock: ManualClock
) -> None:
    created = _create(api)
    expiry = (clock.now() + timedelta(days=30)).isoformat()
    for body in [
        {"kind": "coupon", "amount": "20.00", "code": "SORRY20", "expires_at": expiry},
        {"kind": "points", "points": 500},
        {"kind": "store_credit", "amount": "10.00"},
    ]:
        response = api.as_("cs").post(
            f"/api/v1/refund-requests/{created['id']}/compensations", json=body
        )
        assert response.status_code == 201, response.text
    ledger = api.as_("cs").get(f"/api/v1/refund-requests/{created['id']}/compensations").json()
    assert [i["cost"] for i in ledger["items"]] == ["20.00", "5.00", "10.00"]
    assert ledger["total_cost"] == {"CNY": "35.00"}
    customer = api.get("/api/v1/orders/TM-1001").json()["customer"]["id"]
    assert api.as_("finance").get(f"/api/v1/customers/{customer}/compensations").json()[
        "total_cost"
    ] == {"CNY": "35.00"}
    assert len(_outbox(box, "compensation.issued")) == 3
    before = snapshot(box)
    stale = api.as_("cs").post(
        f"/api/v1/refund-requests/{created['id']}/compensations",
        json={
            "kind": "coupon",
            "amount": "5.00",
            "code": "X",
            "expires_at": "2020-01-01T00:00:00+08:00",
        },
    )
    assert stale.status_code == 422
    assert (
        api.as_("warehouse")
        .post(
            f"/api/v1/refund-requests/{created['id']}/compensations",
            json={"kind": "points", "points": 1},
        )
        .status_code
        == 403
    )
    assert snapshot(box) == before


def test_a_complaint_raises_priority_and_opens_a_senior_step(
    api: Api, box: Container, an_order: Any
) -> None:
    created = _create(api)
    opened = api.as_("cs").post(
        f"/api/v1/refund-requests/{created['id']}/complaints",
        json={"source": "phone", "severity": "high", "text": "三天没人处理"},
    )
    assert opened.status_code == 201, opened.text
    request = api.get(f"/api/v1/refund-requests/{created['id']}").json()
    assert request["priority"] == "high"
    senior = _queue(api, "cs", "cs_senior")
    assert [(i["step"], i["request_id"]) for i in senior] == [("complaint", created["id"])]
    assert len(_outbox(box, "complaint.opened")) == 1
    resolved = api.as_("manager").post(
        f"/api/v1/complaints/{opened.json()['id']}/resolve",
        json={"resolution": "已致电道歉并加急处理"},
    )
    assert resolved.json()["state"] == "resolved"
    assert _queue(api, "cs", "cs_senior") == []
    again = api.as_("manager").post(
        f"/api/v1/complaints/{opened.json()['id']}/resolve", json={"resolution": "again"}
    )
    assert again.status_code == 409


def test_an_open_complaint_is_a_fact_the_policy_can_use(
    api: Api, box: Container, an_order: Any
) -> None:
    from tests.conftest import publish

    first = _create(api)
    api.as_("cs").post(
        f"/api/v1/refund-requests/{first['id']}/complaints",
        json={"source": "chat", "severity": "low", "text": "慢"},
    )
    publish(
        box,
        {
            "rules": [
                {
                    "id": "complaints",
                    "name": "有投诉的客户人工审核",
                    "conditions": [{"fact": "complaint_open", "operator": "=", "value": True}],
                    "outcome": "review",
                    "options": {"queue": "senior", "priority": "high"},
                },
                {"id": "rest", "name": "其余自动同意", "conditions": [], "outcome": "approve"},
            ]
        },
    )
    second = _create(api, lines=[{"sku": "EL-EB-501", "quantity": 1}])
    assert second["decision"]["rule"] == "complaints"


def test_an_appeal_goes_to_the_senior_queue(api: Api, an_order: Any) -> None:
    created = _create(api)
    api.as_("cs").act(created["id"], "reject", reason="已过期")
    appealed = api.as_("cs").act(created["id"], "appeal", reason="客户坚持").json()
    assert appealed["next_step"]["queue"] == "cs_senior"
    assert appealed["next_step"]["step"] == "appeal_review"


def test_agents_log_their_contacts_with_the_customer(api: Api, an_order: Any) -> None:
    created = _create(api)
    logged = api.as_("cs").post(
        f"/api/v1/refund-requests/{created['id']}/contacts",
        json={"channel": "call", "direction": "out", "summary": "已告知处理进度，预计明天审核"},
    )
    assert logged.status_code == 201
    contacts = api.as_("cs").get(f"/api/v1/refund-requests/{created['id']}/contacts").json()
    assert [c["summary"] for c in contacts] == ["已告知处理进度，预计明天审核"]
    assert (
        api.as_("cs")
        .post(
            f"/api/v1/refund-requests/{created['id']}/contacts",
            json={"channel": "pigeon", "summary": "x"},
        )
        .status_code
        == 422
    )


def test_a_vip_request_that_closes_gets_a_follow_up_call(api: Api, box: Container) -> None:
    _order(api, "VIP-1", customer={"name": "赵敏", "phone": "13500001111", "tier": "vip"})
    created = _create(api, "VIP-1")
    api.as_("cs").act(created["id"], "reject", reason="超出退货期")
    follow_ups = _queue(api, "cs", "cs", step="follow_up")
    assert [i["request_id"] for i in follow_ups] == [created["id"]]
    done = api.as_("cs").post(
        f"/api/v1/work-items/{follow_ups[0]['id']}/complete",
        json={"channel": "call", "summary": "客户理解，满意"},
    )
    assert done.status_code == 200
    assert _queue(api, "cs", "cs", step="follow_up") == []
    contacts = api.as_("cs").get(f"/api/v1/refund-requests/{created['id']}/contacts").json()
    assert contacts[-1]["summary"] == "客户理解，满意"


def test_root_causes_are_tagged_from_the_configured_list(api: Api, an_order: Any) -> None:
    created = _create(api)
    tagged = api.as_("cs").post(
        f"/api/v1/refund-requests/{created['id']}/root-cause", json={"code": "product_defect"}
    )
    assert tagged.json()["root_cause"] == "product_defect"
    wrong = api.as_("cs").post(
        f"/api/v1/refund-requests/{created['id']}/root-cause", json={"code": "aliens"}
    )
    assert wrong.status_code == 422 and "product_defect" in wrong.json()["error"]["message"]
    tags = api.get("/api/v1/root-cause-tags").json()
    assert tags[0]["label_zh"] == "产品质量缺陷"


# ---------------------------------------------------------------- settings
def test_managers_edit_sla_rules_and_restore_a_preset(api: Api, box: Container) -> None:
    manager = {"Authorization": f"Bearer {api.tokens['manager']}"}
    rules = api.get("/api/v1/sla-rules").json()
    assert {r["preset"] for r in rules} == {"own_site", "taobao", "wechat_store", "jd"}
    before = snapshot(box)
    bad = api.client.put(
        "/api/v1/sla-rules",
        headers=manager,
        json=[{"step": "inspect", "minutes": 60, "on_breach": "auto_approve"}],
    )
    assert bad.status_code == 422 and "rules[0]" in bad.json()["error"]["message"]
    assert (
        api.client.put(
            "/api/v1/sla-rules", json=[], headers={"Authorization": f"Bearer {api.tokens['cs']}"}
        ).status_code
        == 403
    )
    assert snapshot(box) == before
    mine = [{"step": "review", "minutes": 30, "business_hours": False}]
    assert len(api.client.put("/api/v1/sla-rules", headers=manager, json=mine).json()) == 1
    restored = api.client.post("/api/v1/sla-rules/presets/taobao", headers=manager).json()
    assert len(restored) == 1 + 8


def test_the_shop_adds_its_own_holidays(api: Api, box: Container) -> None:
    manager = {"Authorization": f"Bearer {api.tokens['manager']}"}
    days = [{"day": "2027-02-08", "kind": "holiday", "name": "春节（待国务院公布）"}]
    assert api.client.put("/api/v1/calendar/days", headers=manager, json=days).status_code == 200
    assert api.get("/api/v1/calendar/days").json() == days
    bad = api.client.put(
        "/api/v1/calendar/days", headers=manager, json=[{"day": "2027-02-31", "kind": "holiday"}]
    )
    assert bad.status_code == 422
