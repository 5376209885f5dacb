"""Notifications end to end on SQLite and PostgreSQL: lifecycle events become messages that
reach every channel's (local) provider exactly once — with two workers racing, the outbox
handled again, and providers failing first — plus preferences, templates, login codes."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from py_vapid import Vapid02
from sqlalchemy import text

from refundflow.adapters.channels.webpush import application_server_key
from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.events import DomainEvent
from refundflow.domain.permissions import Role
from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.worker import Worker, handlers_for
from refundflow.services import notifications
from refundflow.services.clock import ManualClock
from refundflow.services.outbox import OutboxMessage
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body
from tests.tools.providers import AlibabaSms, Fcm, JsonHook, SignedHook, WebPush, serving
from tests.tools.smtpserver import Inbox, smtp_server

MANAGER = Actor(ActorKind.STAFF, Role.MANAGER, "manager-1", "经理")
FLOW = {
    "request_received",
    "ship_goods",
    "parcel_received",
    "inspection_result",
    "refunded",
    "survey_invitation",
}
CUSTOMER_CHANNELS = {"email", "sms", "app_push", "fcm", "webpush"}


@dataclass
class Outside:
    inbox: Inbox
    sms: AlibabaSms
    app: SignedHook
    fcm: Fcm
    webpush: WebPush
    staff: JsonHook
    account: dict[str, str]
    vapid_pem: str

    def reset(self) -> None:
        self.inbox.messages.clear()
        self.inbox.envelopes.clear()
        self.inbox.refuse.clear()
        for provider in (self.sms, self.app, self.fcm, self.webpush, self.staff):
            provider.received.clear()
            provider.refused.clear()
            provider.failures.clear()


@pytest.fixture(scope="module")
def outside() -> Iterator[Outside]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    vapid = Vapid02()
    vapid.generate_keys()
    with (
        smtp_server() as inbox,
        serving(AlibabaSms()) as sms,
        serving(SignedHook()) as app,
        serving(Fcm(public_key=key.public_key())) as fcm,
        serving(WebPush(application_server_key=application_server_key(vapid))) as webpush,
        serving(JsonHook()) as staff,
    ):
        account = {
            "project_id": fcm.project,
            "client_email": fcm.client_email,
            "private_key": pem,
            "token_uri": f"{fcm.url}/token",
        }
        yield Outside(inbox, sms, app, fcm, webpush, staff, account, vapid.private_pem().decode())


@pytest.fixture
def settings(db_url: str, outside: Outside) -> Settings:
    outside.reset()
    return Settings(
        database_url=db_url,
        environment="test",
        token_cache_seconds=0,
        shop_name="好物商城",
        public_url="https://shop.example.cn",
        return_address="上海市青浦区华新镇 好物商城退货仓（收）",
        hotline="400-820-0000",
        smtp_url=f"smtp://{outside.inbox.host}:{outside.inbox.port}",
        mail_from="好物商城 <service@shop.example.cn>",
        sms_provider="alibaba",
        sms_url=outside.sms.url,
        sms_key_id=outside.sms.key_id,
        sms_key_secret=outside.sms.secret,
        sms_sign_name="好物商城",
        app_push_url=outside.app.url,
        app_push_secret=outside.app.secret,
        fcm_service_account=json.dumps(outside.account),
        fcm_url=outside.fcm.url,
        vapid_private_key=outside.vapid_pem,
        staff_notify_urls=outside.staff.url.replace("http://", "json://") + "/robot",
    )


@pytest.fixture
def customer(api: Api, box: Container, outside: Outside, manual_review: int) -> int:
    """A customer with an email, a mobile number, an app, an Android phone and a browser; the
    SMS templates registered with Alibaba."""
    order = api.as_("integration").post("/api/v1/orders", json=order_body()).json()
    customer_id = int(order["customer"]["id"])
    endpoint, keys = outside.webpush.subscribe(f"browser-{customer_id}")
    with box.engine.begin() as conn:
        for kind, where, secret in (
            ("app", "app-user-77", None),
            ("fcm", "fcm-device-token-1", None),
            ("webpush", endpoint, json.dumps(keys)),
        ):
            conn.execute(
                text(
                    "INSERT INTO push_subscriptions (customer_id, kind, endpoint, keys, "
                    "created_at) VALUES (:c, :k, :e, :s, CURRENT_TIMESTAMP)"
                ),
                {"c": customer_id, "k": kind, "e": where, "s": secret},
            )
    for number, notice in enumerate(sorted(FLOW | {"login_code", "sla_delay", "approved"})):
        for language in ("zh-CN", "en"):
            notifications.put_template(
                box.uows,
                box.notifier,
                MANAGER,
                notice,
                language,
                {"sms_template": f"SMS_{100 + number}"},
            )
    return customer_id


def drain(
    box: Container, clock: ManualClock, *, workers: int = 2, rounds: int = 8, advance: bool = True
) -> None:
    """Workers side by side until nothing is due; then the clock moves past every backoff
    and they go again, until no notification is pending."""
    for _ in range(rounds):
        barrier = threading.Barrier(workers)
        done: list[int] = []

        def work(n: int, barrier: threading.Barrier = barrier, done: list[int] = done) -> None:
            worker = Worker(box, worker_id=f"w{n}")
            barrier.wait()
            while (claimed := worker.run_once()) > 0:
                done.append(claimed)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if not advance:
            return
        clock.advance(timedelta(hours=2))
        if not done and not [r for r in rows(box) if r["status"] == "pending"]:
            return


def rows(box: Container) -> list[dict[str, Any]]:
    with box.engine.connect() as conn:
        result = conn.execute(
            text(
                "SELECT id, notice, channel, recipient, status, attempts, provider_ref, "
                "last_error, occurrence FROM notifications ORDER BY id"
            )
        )
        return [dict(r._mapping) for r in result]


def walk_to_refunded(api: Api, after_each: Any = None) -> int:
    """Through the lifecycle to refunded; ``after_each()`` runs after every step (the worker
    keeping up, as it does within its poll interval)."""
    created = api.as_("cs").post("/api/v1/refund-requests", json=request_body())
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    if after_each:
        after_each()
    for role, action, body in (
        ("cs", "approve", {}),
        ("cs", "return-shipment", {"carrier": "SF", "tracking_no": "SF1234567890"}),
        ("warehouse", "receive", {}),
        ("warehouse", "inspect", {"result": "pass"}),
        ("finance", "execute", {}),
        ("finance", "mark-refunded", {"reference": "ALI-R-1"}),
    ):
        response = api.as_(role).act(rid, action, **body)
        assert response.status_code == 200, response.text
        if after_each:
            after_each()
    return int(rid)


def test_each_event_reaches_each_channel_once_with_racing_workers_retries_and_rehandling(
    api: Api, box: Container, clock: ManualClock, outside: Outside, customer: int
) -> None:
    outside.sms.fail_next(500)
    outside.app.fail_next(503)
    outside.fcm.fail_next(500)
    outside.inbox.refuse.append(("lina@example.cn", "451 4.7.1 greylisted, try again"))
    rid = walk_to_refunded(api, lambda: drain(box, clock))
    with box.uows() as uow:  # the payouts' own word that the refund record succeeded
        uow.outbox.add(
            [
                DomainEvent(
                    "refund.succeeded", f"refund_request:{rid}", clock.now(), {"request_id": rid}
                )
            ]
        )
        uow.commit()
    drain(box, clock)
    # A worker that died after planning but before marking the outbox delivered: every event
    # is handled again, once more by two workers at the same time.
    with box.engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET delivered_at = NULL, locked_until = NULL"))
        messages = [
            OutboxMessage(r.id, r.topic, r.key, json.loads(r.payload), 1)
            for r in conn.execute(text("SELECT id, topic, key, payload FROM outbox"))
        ]
    handlers = handlers_for(box)
    barrier = threading.Barrier(2)

    def handle_all() -> None:
        barrier.wait()
        for message in messages:
            if message.topic in handlers:
                handlers[message.topic](message)

    racers = [threading.Thread(target=handle_all) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    drain(box, clock)

    stored = rows(box)
    assert {r["status"] for r in stored} == {"sent"}, stored
    keys = Counter((r["notice"], r["channel"]) for r in stored)
    assert set(keys) == {(n, c) for n in FLOW for c in CUSTOMER_CHANNELS}
    assert set(keys.values()) == {1}
    retried = {r["channel"] for r in stored if r["attempts"] > 1}
    assert retried == {"email", "sms", "app_push", "fcm"}
    # what the providers received: one message per notice, none twice
    assert sorted(m["Message-ID"] for m in outside.inbox.messages) == sorted(
        f"<notification-{r['id']}@shop.example.cn>" for r in stored if r["channel"] == "email"
    )
    assert len(outside.sms.received) == len({m["OutId"] for m in outside.sms.received}) == 6
    app_notices = Counter(m["data"]["notice"] for m in outside.app.received)
    fcm_notices = Counter(m["data"]["notice"] for m in outside.fcm.received)
    web_notices = Counter(m["data"]["notice"] for m in outside.webpush.received)
    for counted in (app_notices, fcm_notices, web_notices):
        assert counted == Counter(FLOW)
    assert outside.sms.refused == outside.app.refused == outside.fcm.refused == []
    assert outside.webpush.refused == []


def test_the_customer_reads_the_decision_next_step_and_refund_route_in_their_language(
    api: Api, box: Container, clock: ManualClock, outside: Outside, customer: int
) -> None:
    walk_to_refunded(api, lambda: drain(box, clock, workers=1))
    subjects = [str(m["Subject"]) for m in outside.inbox.messages]
    assert subjects[0].startswith("【好物商城】已收到您的退货退款申请 RF")
    bodies = {
        str(m["Subject"]): m.get_body(("plain",)).get_content() for m in outside.inbox.messages
    }
    ship = next(b for s, b in bodies.items() if "请寄回商品" in s)
    assert "上海市青浦区华新镇 好物商城退货仓（收）" in ship and "前寄出" in ship
    refunded = next(b for s, b in bodies.items() if "已退回" in s)
    assert "原路退回" in refunded and "预计几分钟内到账" in refunded  # paid with Alipay
    survey = next(b for s, b in bodies.items() if "评价" in s)
    link = next(line for line in survey.splitlines() if "/survey/" in line).strip()
    token = link.rsplit("/", 1)[1]
    rid = notifications.verify_token(box.settings.secret_key, token, clock.now())
    assert link.startswith("https://shop.example.cn/survey/") and rid > 0
    params = {m["TemplateCode"]: m["TemplateParam"] for m in outside.sms.received}
    assert all(p["number"].startswith("RF") for p in params.values())

    outside.reset()
    response = api.as_("cs").get(f"/api/v1/customers/{customer}/preferences")
    assert response.json()["language"] == "zh-CN" and response.json()["stored"] is False
    before = snapshot(box)
    refused = api.client.put(
        f"/api/v1/customers/{customer}/preferences",
        json={"sms": False, "contact_phone": "010-12345678"},
        headers={"Authorization": f"Bearer {api.tokens['cs']}"},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"] == {"field": "contact_phone"}
    assert "cannot receive SMS" in refused.json()["error"]["message"]
    assert snapshot(box) == before
    assert api.as_("warehouse").get(f"/api/v1/customers/{customer}/preferences").status_code == 403
    changed = api.client.put(
        f"/api/v1/customers/{customer}/preferences",
        json={"language": "en", "sms": False, "contact_phone": "+86 139-1234-0000"},
        headers={"Authorization": f"Bearer {api.tokens['cs']}"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["contact_phone"] == "139****0000", "masked (issue 9)"
    api.as_("cs").post(
        "/api/v1/refund-requests", json=request_body(lines=[{"sku": "EL-EB-501", "quantity": 1}])
    )
    drain(box, clock, workers=1)
    (mail,) = outside.inbox.messages
    assert str(mail["Subject"]).startswith("[好物商城] We received your request RF")
    assert outside.sms.received == []  # the customer turned SMS off


def test_refunded_is_told_only_once_the_request_is_refunded(
    api: Api, box: Container, clock: ManualClock, outside: Outside, customer: int
) -> None:
    rid = (
        api.as_("cs")
        .post("/api/v1/refund-requests", json=request_body(type="refund_only"))
        .json()["id"]
    )
    for role, action in (("cs", "approve"), ("finance", "execute")):
        assert api.as_(role).act(rid, action).status_code == 200
    succeeded = DomainEvent(
        "refund.succeeded", f"refund_request:{rid}", clock.now(), {"request_id": rid}
    )
    with box.uows() as uow:  # a refund record succeeded, the request is still refunding
        uow.outbox.add([succeeded])
        uow.commit()
    drain(box, clock, workers=1)
    assert not [r for r in rows(box) if r["notice"] == "refunded"]
    assert api.as_("finance").act(rid, "mark-refunded", reference="ALI-R-2").status_code == 200
    with box.uows() as uow:
        uow.outbox.add([succeeded])
        uow.commit()
    drain(box, clock, workers=1)
    refunded = [r for r in rows(box) if r["notice"] == "refunded"]
    assert len(refunded) == len(CUSTOMER_CHANNELS)
    assert {r["occurrence"] for r in refunded} == {"once"}


def test_a_late_staff_step_brings_an_apology_and_staff_alerts_reach_the_robot(
    api: Api, box: Container, clock: ManualClock, outside: Outside, customer: int
) -> None:
    rid = api.as_("cs").post("/api/v1/refund-requests", json=request_body()).json()["id"]
    late = {
        "work_item_id": 99,
        "request_id": rid,
        "queue": "cs",
        "step": "review",
        "due_at": clock.now().isoformat(),
    }
    with box.uows() as uow:  # the breach timer fires twice (two escalations of one item)
        uow.outbox.add(
            [DomainEvent("work_item.escalated", f"refund_request:{rid}", clock.now(), late)] * 2
        )
        uow.commit()
    complaint = api.as_("cs").post(
        f"/api/v1/refund-requests/{rid}/complaints",
        json={"source": "phone", "severity": "high", "text": "三天没人处理"},
    )
    assert complaint.status_code == 201, complaint.text
    drain(box, clock, workers=1, advance=False)
    apologies = [m for m in outside.inbox.messages if "抱歉" in str(m["Subject"])]
    assert len(apologies) == 1
    assert "客服审核" in apologies[0].get_body(("plain",)).get_content()
    titles = sorted(m["title"] for m in outside.staff.received)
    assert len(titles) == 2
    assert titles[0].startswith("【新投诉】RF") and "（高）" in titles[0]
    assert titles[1].startswith("【超时升级】RF")


def test_a_login_code_goes_by_sms_is_erased_once_sent_and_never_sent_late(
    box: Container, clock: ManualClock, outside: Outside, customer: int
) -> None:
    first = notifications.send_login_code(
        box.uows, box.notifier, contact="139 1234 5678", code="482913", key="code-1"
    )
    again = notifications.send_login_code(
        box.uows, box.notifier, contact="13912345678", code="482913", key="code-1"
    )
    assert first == again
    drain(box, clock, workers=1)
    (sent,) = outside.sms.received
    assert sent["PhoneNumbers"] == "13912345678" and sent["TemplateParam"] == {"code": "482913"}
    late = notifications.send_login_code(
        box.uows, box.notifier, contact="lina@example.cn", code="777777"
    )
    clock.advance(timedelta(minutes=11))
    drain(box, clock, workers=1)
    assert outside.inbox.messages == []
    with box.engine.connect() as conn:
        result = conn.execute(text("SELECT id, status, content FROM notifications"))
        stored = {r[0]: (r[1], r[2]) for r in result}
    assert stored[first] == ("sent", "{}") and stored[late] == ("expired", "{}")


def test_templates_are_edited_checked_previewed_and_reset_through_the_api(
    api: Api, box: Container, clock: ManualClock, outside: Outside, customer: int
) -> None:
    path = "/api/v1/notification-templates/request_received/zh-CN"
    listed = api.as_("cs").get("/api/v1/notification-templates").json()
    assert len(listed) == 30 and {t["language"] for t in listed} == {"zh-CN", "en"}
    before = snapshot(box)
    broken = api.client.put(
        path,
        json={"text": "{{ request.numbr }}"},
        headers={"Authorization": f"Bearer {api.tokens['manager']}"},
    )
    assert broken.status_code == 422 and broken.json()["error"]["details"]["field"] == "text"
    denied = api.client.put(
        path, json={"subject": "x"}, headers={"Authorization": f"Bearer {api.tokens['cs']}"}
    )
    assert denied.status_code == 403
    assert snapshot(box) == before
    saved = api.client.put(
        path,
        json={"subject": "{{ shop.name }}收到啦：{{ request.number }}"},
        headers={"Authorization": f"Bearer {api.tokens['manager']}"},
    )
    assert saved.status_code == 200 and saved.json()["customised"] is True
    rid = api.as_("cs").post("/api/v1/refund-requests", json=request_body()).json()["id"]
    preview = api.as_("cs").post(f"{path}/preview", json={"request": str(rid)}).json()
    assert preview["channels"]["email"]["subject"].startswith("好物商城收到啦：RF")
    sample = (
        api.as_("cs")
        .post(f"{path}/preview", json={"draft": {"short": "样例 {{ request.number }}"}})
        .json()
    )
    assert (
        sample["data"] == "sample"
        and sample["channels"]["sms"]["short"] == "样例 RF20261126-000123"
    )
    drain(box, clock, workers=1)
    (mail,) = outside.inbox.messages
    assert str(mail["Subject"]).startswith("好物商城收到啦：RF")
    listed = api.as_("cs").get(f"/api/v1/notifications?request={rid}").json()
    assert {n["channel"] for n in listed} == CUSTOMER_CHANNELS
    assert {n["status"] for n in listed} == {"sent"} and all(n["provider_ref"] for n in listed)
    reset = api.client.delete(path, headers={"Authorization": f"Bearer {api.tokens['manager']}"})
    assert reset.json()["customised"] is False and "已收到您的" in reset.json()["subject"]


def test_failures_are_retried_with_backoff_then_given_up_and_gone_devices_revoked(
    api: Api, box: Container, clock: ManualClock, outside: Outside, customer: int
) -> None:
    outside.sms.fail_next(500, times=50)
    outside.webpush.gone.add(f"/push/browser-{customer}")
    outside.inbox.refuse.append(("lina@example.cn", "550 5.1.1 mailbox unavailable"))
    api.as_("cs").post("/api/v1/refund-requests", json=request_body())
    worker = Worker(box, worker_id="solo")
    worker.run_once()
    worker.run_once()
    by_channel = {r["channel"]: r for r in rows(box)}
    assert by_channel["sms"]["status"] == "pending" and "500" in by_channel["sms"]["last_error"]
    assert by_channel["email"]["status"] == "failed" and "550" in by_channel["email"]["last_error"]
    assert by_channel["webpush"]["status"] == "failed"
    with box.engine.connect() as conn:
        kinds = conn.execute(
            text("SELECT kind FROM push_subscriptions WHERE revoked_at IS NOT NULL")
        ).scalars()
        assert list(kinds) == ["webpush"]
    drain(box, clock, workers=1, rounds=20)
    sms = next(r for r in rows(box) if r["channel"] == "sms")
    assert sms["status"] == "failed" and sms["attempts"] == box.settings.notification_max_attempts
    assert sms["last_error"].startswith("gave up after 12 attempts")


# ---------------------------------------------------------------- push subscriptions
def _portal_session(api: Api, box: Container) -> str:
    """Sign in to the portal with a code; the session token the portal's cookie carries."""
    contact = {"order_no": "TM-1001", "contact": "13912345678"}
    assert api.client.post("/api/v1/portal/lookup", json=contact).status_code == 202
    with box.engine.connect() as conn:
        content = conn.execute(
            text("SELECT content FROM notifications WHERE notice = 'login_code' ORDER BY id DESC")
        ).first()[0]  # type: ignore[index]
    found = re.search(r"\b(\d{6})\b", content)
    assert found, content
    code = found.group(1)
    verified = api.client.post("/api/v1/portal/verify", json={**contact, "code": code})
    assert verified.status_code == 200, verified.text
    return str(verified.json()["token"])


