"""The customer portal: codes, sessions scoped to one customer, requests, live updates,
photos and surveys."""

from __future__ import annotations

import io
import json
import re
import statistics
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.services.clock import ManualClock
from refundflow.services.notifications import survey_link
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body


@pytest.fixture(autouse=True)
def _everything_to_review(manual_review: int) -> None:
    """Requests wait for review, so that customers can act on them."""


@pytest.fixture
def settings(db_url: str) -> Settings:
    """SMS and e-mail configured, so codes are queued as messages (no worker runs here, so
    nothing is sent; the notification tests send through real local servers)."""
    return Settings(
        database_url=db_url,
        environment="test",
        token_cache_seconds=0,
        smtp_url="smtp://127.0.0.1:9",
        sms_provider="webhook",
        sms_url="http://127.0.0.1:9/sms",
        sms_webhook_secret="s" * 32,
        rate_limits=False,  # the enumeration test looks up 200 times; limits have their own test
    )


def _codes(box: Container) -> list[dict[str, Any]]:
    """The login-code messages queued so far: channel, recipient and the code in the text."""
    with box.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT channel, recipient, content FROM notifications "
            "WHERE notice = 'login_code' ORDER BY id"
        ).fetchall()
    found = []
    for channel, recipient, content in rows:
        match = re.search(r"\b(\d{6})\b", content)
        assert match, content
        found.append({"channel": channel, "to": recipient, "code": match.group(1)})
    return found


def _sign_in(
    api: Api, box: Container, order_no: str = "TM-1001", contact: str = "13912345678"
) -> dict[str, str]:
    assert (
        api.client.post(
            "/api/v1/portal/lookup", json={"order_no": order_no, "contact": contact}
        ).status_code
        == 202
    )
    code = _codes(box)[-1]["code"]
    verified = api.client.post(
        "/api/v1/portal/verify", json={"order_no": order_no, "contact": contact, "code": code}
    )
    assert verified.status_code == 200, verified.text
    return {"Authorization": f"Bearer {verified.json()['token']}"}


def _other_customer(api: Api) -> None:
    api.as_("integration").post(
        "/api/v1/orders",
        json=order_body(
            "TM-2002", customer={"name": "王强", "phone": "13700002222", "email": "wq@example.cn"}
        ),
    )


# ---------------------------------------------------------------- codes and sessions
def test_a_code_goes_to_the_contact_on_the_order_and_opens_a_session(
    api: Api, box: Container, an_order: Any
) -> None:
    answer = api.client.post(
        "/api/v1/portal/lookup", json={"order_no": "TM-1001", "contact": "+86 139-1234-5678"}
    )
    assert answer.status_code == 202
    [sent] = _codes(box)
    assert (sent["channel"], sent["to"]) == ("sms", "+8613912345678")
    assert re.fullmatch(r"\d{6}", sent["code"])
    wrong = api.client.post(
        "/api/v1/portal/verify",
        json={
            "order_no": "TM-1001",
            "contact": "13912345678",
            "code": f"{(int(sent['code']) + 1) % 10**6:06d}",
        },
    )
    assert wrong.status_code == 401
    right = api.client.post(
        "/api/v1/portal/verify",
        json={"order_no": "TM-1001", "contact": "13912345678", "code": sent["code"]},
    )
    assert right.status_code == 200 and right.json()["token"].startswith("rfc_")
    reused = api.client.post(
        "/api/v1/portal/verify",
        json={"order_no": "TM-1001", "contact": "13912345678", "code": sent["code"]},
    )
    assert reused.status_code == 401, "single use"
    by_mail = api.client.post(
        "/api/v1/portal/lookup", json={"order_no": "TM-1001", "contact": "LiNa@Example.cn"}
    )
    assert by_mail.status_code == 202
    assert _codes(box)[-1]["channel"] == "email"


