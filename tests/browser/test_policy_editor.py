"""The policy editor in a real browser: a manager adds a rule that refunds small quality
issues at once, simulates the draft on stored requests (and sees which change outcome),
publishes it, and the next request is decided by the new rule. Then the settings: a
notification template previewed on sample data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, LiveServer, shot, sign_in
from tests.integration.api import order_body, request_body

pytestmark = pytest.mark.slow


def _create(live: LiveServer, tokens: dict[str, str], order_no: str) -> dict[str, Any]:
    """An order from the shop and a refund request from customer service, over HTTP."""
    with httpx.Client(base_url=live.url) as http:
        order = http.post(
            "/api/v1/orders",
            json=order_body(order_no),
            headers={"Authorization": f"Bearer {tokens['integration']}"},
        )
        assert order.status_code == 201, order.text
        made = http.post(
            "/api/v1/refund-requests",
            json=request_body(order_no),
            headers={"Authorization": f"Bearer {tokens['cs']}"},
        )
        assert made.status_code == 201, made.text
        return dict(made.json())


def test_a_manager_adds_simulates_and_publishes_a_rule_that_then_decides_requests(
    live: LiveServer,
    staff: dict[str, str],
    tokens: dict[str, str],
    manual_review: int,
    new_page: Any,
) -> None:
    earlier = _create(live, tokens, "WEB-1")
    assert earlier["status"] == "pending_review"  # every request is reviewed today

    page: Page = new_page()
    sign_in(page, live, staff["manager"])
    page.click("header nav a[href='/console/policy']")
    expect(page.locator("#draft-rules tr[data-rule='all']")).to_be_visible()

    # A new rule, first in the list: small quality issues are refunded without a return.
    page.click("#add-rule")
    page.fill("input[name=id]", "small_quality")
    page.fill("input[name=name]", "小额质量问题直接退款")
    page.fill("input[name=position]", "1")
    page.select_option("select[name=fact_0]", "amount")
    page.select_option("select[name=operator_0]", "<")
    page.fill("input[name=value_0]", "100.00")
    page.select_option("select[name=fact_1]", "reason")
    # The operator picker offers only what fits a text fact.
    expect(page.locator("select[name=operator_1] option[value='<']")).to_be_disabled()
    page.select_option("select[name=operator_1]", "=")
    # ...and suggests the shop's reason codes.
    expect(page.locator("input[name=value_1]")).to_have_attribute("list", "values-reason")
    page.fill("input[name=value_1]", "quality_issue")
    page.select_option("#outcome", "approve")
    page.select_option("select[name=requires_return]", "no")
    page.fill("input[name='reason_zh-CN']", "小额质量问题，无需寄回商品，退款立即发起")
    page.click("#save-rule")
    page.wait_for_url("**/console/policy?saved=1")
    first = page.locator("#draft-rules tbody tr").first
    expect(first).to_have_attribute("data-rule", "small_quality")
    expect(first).to_contain_text("退款金额 < 100.00")
    shot(page, "console-policy")

    # Simulated on the stored requests: the earlier request would now be approved.
    page.click("#run-simulation")
    changed = page.locator(f"#sim-changes tr[data-request='{earlier['number']}']")
    expect(changed).to_be_visible()
    expect(changed).to_contain_text("small_quality")
    expect(page.locator("#sim-outcomes tr[data-outcome=approve] td.simulated")).to_have_text("1")
    expect(page.locator("#sim-outcomes tr[data-outcome=approve] td.current")).to_have_text("0")
    shot(page, "console-policy-simulation")

    page.click("#publish-draft")
    page.wait_for_url(f"**/console/policy?published={manual_review + 1}")
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("#published")).to_contain_text("小额质量问题直接退款")

    # The next request is decided by the new rule at once.
    later = _create(live, tokens, "WEB-2")
    assert later["decision"]["rule"] == "small_quality"
    assert later["decision"]["policy_version"] == manual_review + 1
    assert later["status"] == "refund_pending"
    page.goto(f"{live.url}/console/requests/{later['number']}")
    expect(page.locator("body")).to_contain_text("小额质量问题直接退款")

    # Settings: a template edited and previewed on sample data, without saving.
    page.click("header nav a[href='/console/settings']")
    page.click("a[data-section=templates]")
    page.click("#template-list a[href*='notice=refunded&language=zh-CN']")
    page.fill("input[name=subject]", "退款 {{ request.number }} 已原路退回")
    page.click("#preview-template")
    email = page.locator("#template-preview article[data-channel=email]")
    expect(email).to_contain_text("已原路退回")
    expect(email).not_to_contain_text("{{")
    shot(page, "console-settings")

    # Every word of the editor comes from the message catalogue, in English too.
    page.goto(f"{live.url}/console/policy/rules/1?lang=en")
    expect(page.locator("#conditions thead")).to_contain_text("Fact")
    expect(page.locator("select[name=operator_0] option[value='<']")).to_have_text("less than")
    shot(page, "console-policy-rule-en")


def test_an_admin_adds_a_user_gives_them_a_role_and_edits_service_levels(
    live: LiveServer, staff: dict[str, str], new_page: Any
) -> None:
    page: Page = new_page()
    sign_in(page, live, staff["admin"])
    page.goto(f"{live.url}/console/settings/users")
    page.fill("#add-user input[name=email]", "new.finance@shop.example.cn")
    page.fill("#add-user input[name=name]", "财务 小周")
    page.select_option("#add-user select[name=role]", "cs")
    page.fill("#add-user input[name=password]", PASSWORD)
    page.click("#add-user button[type=submit]")
    row = page.locator("tr[data-user='new.finance@shop.example.cn']")
    expect(row).to_contain_text("客服")
    row.locator("select[name=role]").select_option("finance")
    row.locator("button", has_text="修改角色").click()
    expect(page.locator("tr[data-user='new.finance@shop.example.cn']")).to_contain_text("财务")
    shot(page, "console-settings-users")

    # The new user signs in with the role given.
    other: Page = new_page()
    sign_in(other, live, "new.finance@shop.example.cn")
    expect(other.locator("header .who")).to_have_attribute("data-role", "finance")
    expect(other.locator("header nav a[href='/console/settings']")).to_have_count(0)

    page.goto(f"{live.url}/console/settings/sla")
    first = page.locator("tr[data-sla-row='0'] input[name=minutes_0]")
    first.fill("45")
    page.click("#save-sla")
    page.wait_for_url("**/console/settings/sla?saved=1")
    expect(page.locator("tr[data-sla-row='0'] input[name=minutes_0]")).to_have_value("45")
    shot(page, "console-settings-sla")