def _live_subscriptions(box: Container) -> list[tuple[int, str, str]]:
    with box.engine.connect() as conn:
        return [
            tuple(r)  # type: ignore[misc]
            for r in conn.execute(
                text(
                    "SELECT customer_id, kind, endpoint FROM push_subscriptions "
                    "WHERE revoked_at IS NULL ORDER BY id"
                )
            )
        ]


def test_a_browser_subscribed_on_the_portal_is_pushed_the_next_change(
    api: Api, box: Container, clock: ManualClock, outside: Outside, manual_review: int
) -> None:
    order = api.as_("integration").post("/api/v1/orders", json=order_body()).json()
    me = int(order["customer"]["id"])
    rid = api.as_("cs").post("/api/v1/refund-requests", json=request_body()).json()["id"]
    drain(box, clock, workers=1)
    token = _portal_session(api, box)
    page_client = api.client
    page_client.cookies.set("rf_portal", token)
    number = api.as_("cs").get(f"/api/v1/refund-requests/{rid}").json()["number"]
    page = page_client.get(f"/r/{number}")
    key = application_server_key(Vapid02.from_pem(outside.vapid_pem.encode()))
    assert f'data-key="{key}"' in page.text, "the page offers push with the server's key"
    csrf = page_client.cookies["rf_csrf"]
    assert page_client.get("/portal-sw.js").headers["service-worker-allowed"] == "/"
    endpoint, keys = outside.webpush.subscribe("portal-browser")
    before = snapshot(box.engine)
    for bad, why in (
        ({"endpoint": endpoint, "keys": keys}, "expired"),  # no CSRF token
        ({"endpoint": "http://evil.example/push", "keys": keys, "csrf": csrf}, "https"),
        ({"endpoint": endpoint, "keys": {"p256dh": "x"}, "csrf": csrf}, "keys.auth"),
        ({"endpoint": endpoint, "keys": {**keys, "auth": "!!"}, "csrf": csrf}, "base64url"),
    ):
        refused = page_client.post("/push", json=bad)
        assert 400 <= refused.status_code < 500 and why in refused.json()["error"], bad
    assert snapshot(box.engine) == before
    subscribed = page_client.post("/push", json={"endpoint": endpoint, "keys": keys, "csrf": csrf})
    assert subscribed.status_code == 200, subscribed.text
    again = page_client.post("/push", json={"endpoint": endpoint, "keys": keys, "csrf": csrf})
    assert again.json()["id"] == subscribed.json()["id"], "the same browser is one row"
    assert _live_subscriptions(box) == [(me, "webpush", endpoint)]
    outside.reset()
    assert api.as_("cs").act(rid, "approve").status_code == 200
    drain(box, clock, workers=1)
    pushed = outside.webpush.received
    assert [m["data"]["number"] for m in pushed] == [number], "decrypted by the browser's key"
    assert page_client.post("/push/off", json={"endpoint": endpoint, "csrf": csrf}).json() == {
        "ok": True
    }
    assert _live_subscriptions(box) == []
    assert (
        page_client.post("/push/off", json={"endpoint": endpoint, "csrf": csrf}).status_code == 404
    )


