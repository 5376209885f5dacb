"""The dashboard's figures against a small history whose answers the test works out itself:
from the requests' timelines as the API shows them and from the stored rows, never from
the code that computes the dashboard."""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from refundflow.adapters.security import Argon2Hasher
from refundflow.entrypoints.bootstrap import Container
from refundflow.services import customer
from refundflow.services.auth import add_user
from refundflow.services.clock import ManualClock
from refundflow.services.metrics import pending_rollups, rebuild_rollups
from tests.conftest import publish
from tests.integration.api import Api, order_body, request_body

SHANGHAI_MIDNIGHT_NOV_20 = datetime(2026, 11, 19, 16, 0, tzinfo=UTC)
PERIOD = {"from": "2026-11-20", "to": "2026-11-26"}
POLICY = {
    "rules": [
        {
            "id": "wrong_item",
            "name": "发错货直接退款",
            "conditions": [{"fact": "reason", "operator": "=", "value": "wrong_item"}],
            "outcome": "approve",
            "options": {"requires_return": False},
        },
        {
            "id": "no_late_delivery",
            "name": "不接受改变主意",
            "conditions": [{"fact": "reason", "operator": "=", "value": "late_delivery"}],
            "outcome": "reject",
            "customer_reason": "本店不接受此原因",
        },
        {"id": "rest", "name": "其余人工审核", "conditions": [], "outcome": "review"},
    ]
}


def _order(api: Api, order_no: str, placed_at: str, channel: str = "tmall") -> None:
    body = order_body(order_no, placed_at=placed_at, channel=channel)
    response = api.as_("integration").post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text


def _create(api: Api, order_no: str, **body: Any) -> dict[str, Any]:
    response = api.as_("cs").post("/api/v1/refund-requests", json=request_body(order_no, **body))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _act(api: Api, role: str, rid: int, action: str, **body: Any) -> None:
    response = api.as_(role).act(rid, action, **body)
    assert response.status_code == 200, (action, response.text)


def _post(api: Api, role: str, path: str, body: dict[str, Any]) -> None:
    response = api.as_(role).post(path, json=body)
    assert response.status_code in (200, 201), response.text


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 4)


def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    ordered = sorted(values)
    return statistics.median(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1]


def _rows(box: Container, query: str) -> list[tuple[Any, ...]]:
    with box.engine.connect() as conn:
        return [tuple(row) for row in conn.exec_driver_sql(query)]


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.fixture
def history(api: Api, box: Container, clock: ManualClock) -> dict[str, Any]:
    """Orders and requests in the week of 20–26 November 2026 (Shanghai) and one the week
    before; each request moved by hand at known times."""
    publish(box, POLICY)
    _order(api, "OLD-1", "2026-11-14T09:00:00+08:00")
    clock.set(datetime(2026, 11, 15, 3, 0, tzinfo=UTC))
    old = _create(api, "OLD-1", reason="wrong_item", type="refund_only")

    for i, channel in enumerate(["tmall", "tmall", "jd", "douyin", "own_site"]):
        _order(api, f"TM-{i}", f"2026-11-2{i}T09:00:00+08:00", channel)
    _order(api, "OUT-1", "2026-11-27T09:00:00+08:00")  # after the period

    clock.set(SHANGHAI_MIDNIGHT_NOV_20 + timedelta(hours=2))
    refunded = _create(api, "TM-0", reason="wrong_item", type="refund_only")  # policy approves
    clock.advance(timedelta(hours=3, minutes=30))
    _act(api, "finance", refunded["id"], "execute")
    clock.advance(timedelta(hours=2))
    _act(api, "finance", refunded["id"], "mark-refunded", reference="ALI-1")

    clock.advance(timedelta(hours=1))
    rejected = _create(api, "TM-1", reason="late_delivery", type="refund_only")  # policy rejects
    clock.advance(timedelta(hours=5))
    _act(api, "cs", rejected["id"], "appeal", reason="我不同意")

    clock.advance(timedelta(days=1))
    reviewed = _create(api, "TM-2", reason="quality_issue", type="refund_only")
    clock.advance(timedelta(hours=20))
    _act(api, "cs", reviewed["id"], "approve")
    clock.advance(timedelta(hours=10))
    _act(api, "finance", reviewed["id"], "execute")
    clock.advance(timedelta(minutes=45))
    _act(api, "finance", reviewed["id"], "mark-refunded", reference="ALI-2")

    exchange = _create(api, "TM-3", type="exchange", reason="quality_issue")
    _post(
        api,
        "cs",
        f"/api/v1/refund-requests/{exchange['id']}/complaints",
        {"source": "phone", "severity": "high", "text": "太慢了"},
    )
    _post(
        api,
        "cs",
        f"/api/v1/refund-requests/{exchange['id']}/compensations",
        {"kind": "store_credit", "amount": "15.50"},
    )
    _post(
        api,
        "cs",
        f"/api/v1/refund-requests/{refunded['id']}/compensations",
        {"kind": "store_credit", "amount": "4.50"},
    )
    tag = {"code": "product_defect"}
    _post(api, "cs", f"/api/v1/refund-requests/{reviewed['id']}/root-cause", tag)

    clock.advance(timedelta(hours=2))
    customer.answer_survey(box.uows, refunded["id"], csat=5, resolved=True, comment=None)
    customer.answer_survey(box.uows, reviewed["id"], csat=3, resolved=True, comment=None)
    clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    return {
        "old": old["id"],
        "ids": [refunded["id"], rejected["id"], reviewed["id"], exchange["id"]],
    }


