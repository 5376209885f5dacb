"""A customer's whole journey on a phone-sized screen (360 × 740): find the order, the code
from a real SMTP server, a request with a photo, the instant decision, staff acting through
the API while the page updates itself, the survey from the e-mail's link."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from py_vapid import Vapid02

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.worker import start_in_thread
from tests.browser.conftest import LiveServer, shot
from tests.integration.api import order_body
from tests.tools.servers import free_port
from tests.tools.smtpserver import Inbox, smtp_server

VAPID = Vapid02()
VAPID.generate_keys()

pytestmark = pytest.mark.slow
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(db_url: str, inbox: Inbox, port: int) -> Settings:
    return Settings(
        database_url=db_url,
        environment="test",
        token_cache_seconds=0,
        public_url=f"http://127.0.0.1:{port}",
        smtp_url=f"smtp://{inbox.host}:{inbox.port}",
        mail_from="好物商城 <service@shop.example.cn>",
        hotline="400-820-8820",
        vapid_private_key=VAPID.private_pem().decode(),
    )


@pytest.fixture
def worker(box: Container) -> Iterator[None]:
    thread, stop = start_in_thread(box)
    yield
    stop.set()
    thread.join(timeout=10)


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def _mail(inbox: Inbox, pattern: str, after: int = 0) -> re.Match[str]:
    """The first message from index ``after`` on whose text matches (the worker sends
    within a poll or two)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in inbox.messages[after:]:
            found = re.search(pattern, _text(message))
            if found:
                return found
        time.sleep(0.1)
    raise AssertionError(
        f"no e-mail matching {pattern!r}: {[m['subject'] for m in inbox.messages]}"
    )


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_customer_does_everything_on_a_phone(
    box: Container,
    port: int,
    inbox: Inbox,
    worker: None,
    tokens: dict[str, str],
    manual_review: int,
    new_page: Any,
) -> None:
    with LiveServer(box, port) as live, httpx.Client(base_url=live.url) as http:
        staff = {"Authorization": f"Bearer {tokens['admin']}"}
        assert (
            http.post("/api/v1/orders", json=order_body("WEB-88"), headers=staff).status_code == 201
        )
        page: Page = new_page(**PHONE, is_mobile=True, has_touch=True)

        # 1. Find my order: the code comes by e-mail.
        page.goto(live.url + "/")
        shot(page, "portal-1-find-order")
        page.fill("#order_no", "WEB-88")
        page.fill("#contact", "lina@example.cn")
        page.click("button[type=submit]")
        expect(page.locator("#code")).to_be_visible()
        shot(page, "portal-2-code")
        code = _mail(inbox, r"\b(\d{6})\b").group(1)
        page.fill("#code", code)
        page.click("form[action='/verify'] button[type=submit]")
        page.wait_for_url(re.compile(r".*/orders/WEB-88$"))
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
            "nothing wider than the phone"
        )

        # 2-3. Ask for a refund with a photo; see the decision before and after.
        page.fill("#qty_AP-TS-001", "1")
        page.select_option("#reason", "quality_issue")
        page.fill("#description", "洗了一次就开线了")
        page.set_input_files(
            "#photos", files=[{"name": "seam.jpg", "mimeType": "image/jpeg", "buffer": _photo()}]
        )
        page.click("button[hx-post]")
        expect(page.locator("#preview article")).to_be_visible()
        shot(page, "portal-3-request-form")
        page.click("#request-form button[type=submit]")
        page.wait_for_url(re.compile(r".*/r/RF\d{8}-\d+$"))
        number = page.url.rsplit("/", 1)[1]
        expect(page.locator("#status-label")).to_have_text("待审核")
        expect(page.locator(".explanation")).not_to_be_empty()
        # The browser may take push notifications: the service worker registered, the offer shows.
        expect(page.locator("#push-toggle")).to_have_text("开启浏览器推送通知")
        assert page.evaluate("navigator.serviceWorker.getRegistration('/').then(r => !!r)")
        shot(page, "portal-4-request")
        uploads = http.get(f"/api/v1/refund-requests/{number}", headers=staff).json()
        assert uploads["status"] == "pending_review"

        # 4. Staff act through the API; the page follows live, without reloading.
        page.evaluate("window.__stayed = true")
        approved = http.post(f"/api/v1/refund-requests/{number}/approve", headers=staff)
        assert approved.status_code == 200
        expect(page.locator("#status-label")).to_have_text("待寄回商品", timeout=20_000)
        assert page.evaluate("window.__stayed") is True
        shot(page, "portal-5-approved-live")
        page.fill("#carrier", "顺丰")
        page.fill("#tracking_no", "SF8800123")
        page.click("form[action$='/return-shipment'] button[type=submit]")
        expect(page.locator("#timeline")).to_contain_text("SF8800123")
        page.evaluate("window.__stayed = true")
        for action, body in (
            ("receive", None),
            ("inspect", {"result": "pass"}),
            ("execute", None),
            ("mark-refunded", {"reference": "ALI-REFUND-1"}),
        ):
            done = http.post(f"/api/v1/refund-requests/{number}/{action}", json=body, headers=staff)
            assert done.status_code == 200, done.text
        expect(page.locator("#status-label")).to_have_text("已退款", timeout=20_000)
        assert page.evaluate("window.__stayed") is True
        expect(page.locator("#my-actions form")).to_have_count(0)  # nothing left to do
        shot(page, "portal-6-refunded")

        # 5. The survey, from the e-mail's link, in a browser that never signed in.
        link = _mail(inbox, r"(http://127\.0\.0\.1:\d+/survey/\S+)").group(1)
        stranger: Page = new_page(**PHONE, is_mobile=True, has_touch=True)
        stranger.goto(link)
        stranger.check("#csat2")
        stranger.check("#resolved_no")
        stranger.fill("#comment", "等了太久")
        shot(stranger, "portal-7-survey")
        stranger.click("button[type=submit]")
        expect(stranger.locator("[role=status]")).to_be_visible()
        follow_ups = http.get("/api/v1/queues/cs", params={"step": "follow_up"}, headers=staff)
        assert [i["request"]["number"] for i in follow_ups.json()["items"]] == [number]
        subjects = [str(m["subject"]) for m in inbox.messages]
        assert len(subjects) == len(set(subjects)), f"a message went twice: {subjects}"
