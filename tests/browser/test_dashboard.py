"""The manager's dashboard in a real browser: the figures a small history should give, a
live refresh that shows a new request without reloading the page, and a CSV download."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from refundflow.entrypoints.bootstrap import Container
from refundflow.services.clock import ManualClock
from tests.browser.conftest import LiveServer, shot, sign_in
from tests.integration.api import order_body, request_body

pytestmark = pytest.mark.slow


def _api(live: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"})


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _card(page: Page, figure: str) -> Any:
    return page.locator(f'[data-figure="{figure}"] .value')


def test_a_manager_watches_the_figures_refresh_and_downloads_a_table(
    live: LiveServer,
    box: Container,
    clock: ManualClock,
    tokens: dict[str, str],
    staff: dict[str, str],
    new_page: Any,
    manual_review: int,
) -> None:
    with _api(live, tokens["admin"]) as admin:
        for no in ("DASH-1", "DASH-2", "DASH-3"):
            _ok(admin.post("/api/v1/orders", json=order_body(no)))
        refunded = _ok(admin.post("/api/v1/refund-requests", json=request_body("DASH-1")))
        _ok(admin.post("/api/v1/refund-requests", json=request_body("DASH-2")))
        clock.advance(timedelta(hours=2))
        rid = refunded["id"]
        _ok(admin.post(f"/api/v1/refund-requests/{rid}/approve", json={"requires_return": False}))
        clock.advance(timedelta(hours=4))
        with _api(live, tokens["finance"]) as finance:
            _ok(finance.post(f"/api/v1/refund-requests/{refunded['id']}/execute"))
            _ok(
                finance.post(
                    f"/api/v1/refund-requests/{refunded['id']}/mark-refunded",
                    json={"reference": "ALI-DASH-1"},
                )
            )
        done = _ok(admin.get(f"/api/v1/refund-requests/{refunded['id']}"))
    # Worked out here: 2 requests on 3 orders; one refunded 6 hours after it was made.
    made, paid = (datetime.fromisoformat(done["timeline"][i]["at"]) for i in (0, -1))
    hours = (paid - made).total_seconds() / 3600
    assert hours == 6

    page = new_page()
    sign_in(page, live, staff["manager"])
    page.clock.install()
    page.goto(f"{live.url}/console/dashboard")
    expect(page.locator("h1")).to_have_text("数据看板")
    expect(_card(page, "requests")).to_have_text("2")
    expect(_card(page, "orders")).to_have_text("3")
    expect(_card(page, "refund_rate")).to_have_text(f"{2 / 3 * 100:.1f}%")
    expect(_card(page, "amount_refunded")).to_have_text(f"{done['amount_refunded']} CNY")
    expect(_card(page, "median_hours_to_refund")).to_have_text(f"{hours:.1f}")
    expect(_card(page, "exchange_share")).to_have_text("0.0%")
    expect(page.locator('[data-figure="requests"] .previous')).to_have_text("0")
    expect(_card(page, "auto_decision_rate")).to_have_text("0.0%")  # every request reviewed
    reasons = page.locator('table[data-table="reason"] tr[data-key="quality_issue"] td')
    expect(reasons.nth(1)).to_have_text("2")
    expect(page.locator('[data-chart="daily"] canvas')).to_have_count(1)
    shot(page, "console-dashboard")

    page.evaluate("window.notReloaded = true")
    with _api(live, tokens["admin"]) as admin:
        _ok(admin.post("/api/v1/refund-requests", json=request_body("DASH-3")))
    page.clock.run_for(31_000)  # the live part reloads itself every 30 s
    expect(_card(page, "requests")).to_have_text("3")
    expect(_card(page, "refund_rate")).to_have_text("100.0%")
    assert page.evaluate("window.notReloaded") is True

    with page.expect_download() as download:
        page.click('[data-export="kpis-csv"]')
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    figures = {row["figure"]: row for row in rows}
    assert (figures["requests"]["current"], figures["requests"]["previous"]) == ("3", "0")
    assert figures["amount_refunded"]["current"] == f"{done['amount_refunded']} CNY"
    shot(page, "console-dashboard-refreshed")
