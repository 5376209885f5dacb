"""The staff console in a real browser: each role sees its own queue and actions, and one
request is worked from review through the warehouse to finance by three people."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from refundflow.entrypoints.bootstrap import Container
from tests.browser.conftest import PASSWORD, LiveServer, shot, sign_in
from tests.integration.api import order_body, request_body

pytestmark = pytest.mark.slow

# What each role's navigation offers (the permission table of the console).
NAV = {
    "cs": {"/console"},
    "warehouse": {"/console", "/console/warehouse"},
    "finance": {"/console", "/console/finance"},
    "manager": {
        "/console",
        "/console/finance",
        "/console/policy",
        "/console/settings",
        "/console/dashboard",
    },
    "admin": {
        "/console",
        "/console/warehouse",
        "/console/finance",
        "/console/policy",
        "/console/settings",
        "/console/dashboard",
    },
}
QUEUE_TABS = {
    "cs": ["cs", "cs_senior"],
    "warehouse": ["warehouse"],
    "finance": ["finance"],
    "manager": ["manager", "cs", "cs_senior", "warehouse", "finance"],
    "admin": ["cs", "cs_senior", "warehouse", "finance", "manager"],
}
WATCH = {
    "sku": "EL-SW-330",
    "name": "智能手表",
    "category": "electronics",
    "quantity": 2,
    "unit_price": "1299.00",
}


def _api(live: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"})


def _seed(live: LiveServer, tokens: dict[str, str]) -> dict[str, Any]:
    """One request in each department's queue, through the public API."""
    with _api(live, tokens["admin"]) as admin:
        made: dict[str, Any] = {}
        for no in ("WEB-1", "WEB-2", "WEB-3"):
            assert admin.post("/api/v1/orders", json=order_body(no)).status_code == 201
        for no, key in (("WEB-1", "review"), ("WEB-2", "warehouse"), ("WEB-3", "finance")):
            created = admin.post("/api/v1/refund-requests", json=request_body(no))
            assert created.status_code == 201, created.text
            made[key] = created.json()
        parcel = made["warehouse"]["id"]
        admin.post(f"/api/v1/refund-requests/{parcel}/approve")
        shipped = {"carrier": "顺丰", "tracking_no": "SF1001"}
        admin.post(f"/api/v1/refund-requests/{parcel}/return-shipment", json=shipped)
        finance = made["finance"]["id"]
        admin.post(f"/api/v1/refund-requests/{finance}/approve", json={"requires_return": False})
    return made


@pytest.mark.parametrize("role", ["cs", "warehouse", "finance", "manager", "admin"])
def test_each_role_sees_only_its_queues_and_its_actions(
    role: str,
    live: LiveServer,
    staff: dict[str, str],
    tokens: dict[str, str],
    manual_review: int,
    new_page: Any,
) -> None:
    made = _seed(live, tokens)
    page: Page = new_page()
    sign_in(page, live, staff[role])
    links = page.locator("header nav a[href^='/console']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert set(links) == NAV[role]
    tabs = page.locator("nav.tabs a[data-queue]").evaluate_all(
        "links => links.map(a => a.dataset.queue)"
    )
    assert tabs == QUEUE_TABS[role]
    shown = set(
        page.locator("tr[data-request]").evaluate_all("rows => rows.map(r => r.dataset.request)")
    )
    expected = {
        "cs": {made["review"]["number"]},
        "warehouse": {made["warehouse"]["number"]},
        "finance": {made["finance"]["number"]},
        "manager": set(),
        "admin": {made["review"]["number"]},
    }[role]
    assert shown == expected
    shot(page, f"console-home-{role}")

    # The case page offers only what this role may do now.
    page.goto(f"{live.url}/console/requests/{made['review']['number']}")
    offered = set(page.locator("[data-action]").evaluate_all("d => d.map(x => x.dataset.action)"))
    assert (
        offered
        == {
            "cs": {"approve", "reject", "cancel"},
            "warehouse": set(),
            "finance": set(),
            "manager": {"approve", "reject", "cancel"},
            "admin": {"approve", "reject", "cancel"},
        }[role]
    )
    # Pages outside the role answer 403 with a message, not a blank.
    for path in ("/console/warehouse", "/console/finance"):
        response = page.goto(f"{live.url}{path}")
        assert response is not None
        allowed = path in NAV[role]
        assert (response.status == 200) == allowed, path
        if not allowed:
            expect(page.locator(".error")).to_contain_text("role")


def _step_up(page: Page, *, wrong_first: bool = False) -> None:
    """The step-up page asks for the password again, then goes back to the case."""
    expect(page).to_have_url(re.compile(r".*/console/step-up\?next=%2Fconsole%2Frequests%2F"))
    if wrong_first:
        page.fill("#password", "not-my-password")
        page.click("form[action='/console/step-up'] button[type=submit]")
        expect(page.locator("p.error")).to_be_visible()
        shot(page, "console-step-up")
    page.fill("#password", PASSWORD)
    page.click("form[action='/console/step-up'] button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/console/requests/RF"))