def test_the_integration_registers_app_and_fcm_tokens_and_customers_only_their_own(
    api: Api, box: Container, outside: Outside, manual_review: int
) -> None:
    mine = int(
        api.as_("integration").post("/api/v1/orders", json=order_body()).json()["customer"]["id"]
    )
    other = api.as_("integration").post(
        "/api/v1/orders",
        json=order_body("TM-2002", customer={"name": "王强", "phone": "13700002222"}),
    )
    theirs = int(other.json()["customer"]["id"])
    path = f"/api/v1/customers/{mine}/push-subscriptions"
    before = snapshot(box.engine)
    for role, body, status in (
        ("integration", {"kind": "sms", "endpoint": "x"}, 422),
        ("integration", {"kind": "webpush", "endpoint": "https://push.example/1"}, 422),
        ("integration", {"kind": "fcm", "endpoint": ""}, 422),
        ("warehouse", {"kind": "fcm", "endpoint": "fcm-1"}, 403),
    ):
        answer = api.as_(role).post(path, json=body)
        assert answer.status_code == status, (role, body, answer.text)
    assert (
        api.as_("integration")
        .post("/api/v1/customers/999999/push-subscriptions", json={"kind": "app", "endpoint": "u"})
        .status_code
        == 404
    )
    assert snapshot(box.engine) == before
    created = api.as_("integration").post(path, json={"kind": "fcm", "endpoint": "fcm-token-9"})
    assert created.status_code == 201 and created.json()["kind"] == "fcm"
    assert _live_subscriptions(box) == [(mine, "fcm", "fcm-token-9")]
    # A customer's own session may not touch someone else's subscriptions.
    token = _portal_session(api, box)
    as_me = {"Authorization": f"Bearer {token}"}
    sid = created.json()["id"]
    refused = api.client.delete(
        f"/api/v1/customers/{theirs}/push-subscriptions/{sid}", headers=as_me
    )
    assert refused.status_code == 404
    gone = api.client.delete(f"{path}/{sid}", headers=as_me)
    assert gone.status_code == 204
    assert _live_subscriptions(box) == []
    with box.engine.connect() as conn:
        actions = conn.execute(
            text("SELECT action FROM audit_events WHERE action LIKE 'push.%' ORDER BY id")
        ).scalars()
        assert list(actions) == ["push.subscribed", "push.unsubscribed"]