def _expected(api: Api, box: Container, ids: list[int]) -> dict[str, Any]:
    docs = [api.get(f"/api/v1/refund-requests/{rid}").json() for rid in ids]
    to_refund, first_response = [], []
    for doc in docs:
        created = _at(doc["timeline"][0]["at"])
        refunded = [e for e in doc["timeline"] if e["to_status"] == "refunded"]
        if refunded:
            to_refund.append(_hours(_at(refunded[0]["at"]) - created))
        answered = [
            e
            for e in doc["timeline"][1:]  # after the submission (which cs may have made)
            if e["actor"]["kind"] in ("staff", "policy")
        ]
        if answered:
            first_response.append(_hours(_at(answered[0]["at"]) - created))
    auto = [
        d
        for d in docs
        if any(
            e["actor"]["kind"] == "policy" and e["action"] in ("approve", "reject")
            for e in d["timeline"]
        )
    ]
    in_ids = ", ".join(str(i) for i in ids)
    items = _rows(
        box,
        "SELECT due_at, closed_at FROM work_items WHERE state = 'done' AND due_at IS NOT NULL "
        f"AND queue NOT IN ('customer', 'system') AND request_id IN ({in_ids})",
    )
    met = sum(1 for due, closed in items if _as_utc(closed) <= _as_utc(due))
    refunded_total = sum(Decimal(d["amount_refunded"]) for d in docs if d["status"] == "refunded")
    median_refund, p90_refund = _median_p90(to_refund)
    median_first, p90_first = _median_p90(first_response)
    return {
        "docs": docs,
        "requests": len(docs),
        "auto": len(auto),
        "sla": (met, len(items)),
        "refunded_total": refunded_total,
        "median_refund": median_refund,
        "p90_refund": p90_refund,
        "median_first": median_first,
        "p90_first": p90_first,
    }


def _close(actual: float | None, expected: float | None) -> bool:
    if expected is None:
        return actual is None
    return actual is not None and abs(actual - expected) < 1e-3