def test_a_code_dies_after_five_wrong_tries_and_after_ten_minutes(
    api: Api, box: Container, an_order: Any, clock: ManualClock
) -> None:
    body = {"order_no": "TM-1001", "contact": "13912345678"}
    api.client.post("/api/v1/portal/lookup", json=body)
    code = _codes(box)[-1]["code"]
    bad = f"{(int(code) + 7) % 10**6:06d}"
    for _ in range(5):
        assert (
            api.client.post("/api/v1/portal/verify", json={**body, "code": bad}).status_code == 401
        )
    too_many = api.client.post("/api/v1/portal/verify", json={**body, "code": code})
    assert too_many.status_code == 401 and "too many" in too_many.json()["error"]["message"]
    api.client.post("/api/v1/portal/lookup", json=body)
    fresh = _codes(box)[-1]["code"]
    clock.advance(timedelta(minutes=10, seconds=1))
    assert api.client.post("/api/v1/portal/verify", json={**body, "code": fresh}).status_code == 401


def test_lookups_cannot_tell_a_real_order_from_a_made_up_one(
    api: Api, box: Container, an_order: Any
) -> None:
    """200 lookups, half for the real order and contact, half for orders that do not exist:
    the same status, body and headers, and the same database work (a code row each)."""
    answers: dict[bool, list[tuple[int, str, tuple[Any, ...]]]] = {True: [], False: []}
    durations: dict[bool, list[float]] = {True: [], False: []}
    for n in range(200):
        real = n % 2 == 0
        body = (
            {"order_no": "TM-1001", "contact": "13912345678"}
            if real
            else {"order_no": f"TM-{9000 + n}", "contact": f"13{n:09d}"}
        )
        started = time.perf_counter()
        response = api.client.post("/api/v1/portal/lookup", json=body)
        durations[real].append(time.perf_counter() - started)
        headers = tuple(sorted((k, v) for k, v in response.headers.items() if k != "date"))
        answers[real].append((response.status_code, response.text, headers))
    assert set(answers[True]) == set(answers[False])
    assert len(set(answers[True])) == 1
    with box.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT COUNT(*) FROM customer_codes").scalar_one()
    assert rows == 200
    print(
        f"median lookup: real {statistics.median(durations[True]) * 1e3:.2f} ms, "
        f"unknown {statistics.median(durations[False]) * 1e3:.2f} ms"
    )


def test_no_more_than_three_codes_are_sent_per_order_in_ten_minutes(
    api: Api, box: Container, an_order: Any
) -> None:
    for _ in range(5):
        api.client.post(
            "/api/v1/portal/lookup", json={"order_no": "TM-1001", "contact": "13912345678"}
        )
    assert len(_codes(box)) == 3


# ---------------------------------------------------------------- a customer sees only their own
def test_a_customer_sees_and_acts_only_on_their_own_orders_and_requests(
    api: Api, box: Container, an_order: Any
) -> None:
    _other_customer(api)
    theirs = api.post("/api/v1/refund-requests", json=request_body("TM-2002")).json()
    me = _sign_in(api, box)
    mine = api.client.post("/api/v1/portal/refund-requests", headers=me, json=request_body()).json()
    assert mine["intake_channel" if "intake_channel" in mine else "number"]
    before = snapshot(box)
    for method, path, body in [
        ("get", "/api/v1/portal/orders/TM-2002", None),
        ("get", f"/api/v1/portal/refund-requests/{theirs['id']}", None),
        ("get", f"/api/v1/portal/refund-requests/{theirs['number']}", None),
        ("post", "/api/v1/portal/refund-requests", request_body("TM-2002")),
        ("post", f"/api/v1/portal/refund-requests/{theirs['id']}/cancel", None),
        ("post", "/api/v1/portal/refund-requests/preview", request_body("TM-2002")),
    ]:
        response = api.client.request(method, path, headers=me, json=body)
        assert response.status_code == 404, (path, response.text)
    assert snapshot(box) == before
    listed = api.client.get("/api/v1/portal/refund-requests", headers=me).json()
    assert [r["id"] for r in listed] == [mine["id"]]
    assert api.client.get("/api/v1/portal/orders/TM-1001").status_code == 401


def test_the_customer_view_leaves_out_staff_reasoning(
    api: Api, box: Container, an_order: Any
) -> None:
    me = _sign_in(api, box)
    mine = api.client.post("/api/v1/portal/refund-requests", headers=me, json=request_body()).json()
    view = api.client.get(f"/api/v1/portal/refund-requests/{mine['id']}", headers=me).json()
    assert set(view["decision"]) == {"outcome", "explanation", "offer"}
    assert "customer_tier" not in view and "finance_approval" not in view
    assert all(
        set(e["data"]) <= {"carrier", "tracking_no", "amount_approved", "result", "reference"}
        for e in view["timeline"]
    )
    staff = api.get(f"/api/v1/refund-requests/{mine['id']}").json()
    assert staff["intake_channel"] == "portal"