def test_a_request_is_worked_from_review_through_the_warehouse_to_finance(
    live: LiveServer,
    staff: dict[str, str],
    tokens: dict[str, str],
    manual_review: int,
    new_page: Any,
    box: Container,
) -> None:
    with _api(live, tokens["admin"]) as admin:
        order = order_body(
            "WEB-BIG",
            lines=[WATCH],
            payments=[{"method": "alipay", "amount": "2610.00", "reference": "A-BIG"}],
        )
        assert admin.post("/api/v1/orders", json=order).status_code == 201
    with _api(live, tokens["cs"]) as cs_api:
        created = cs_api.post(
            "/api/v1/refund-requests",
            json=request_body("WEB-BIG", lines=[{"sku": "EL-SW-330", "quantity": 2}]),
        ).json()
    number = created["number"]

    # Customer service finds it by the caller's last four phone digits and approves it.
    cs = new_page()
    sign_in(cs, live, staff["cs"])
    cs.fill("input[name=q]", "5678")
    cs.press("input[name=q]", "Enter")
    cs.click(f"#search-results a:text('{number}')")
    expect(cs.locator("#status")).to_have_attribute("data-status", "pending_review")
    expect(cs.locator("#phone")).to_have_text("139****5678")
    cs.click("#customer button")  # unmask (htmx), which is audited
    expect(cs.locator("#phone")).to_have_text("13912345678")
    cs.fill("#contacts textarea[name=summary]", "客户来电确认两只手表都有问题")
    cs.click("#contacts button[type=submit]")
    expect(cs.locator("#contacts li")).to_contain_text("两只手表")
    shot(cs, "console-case-cs")
    cs.click("[data-action=approve] button[type=submit]")
    # Above the finance threshold: the password again first, then the same button.
    _step_up(cs, wrong_first=True)
    expect(cs.locator("#status")).to_have_attribute("data-status", "pending_review")
    cs.click("[data-action=approve] button[type=submit]")
    expect(cs.locator("#status")).to_have_attribute("data-status", "awaiting_return")

    # The warehouse scans the parcel, grades both watches and confirms.
    wh = new_page()
    sign_in(wh, live, staff["warehouse"])
    wh.goto(f"{live.url}/console/warehouse")
    expect(wh.locator("#scan")).to_be_focused()
    wh.fill("#scan", number)
    wh.press("#scan", "Enter")
    expect(wh.locator("#scanned #status")).to_have_attribute("data-status", "received")
    wh.select_option("select[name='grade_EL-SW-330']", "A")
    shot(wh, "console-warehouse")
    wh.click("[data-action=inspect] button[type=submit]")
    expect(wh.locator("#scan")).to_be_visible()

    # Finance: a second person approves the large refund, then pays it.
    fin = new_page()
    sign_in(fin, live, staff["finance"])
    fin.goto(f"{live.url}/console/finance")
    expect(fin.locator("#sec-finance_approval")).to_contain_text(number)
    shot(fin, "console-finance")
    fin.click(f"#sec-finance_approval a:text('{number}')")
    fin.click("[data-action=finance-approve] button[type=submit]")
    _step_up(fin)
    fin.click("[data-action=finance-approve] button[type=submit]")
    fin.click("[data-action=execute] summary")
    fin.click("[data-action=execute] button[type=submit]")
    expect(fin.locator("#status")).to_have_attribute(
        "data-status", re.compile("refunding|refunded")
    )

    with _api(live, tokens["admin"]) as admin:
        final = admin.get(f"/api/v1/refund-requests/{number}").json()
    actors = {e["action"]: e["actor"]["role"] for e in final["timeline"]}
    assert actors["approve"] == "cs"
    assert actors["receive"] == "warehouse" and actors["inspect"] == "warehouse"
    assert actors["finance-approve"] == "finance" and actors["execute"] == "finance"
    assert [line["grade"] for line in final["lines"]] == ["A"]
    with box.engine.connect() as conn:
        from sqlalchemy import text

        looked = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'pii.unmask'")
        ).scalar()
    assert looked == 1
