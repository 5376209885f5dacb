"""The refund policy end to end: instant decisions, drafts, publishing, simulation, the page."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from refundflow.entrypoints.bootstrap import Container
from refundflow.services.clock import ManualClock
from tests.conftest import REVIEW_EVERYTHING, publish, snapshot
from tests.integration.api import Api, order_body, request_body


def _put(api: Api, role: str, body: dict[str, Any]) -> Any:
    return api.client.put(
        "/api/v1/policies/draft",
        json=body,
        headers={"Authorization": f"Bearer {api.tokens[role]}"},
    )


# ---------------------------------------------------------------- instant decisions
def test_an_unshipped_refund_only_request_is_approved_at_once_with_reasons(api: Api) -> None:
    api.as_("integration").post(
        "/api/v1/orders", json=order_body("TM-U", shipped_at=None, delivered_at=None)
    )
    created = api.post(
        "/api/v1/refund-requests",
        json=request_body(
            "TM-U", type="refund_only", reason="other", lines=[{"sku": "EL-EB-501", "quantity": 1}]
        ),
    ).json()
    assert created["status"] == "refund_pending"
    decision = created["decision"]
    assert decision["outcome"] == "approve"
    assert decision["rule"] == "unshipped_refund_only"
    assert decision["policy_version"] == 1
    assert decision["auto_execute"] is True
    assert "订单尚未发货" in decision["explanation_customer"]
    assert decision["explanation_staff"].startswith("规则 2「未发货仅退款」")
    assert decision["explanations"]["en"]["staff"].startswith("Rule 2")
    decided = created["timeline"][1]
    assert decided["actor"] == {"kind": "policy", "role": "system", "id": "1", "name": "policy v1"}
    assert decided["data"]["rule"] == "unshipped_refund_only"
    assert decided["data"]["policy_version"] == 1


def test_a_quality_issue_within_15_days_is_approved_with_the_return(
    api: Api, an_order: Any, clock: ManualClock
) -> None:
    # The order was delivered 2026-11-22 07:00 UTC; the clock stands at 11-26 02:00.
    created = api.post(
        "/api/v1/refund-requests",
        json=request_body(lines=[{"sku": "EL-EB-501", "quantity": 1}], language="en"),
    ).json()
    assert (created["status"], created["decision"]["rule"]) == (
        "awaiting_return",
        "quality_issue_15d",
    )
    assert created["decision"]["explanation_customer"].startswith("Quality issue")
    assert "days since delivery 4 ≤ 15" in created["decision"]["explanation_staff"]


def test_seven_day_returns_close_after_the_seventh_day(
    api: Api, an_order: Any, clock: ManualClock
) -> None:
    body = request_body(reason="no_reason_7d", lines=[{"sku": "EL-EB-501", "quantity": 1}])
    clock.advance(timedelta(days=4))  # day 8 after delivery
    late = api.post("/api/v1/refund-requests", json=body).json()
    assert late["decision"]["rule"] == "everything_else"
    assert late["status"] == "pending_review"


def test_frequent_refunders_go_to_review_before_any_approval(api: Api, an_order: Any) -> None:
    integration = api.as_("integration")
    rules = []
    for n in range(4):
        integration.post("/api/v1/orders", json=order_body(f"TM-F{n}"))
        created = api.post(
            "/api/v1/refund-requests",
            json=request_body(f"TM-F{n}", lines=[{"sku": "EL-EB-501", "quantity": 1}]),
        )
        rules.append(created.json()["decision"]["rule"])
    assert rules == ["quality_issue_15d"] * 3 + ["frequent_refunders"]


def test_small_amounts_for_trusted_customers_need_no_return(api: Api, an_order: Any) -> None:
    created = api.post(
        "/api/v1/refund-requests", json=request_body(reason="not_as_described")
    ).json()
    assert created["decision"]["rule"] == "small_trusted"
    assert created["status"] == "refund_pending"
    assert created["requires_return"] is False
    assert "退款率 0% < 10%" in created["decision"]["explanation_staff"]
    assert "退款率" not in created["decision"]["explanation_customer"]


def test_vip_requests_take_the_fast_lane(api: Api) -> None:
    vip = order_body("TM-V", customer={"name": "赵敏", "phone": "13500001111", "tier": "vip"})
    api.as_("integration").post("/api/v1/orders", json=vip)
    created = api.post(
        "/api/v1/refund-requests",
        json=request_body("TM-V", reason="other", lines=[{"sku": "EL-EB-501", "quantity": 1}]),
    ).json()
    assert created["decision"]["rule"] == "vip_fast_track"
    assert (created["status"], created["priority"], created["fast_track"]) == (
        "pending_review",
        "high",
        True,
    )


# ---------------------------------------------------------------- drafts and publishing
def test_a_draft_starts_as_the_published_policy_and_is_saved_and_published(
    api: Api, an_order: Any
) -> None:
    draft = api.get("/api/v1/policies/draft").json()
    assert (draft["version"], draft["status"]) == (2, "draft")
    assert draft["rules"][0]["id"] == "frequent_refunders"
    draft["rules"].insert(
        0,
        {
            "id": "no_returns",
            "name": "暂停退款",
            "conditions": [],
            "outcome": "reject",
            "customer_reason": "店铺盘点期间暂停退款",
        },
    )
    saved = _put(api, "manager", draft)
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "draft"
    before = api.post("/api/v1/refund-requests", json=request_body()).json()
    assert before["decision"]["policy_version"] == 1
    published = api.as_("manager").post("/api/v1/policies/draft/publish")
    assert published.json()["status"] == "published"
    after = api.post("/api/v1/refund-requests", json=request_body()).json()
    assert (after["status"], after["decision"]["policy_version"]) == ("rejected", 2)
    assert after["timeline"][-1]["reason"] == "店铺盘点期间暂停退款"
    assert api.get("/api/v1/policies/1").json()["status"] == "archived"
    assert [v["version"] for v in api.get("/api/v1/policies").json()] == [2, 1]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"fact": "amount", "operator": "<=", "value": 100}, "conditions[0].value"),
        ({"fact": "colour", "operator": "=", "value": "red"}, "unknown fact 'colour'"),
        ({"fact": "first_order", "operator": "<", "value": True}, "does not apply"),
        ({"fact": "customer_tier", "operator": "in", "value": ["diamond"]}, "'diamond'"),
    ],
)
def test_an_invalid_draft_names_the_rule_and_the_field_and_changes_nothing(
    api: Api, box: Container, rule: dict[str, Any], message: str
) -> None:
    before = snapshot(box)
    body = {
        "rules": [
            {"id": "ok", "name": "fine", "conditions": [], "outcome": "review"},
            {"id": "bad", "name": "坏规则", "conditions": [rule], "outcome": "approve"},
        ]
    }
    response = _put(api, "manager", body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith("rule 2 '坏规则'")
    assert message in error["message"]
    assert snapshot(box) == before


def test_a_rejecting_rule_without_a_reason_is_refused(api: Api) -> None:
    response = _put(
        api,
        "manager",
        {"rules": [{"id": "r", "name": "no", "conditions": [], "outcome": "reject"}]},
    )
    assert response.status_code == 422
    assert "customer_reason" in response.json()["error"]["message"]


def test_only_managers_edit_and_two_editors_cannot_overwrite_each_other(
    api: Api, box: Container
) -> None:
    before = snapshot(box)
    assert _put(api, "cs", REVIEW_EVERYTHING).status_code == 403
    assert api.as_("cs").post("/api/v1/policies/draft/publish").status_code == 403
    assert snapshot(box) == before
    first = _put(api, "manager", {**REVIEW_EVERYTHING, "version": 2})
    assert first.status_code == 200
    stale = _put(api, "manager", {**REVIEW_EVERYTHING, "version": 1})
    assert stale.status_code == 409
    assert stale.json()["error"]["details"] == {"version": 2}


def test_publishing_without_a_draft_is_a_conflict(api: Api) -> None:
    response = api.as_("manager").post("/api/v1/policies/draft/publish")
    assert response.status_code == 409
    assert "no draft" in response.json()["error"]["message"]


def test_a_request_decided_while_a_version_is_published_uses_exactly_one(box: Container) -> None:
    """Version 2 rejects everything the default version 1 would approve; requests made while
    2 is being published must each be decided wholly by the version they record."""
    from refundflow.domain.actors import Actor, ActorKind
    from refundflow.domain.permissions import Role
    from refundflow.services import orders
    from refundflow.services.intake import SubmitRefundRequest, submit_refund_request
    from refundflow.services.policies import publish_draft, put_draft
    from tests.integration.test_concurrency import UpsertOrderFor

    for n in range(30):
        orders.upsert_order(box.uows, UpsertOrderFor(f"P{n}", quantity=1))
    manager = Actor(ActorKind.STAFF, Role.MANAGER, "m", "m")
    put_draft(
        box.uows,
        manager,
        {
            "rules": [
                {
                    "id": "stop",
                    "name": "停",
                    "conditions": [],
                    "outcome": "reject",
                    "customer_reason": "暂停",
                }
            ]
        },
    )
    cs = Actor(ActorKind.STAFF, Role.CS, "cs", "cs")
    barrier = threading.Barrier(31)

    def create(n: int) -> dict[str, Any]:
        barrier.wait()
        cmd = SubmitRefundRequest(f"P{n}", "refund_only", "other", [("SKU-X", 1)])
        return submit_refund_request(box.uows, cmd, cs).view

    def publish_now() -> None:
        barrier.wait()
        publish_draft(box.uows, manager)

    with ThreadPoolExecutor(31) as pool:
        futures = [pool.submit(create, n) for n in range(30)]
        pool.submit(publish_now).result()
        views = [f.result() for f in futures]
    by_version = Counter((v["decision"]["policy_version"], v["status"]) for v in views)
    assert set(by_version) <= {(1, "refund_pending"), (2, "rejected")}
    assert sum(by_version.values()) == 30


# ---------------------------------------------------------------- the policy page
def test_the_policy_page_is_written_from_the_rules_and_follows_them(api: Api) -> None:
    page = api.client.get("/policy")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "7 天" in page.text
    english = api.client.get("/policy?lang=en").text
    assert "7 days" in english
    text = api.client.get("/api/v1/policies/published/text", params={"lang": "en"}).json()
    assert text["version"] == 1
    assert len(text["clauses"]) >= 6

    draft = api.get("/api/v1/policies/draft").json()
    rule = next(r for r in draft["rules"] if r["id"] == "no_reason_7d")
    next(c for c in rule["conditions"] if c["fact"] == "days_since_delivery")["value"] = 10
    assert _put(api, "manager", draft).status_code == 200
    assert api.as_("manager").post("/api/v1/policies/draft/publish").status_code == 200
    changed = api.client.get("/policy?lang=zh-CN").text
    assert "10 天" in changed and "7 天内" not in changed


# ---------------------------------------------------------------- simulation
def test_a_simulation_re_decides_the_period_and_changes_nothing(
    api: Api, box: Container, clock: ManualClock
) -> None:
    integration = api.as_("integration")
    for n in range(6):
        integration.post("/api/v1/orders", json=order_body(f"TM-S{n}"))
        clock.advance(timedelta(minutes=5))
        kind = "not_as_described" if n % 2 else "other"
        api.post(
            "/api/v1/refund-requests",
            json=request_body(f"TM-S{n}", reason=kind, lines=[{"sku": "EL-EB-501", "quantity": 1}]),
        )
    start = (clock.now() - timedelta(hours=1)).isoformat()
    end = (clock.now() + timedelta(minutes=1)).isoformat()
    assert _put(api, "manager", REVIEW_EVERYTHING).status_code == 200
    before = snapshot(box)
    result = api.as_("manager").post(
        "/api/v1/policies/2/simulate", json={"from": start, "to": end, "minutes_per_review": 30}
    )
    assert result.status_code == 200, result.text
    body = result.json()
    assert body["count"] == 6
    assert body["current_version"] == 1
    # Under v1: 6 requests of ¥849 for a gold customer with no refunds yet → everything_else;
    # the 4th on is a frequent refunder. Under v2 all go to review: nothing changes.
    assert body["outcomes"]["simulated"] == {"approve": 0, "reject": 0, "review": 6}
    assert body["outcomes"]["current"] == {"approve": 0, "reject": 0, "review": 6}
    assert body["changed"]["total"] == 0
    assert snapshot(box) == before


def test_a_simulation_counts_changes_money_and_hours(
    api: Api, box: Container, clock: ManualClock
) -> None:
    integration = api.as_("integration")
    for n in range(3):
        integration.post(
            "/api/v1/orders",
            json=order_body(
                f"TM-T{n}",
                customer={"name": f"客户{n}", "phone": f"1390000000{n}", "tier": "standard"},
            ),
        )
        clock.advance(timedelta(minutes=5))
        api.post("/api/v1/refund-requests", json=request_body(f"TM-T{n}", reason="other"))
    start = (clock.now() - timedelta(hours=1)).isoformat()
    end = (clock.now() + timedelta(minutes=1)).isoformat()
    publish(box, REVIEW_EVERYTHING)  # v2 published: everything to review
    draft = {
        "rules": [
            {
                "id": "all_ok",
                "name": "全部同意",
                "conditions": [],
                "outcome": "approve",
                "options": {"requires_return": False},
            }
        ]
    }
    assert _put(api, "manager", draft).status_code == 200
    body = (
        api.as_("manager")
        .post(
            "/api/v1/policies/3/simulate", json={"from": start, "to": end, "minutes_per_review": 30}
        )
        .json()
    )
    assert body["current_version"] == 2, body
    assert body["outcomes"]["current"]["review"] == 3, body
    assert body["outcomes"]["simulated"]["approve"] == 3
    assert body["changed"]["total"] == 3
    assert [c["simulated"]["rule"] for c in body["changed"]["requests"]] == ["all_ok"] * 3
    assert body["auto_approved"]["simulated"] == {"CNY": "237.00"}
    assert body["review_hours_saved"] == "1.5"


def test_a_simulation_needs_a_sane_period_and_a_manager(api: Api) -> None:
    body = {"from": "2026-11-26T00:00:00+08:00", "to": "2026-11-25T00:00:00+08:00"}
    assert api.as_("manager").post("/api/v1/policies/1/simulate", json=body).status_code == 422
    assert (
        api.as_("cs")
        .post("/api/v1/policies/1/simulate", json={"from": body["to"], "to": body["from"]})
        .status_code
        == 403
    )
    missing = api.as_("manager").post(
        "/api/v1/policies/9/simulate", json={"from": body["to"], "to": body["from"]}
    )
    assert missing.status_code == 404


def test_a_simulation_decides_stored_requests_as_they_were_decided_live(
    sqlite_url: str,
) -> None:
    """The demo drives 1,000 orders' requests through the live use cases, each decided by
    the default policy with the history the customer had at that moment. Re-deciding them
    in one pass must name the same rule for every request. (A request whose earlier request
    was cancelled only afterwards could differ: the pass knows final statuses. With this
    seed none is.)"""
    from datetime import UTC, datetime

    from refundflow.adapters.db.uow import SqlUnitOfWorkFactory
    from refundflow.entrypoints.bootstrap import bootstrap
    from refundflow.entrypoints.settings import Settings
    from refundflow.services.demo import seed_demo
    from refundflow.services.simulation import rules_under

    box = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    try:
        clock = ManualClock()
        uows = SqlUnitOfWorkFactory(box.engine, clock=clock.now, tz=box.settings.tz)
        seed_demo(uows, clock, orders_count=1000, seed=5, now=datetime(2026, 11, 1, tzinfo=UTC))
        with box.engine.connect() as conn:
            stored = dict(
                conn.exec_driver_sql("SELECT id, decision_rule FROM refund_requests").fetchall()
            )
        simulated = rules_under(
            box.uows, 1, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        )
    finally:
        box.close()
    assert set(simulated) == set(stored)
    assert len(stored) > 250
    assert {rid: rule for rid, rule in simulated.items() if stored[rid] != rule} == {}