def test_the_customer_ships_back_cancels_and_appeals_from_the_portal(
    api: Api, box: Container, an_order: Any
) -> None:
    me = _sign_in(api, box)
    first = api.client.post(
        "/api/v1/portal/refund-requests", headers=me, json=request_body()
    ).json()
    api.as_("cs").act(first["id"], "approve")
    shipped = api.client.post(
        f"/api/v1/portal/refund-requests/{first['id']}/return-shipment",
        headers=me,
        json={"carrier": "顺丰", "tracking_no": "SF1"},
    )
    assert shipped.json()["return_shipment"]["tracking_no"] == "SF1"
    assert (
        api.client.post(
            f"/api/v1/portal/refund-requests/{first['id']}/approve", headers=me
        ).status_code
        == 422
    )
    second = api.client.post(
        "/api/v1/portal/refund-requests",
        headers=me,
        json=request_body(lines=[{"sku": "EL-EB-501", "quantity": 1}]),
    ).json()
    api.as_("cs").act(second["id"], "reject", reason="不符合条件")
    appealed = api.client.post(
        f"/api/v1/portal/refund-requests/{second['id']}/appeal",
        headers=me,
        json={"reason": "商品确有瑕疵"},
    )
    assert appealed.json()["status"] == "pending_review"
    cancelled = api.client.post(f"/api/v1/portal/refund-requests/{second['id']}/cancel", headers=me)
    assert cancelled.json()["status"] == "cancelled"


def test_the_preview_shows_the_decision_and_offers_without_storing(
    api: Api, box: Container, an_order: Any
) -> None:
    from tests.conftest import publish

    publish(
        box,
        {
            "rules": [
                {
                    "id": "offer",
                    "name": "小额换货或余额",
                    "outcome": "review",
                    "conditions": [{"fact": "amount", "operator": "<=", "value": "100.00"}],
                    "options": {"offer": {"exchange": True, "store_credit_bonus_pct": "10"}},
                }
            ]
        },
    )
    me = _sign_in(api, box)
    before = snapshot(box)
    shown = api.client.post(
        "/api/v1/portal/refund-requests/preview", headers=me, json=request_body()
    ).json()
    assert shown["amount"] == "79.00"
    assert shown["offer"] == {
        "exchange": True,
        "store_credit_bonus_pct": "10",
        "keep_item_refund_pct": None,
    }
    assert snapshot(box) == before