@pytest.mark.parametrize("rolled_up", [False, True], ids=["live", "rolled-up"])
def test_the_summary_matches_figures_worked_out_from_the_history(
    api: Api, box: Container, history: dict[str, Any], rolled_up: bool
) -> None:
    if rolled_up:  # every day read from the worker's daily rollups (test_metrics_rollups.py)
        assert rebuild_rollups(box.uows) >= 8
        assert pending_rollups(box.uows) == 0
    response = api.as_("manager").get("/api/v1/metrics/summary", params=PERIOD)
    assert response.status_code == 200, response.text
    body = response.json()
    want = _expected(api, box, history["ids"])

    assert (body["from"], body["to"]) == ("2026-11-20", "2026-11-26")
    assert body["requests"] == 4
    assert body["orders"] == 5  # OUT-1 is placed after the period, OLD-1 before it
    assert body["refund_rate"] == pytest.approx(4 / 5)
    assert body["amount_refunded"] == [
        {"amount": f"{want['refunded_total']:.2f}", "currency": "CNY"}
    ]
    assert body["auto_decision_rate"] == pytest.approx(want["auto"] / 4)
    assert want["auto"] == 2  # the approve rule and the reject rule
    for key, expected in [
        ("median_hours_to_refund", want["median_refund"]),
        ("p90_hours_to_refund", want["p90_refund"]),
        ("median_hours_to_first_response", want["median_first"]),
        ("p90_hours_to_first_response", want["p90_first"]),
    ]:
        assert _close(body[key], expected), (key, body[key], expected)
    # By hand: 5.5 h by policy and finance; 20 + 10 + 0.75 h through review.
    assert (body["median_hours_to_refund"], body["p90_hours_to_refund"]) == (18.125, 30.75)
    met, finished = want["sla"]
    assert body["sla_compliance"] == (pytest.approx(met / finished) if finished else None)
    assert body["csat_avg"] == pytest.approx(4.0)
    assert body["csat_positive_share"] == pytest.approx(0.5)
    assert body["complaint_rate"] == pytest.approx(1 / 4)
    assert body["appeal_rate"] == pytest.approx(1 / 4)
    assert body["exchange_share"] == pytest.approx(1 / 4)
    assert body["compensation_cost"] == [{"amount": "20.00", "currency": "CNY"}]

    previous = body["previous"]
    assert (previous["from"], previous["to"]) == ("2026-11-13", "2026-11-19")
    assert (previous["requests"], previous["orders"]) == (1, 1)
    assert previous["auto_decision_rate"] == 1.0
    assert previous["compensation_cost"] == []

    reasons = {row["key"]: row["requests"] for row in body["by_reason"]}
    assert reasons == {"wrong_item": 1, "late_delivery": 1, "quality_issue": 2}
    assert body["by_reason"][0]["key"] == "quality_issue"
    channels = {row["key"]: row["requests"] for row in body["by_channel"]}
    assert channels == {"tmall": 2, "jd": 1, "douyin": 1}
    assert [(r["key"], r["requests"]) for r in body["by_tier"]] == [("gold", 4)]
    causes = {row["key"]: row["requests"] for row in body["by_root_cause"]}
    assert causes == {"product_defect": 1, "": 3}
    assert [(r["key"], r["requests"]) for r in body["by_category"]] == [("apparel", 4)]
    assert [(r["key"], r["requests"], r["refunded"]) for r in body["by_sku"]] == [
        ("AP-TS-001", 4, 2)
    ]
    assert sum(row["requests"] for row in body["daily"]) == 4
    days = {row["day"]: row for row in body["daily"]}
    assert len(days) == 7
    created_days = [
        _at(d["created_at"]).astimezone(box.settings.tz).date().isoformat() for d in want["docs"]
    ]
    for day, row in days.items():
        assert row["requests"] == created_days.count(day)
    assert [days[f"2026-11-2{i}"]["orders"] for i in range(5)] == [1, 1, 1, 1, 1]


def test_an_empty_period_has_no_rates_rather_than_zeros(api: Api) -> None:
    body = (
        api.as_("admin")
        .get("/api/v1/metrics/summary", params={"from": "2020-01-01", "to": "2020-01-01"})
        .json()
    )
    assert body["requests"] == 0 and body["orders"] == 0
    assert body["refund_rate"] is None and body["median_hours_to_refund"] is None
    assert body["amount_refunded"] == [] and body["daily"][0]["requests"] == 0


def test_the_default_period_is_the_last_30_days(api: Api) -> None:
    body = api.as_("manager").get("/api/v1/metrics/summary").json()
    assert (body["from"], body["to"]) == ("2026-10-28", "2026-11-26")
    assert (body["previous"]["from"], body["previous"]["to"]) == ("2026-09-28", "2026-10-27")


@pytest.mark.parametrize("role", ["cs", "finance", "warehouse", "integration"])
def test_only_managers_and_admins_see_the_figures(api: Api, role: str) -> None:
    response = api.as_(role).get("/api/v1/metrics/summary", params=PERIOD)
    assert response.status_code == 403
    assert "dashboard" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"from": "2026-11-31", "to": "2026-12-01"}, "from must be a date"),
        ({"from": "2026-11-01", "to": "yesterday"}, "to must be a date"),
        ({"from": "2026-11-20", "to": "2026-11-01"}, "must not be after"),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "at most"),
    ],
)
def test_bad_periods_are_refused_with_a_reason(
    api: Api, params: dict[str, str], words: str
) -> None:
    response = api.as_("manager").get("/api/v1/metrics/summary", params=params)
    assert response.status_code == 422
    assert words in response.json()["error"]["message"]