# ---------------------------------------------------------------- photos
def _png(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_photos_are_checked_by_content_re_encoded_and_private(
    api: Api, box: Container, an_order: Any, tmp_path: Any
) -> None:
    box.photos.root = tmp_path
    me = _sign_in(api, box)
    mine = api.client.post("/api/v1/portal/refund-requests", headers=me, json=request_body()).json()
    url = f"/api/v1/portal/refund-requests/{mine['id']}/photos"
    fake = api.client.post(
        url, headers=me, files=[("photos", ("evil.png", b"<script>x</script>", "image/png"))]
    )
    assert fake.status_code == 422 and "photo" in fake.json()["error"]["message"]
    added = api.client.post(
        url, headers=me, files=[("photos", ("a.jpg", _jpeg_with_gps(), "image/jpeg"))]
    )
    assert added.status_code == 201, added.text
    [photo_id] = added.json()["photos"]
    [stored] = list(tmp_path.rglob("*.jpg"))
    with Image.open(stored) as kept:
        assert not kept.getexif(), "re-encoding dropped the EXIF (GPS) data"
    too_many = api.client.post(
        url, headers=me, files=[("photos", (f"{n}.png", _png(), "image/png")) for n in range(6)]
    )
    assert too_many.status_code == 409
    _other_customer(api)
    other = _sign_in(api, box, "TM-2002", "13700002222")
    assert (
        api.client.post(
            url, headers=other, files=[("photos", ("b.png", _png(), "image/png"))]
        ).status_code
        == 404
    )
    view = api.client.get(f"/api/v1/portal/refund-requests/{mine['id']}", headers=me).json()
    assert view["photos"] == [photo_id]


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (32, 32), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPS info
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    assert Image.open(io.BytesIO(out.getvalue())).getexif()
    return out.getvalue()


# ---------------------------------------------------------------- surveys
def test_a_closed_request_is_rated_once_and_a_low_score_asks_for_a_call(
    api: Api, box: Container, an_order: Any, clock: ManualClock
) -> None:
    me = _sign_in(api, box)
    mine = api.client.post("/api/v1/portal/refund-requests", headers=me, json=request_body()).json()
    link, _ = survey_link(
        "http://testserver", box.settings.secret_key, mine["id"], clock.now(), timedelta(days=30)
    )
    path = link.removeprefix("http://testserver")
    page = api.client.get(path)
    assert page.status_code == 200 and 'name="csat"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    early = api.client.post(path, data={"csrf_token": csrf, "csat": "2", "resolved": "no"})
    assert early.status_code == 409
    api.as_("cs").act(mine["id"], "reject", reason="不符合条件")
    answered = api.client.post(
        path, data={"csrf_token": csrf, "csat": "2", "resolved": "no", "comment": "太慢"}
    )
    assert answered.status_code == 200 and "感谢" in answered.text
    again = api.client.post(path, data={"csrf_token": csrf, "csat": "5", "resolved": "yes"})
    assert again.status_code == 409
    follow_ups = api.as_("cs").get("/api/v1/queues/cs", params={"step": "follow_up"}).json()
    assert [i["request_id"] for i in follow_ups["items"]] == [mine["id"]]
    assert api.client.get("/survey/forged-token").status_code == 404


# ---------------------------------------------------------------- pages
def test_the_pages_walk_from_lookup_to_the_request(api: Api, box: Container, an_order: Any) -> None:
    client = api.client
    home = client.get("/")
    assert home.status_code == 200 and '<html lang="zh-CN">' in home.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
    refused = client.post("/lookup", data={"order_no": "TM-1001", "contact": "13912345678"})
    assert refused.status_code == 403, "no CSRF token"
    code_page = client.post(
        "/lookup", data={"csrf_token": csrf, "order_no": "TM-1001", "contact": "13912345678"}
    )
    assert 'name="code"' in code_page.text
    assert "13912345678" not in str(code_page.url), "no PII in URLs"
    code = _codes(box)[-1]["code"]
    opened = client.post(
        "/verify",
        data={"csrf_token": csrf, "order_no": "TM-1001", "contact": "13912345678", "code": code},
        follow_redirects=False,
    )
    assert opened.status_code == 303 and opened.headers["location"] == "/orders/TM-1001"
    assert "httponly" in opened.headers["set-cookie"].lower()
    order_page = client.get("/orders/TM-1001")
    assert "纯棉T恤" in order_page.text
    created = client.post(
        "/orders/TM-1001/requests",
        data={
            "csrf_token": csrf,
            "type": "return_and_refund",
            "reason": "quality_issue",
            "qty_AP-TS-001": "1",
            "refund_route": "original",
        },
        files=[("photos", ("a.png", _png(), "image/png"))],
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    page = client.get(created.headers["location"])
    assert "待审核" in page.text and "客服" in page.text
    english = client.get(created.headers["location"] + "?lang=en")
    assert "Under review" in english.text


def test_the_request_page_streams_changes_live(
    api: Api, box: Container, db_url: str, an_order: Any
) -> None:
    from tests.tools.servers import running_servers

    me = _sign_in(api, box)
    mine = api.client.post("/api/v1/portal/refund-requests", headers=me, json=request_body()).json()
    path = f"/api/v1/portal/refund-requests/{mine['id']}/events"
    with (
        running_servers(db_url, 1) as [url],
        httpx.Client(base_url=url, timeout=20) as client,
        client.stream("GET", path, headers=me) as stream,
    ):
        events = stream.iter_lines()
        first = _next_update(events)
        assert first["status"] == "pending_review"
        api.as_("cs").act(mine["id"], "approve")
        second = _next_update(events)
        assert second["status"] == "awaiting_return"


def _next_update(lines: Any) -> dict[str, Any]:
    for line in lines:
        if line.startswith("data:"):
            return dict(json.loads(line[5:].strip()))
    raise AssertionError("the stream ended")