# ---------------------------------------------------------------- the console page
def _console(client: TestClient, box: Container, role: str) -> TestClient:
    email = f"{role}@shop.example.cn"
    add_user(box.uows, Argon2Hasher(), email=email, role=role, password="pw-correct-42", name=role)
    login = client.get("/console/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert csrf is not None
    form = {"email": email, "password": "pw-correct-42", "csrf_token": csrf.group(1)}
    assert client.post("/console/login", data=form, follow_redirects=False).status_code == 303
    return client


def test_the_dashboard_page_shows_each_figure_beside_the_previous_period(
    client: TestClient, box: Container, history: dict[str, Any]
) -> None:
    _console(client, box, "manager")
    page = client.get("/console/dashboard", params={**PERIOD, "lang": "en"})
    assert page.status_code == 200, page.text
    html = page.text
    requests = re.search(
        r'data-figure="requests">.*?class="value"[^>]*>([^<]+)<.*?class="previous">([^<]+)<',
        html,
        re.S,
    )
    assert requests is not None and requests.groups() == ("4", "1")
    rate = re.search(r'data-figure="refund_rate">.*?class="value"[^>]*>([^<]+)<', html, re.S)
    assert rate is not None and rate.group(1) == "80.0%"  # 4 requests / 5 orders
    assert 'hx-trigger="every 30s"' in html and "/static/dashboard.js" in html
    assert "<script>" not in html  # the CSP allows no inline script
    for name in ("kpis", "daily", "reason", "category", "sku", "channel", "tier", "root_cause"):
        assert f"/console/dashboard/export/{name}.csv?from=2026-11-20&amp;to=2026-11-26" in html
    live = client.get("/console/dashboard/live", params=PERIOD)
    assert live.status_code == 200 and live.text.lstrip().startswith('<div id="dash-live"')


def test_every_table_downloads_as_csv_and_excel_with_the_figures(
    client: TestClient, box: Container, api: Api, history: dict[str, Any]
) -> None:
    _console(client, box, "manager")
    reply = client.get("/console/dashboard/export/reason.csv", params=PERIOD)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert "dashboard-reason-20261120-20261126.csv" in reply.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    by_key = {row["key"]: row for row in rows}
    docs = [api.get(f"/api/v1/refund-requests/{rid}").json() for rid in history["ids"]]
    for reason in {d["reason"] for d in docs}:
        mine = [d for d in docs if d["reason"] == reason]
        assert int(by_key[reason]["requests"]) == len(mine)
        refunded = [d for d in mine if d["status"] == "refunded"]
        assert int(by_key[reason]["refunded"]) == len(refunded)
        total = sum(Decimal(d["amount_refunded"]) for d in refunded)
        assert by_key[reason]["amount_refunded"] == (f"{total:.2f} CNY" if refunded else "0")
    daily = client.get("/console/dashboard/export/daily.xlsx", params=PERIOD)
    assert daily.status_code == 200
    sheet = load_workbook(io.BytesIO(daily.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("day", "requests", "orders", "refunded", "auto_decided")
    assert [v[0] for v in values[1:]] == [f"2026-11-{d}" for d in range(20, 27)]
    assert sum(int(v[1]) for v in values[1:]) == len(docs)  # type: ignore[arg-type]
    kpis = client.get("/console/dashboard/export/kpis.csv", params=PERIOD)
    text = kpis.content.decode("utf-8-sig")
    figures = {r["figure"]: r for r in csv.DictReader(io.StringIO(text))}
    assert (figures["requests"]["current"], figures["requests"]["previous"]) == ("4", "1")
    assert figures["compensation_cost"]["current"] == "20.00 CNY"
    assert client.get("/console/dashboard/export/secrets.csv", params=PERIOD).status_code == 404


def test_the_dashboard_page_is_for_managers_and_admins(client: TestClient, box: Container) -> None:
    _console(client, box, "cs")
    assert client.get("/console/dashboard").status_code == 403
    assert client.get("/console/dashboard/export/kpis.csv").status_code == 403
