"""Each channel against a local server that speaks its provider's protocol and checks its
signatures: what arrives, and which failures are retried and which are not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from py_vapid import Vapid02

from refundflow.adapters.channels.alibaba_sms import AlibabaSmsChannel
from refundflow.adapters.channels.fcm import FcmChannel
from refundflow.adapters.channels.smtp import SmtpEmailChannel
from refundflow.adapters.channels.staff import AppriseStaffChannel
from refundflow.adapters.channels.tencent_sms import TencentSmsChannel
from refundflow.adapters.channels.webhooks import AppPushChannel, WebhookSmsChannel
from refundflow.adapters.channels.webpush import WebPushChannel, application_server_key
from refundflow.domain.notifications import Channel
from refundflow.services.notifications.ports import (
    Message,
    PermanentChannelError,
    RetryableChannelError,
)
from tests.tools.providers import (
    AlibabaSms,
    Fcm,
    JsonHook,
    SignedHook,
    TencentSms,
    WebPush,
    serving,
)
from tests.tools.smtpserver import self_signed, smtp_server

SUBJECT = "【好物商城】退款 ¥79.00 已退回（RF20261126-000123）"


def email(to: str = "lina@example.cn", **kw: Any) -> Message:
    return Message(
        id=42,
        channel=Channel.EMAIL,
        to=to,
        subject=SUBJECT,
        text="您的退款 ¥79.00 已原路退回，预计几分钟内到账。",
        html="<p>您的退款 <b>¥79.00</b> 已原路退回</p>",
        **kw,
    )


def sms(template: str | None = "SMS_154950909") -> Message:
    return Message(
        id=7,
        channel=Channel.SMS,
        to="+8613912345678",
        short="好物商城：申请RF20261126-000123已退款¥79.00。",
        sms_template=template,
        sms_params=[("number", "RF20261126-000123"), ("amount", "¥79.00")],
    )


def push(to: str, keys: dict[str, str] | None = None) -> Message:
    return Message(
        id=9,
        channel=Channel.FCM,
        to=to,
        subject="退款已到账",
        short="申请 RF20261126-000123 已退款 ¥79.00",
        data={"number": "RF20261126-000123", "notice": "refunded"},
        keys=keys or {},
    )


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


# ---------------------------------------------------------------------------- email
def test_an_email_arrives_as_text_and_html_with_its_chinese_subject_encoded() -> None:
    with smtp_server() as inbox:
        channel = SmtpEmailChannel(
            f"smtp://{inbox.host}:{inbox.port}", "好物商城 <shop@example.cn>"
        )
        ref = channel.send(email())
    assert ref == "<notification-42@example.cn>"
    (received,) = inbox.messages
    assert inbox.envelopes == [("shop@example.cn", ["lina@example.cn"])]
    assert received.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in received.iter_parts()] == ["text/plain", "text/html"]
    assert str(received["Subject"]) == SUBJECT
    raw = received.as_string()
    assert "=?utf-8?" in raw.split("\n\n", 1)[0].lower()  # RFC 2047 in the headers, not raw
    assert received["From"].addresses[0].display_name == "好物商城"
    assert received["Message-ID"] == "<notification-42@example.cn>"
    assert received["Auto-Submitted"] == "auto-generated"
    text = received.get_body(("plain",))
    assert "已原路退回" in text.get_content()
    assert "<b>¥79.00</b>" in received.get_body(("html",)).get_content()


def test_starttls_with_login_sends_the_password_only_inside_tls(cert: tuple[Path, Path]) -> None:
    with smtp_server(tls="starttls", cert=cert, users={"mailer": "p@ss:word"}) as inbox:
        url = f"smtp://mailer:p%40ss%3Aword@{inbox.host}:{inbox.port}"
        SmtpEmailChannel(url, "shop@example.cn", ca_file=str(cert[0])).send(email())
    assert inbox.logins == ["mailer"]
    assert len(inbox.messages) == 1


def test_implicit_tls_smtps_delivers(cert: tuple[Path, Path]) -> None:
    with smtp_server(tls="implicit", cert=cert, users={"u": "pw"}) as inbox:
        url = f"smtps://u:pw@{inbox.host}:{inbox.port}"
        SmtpEmailChannel(url, "shop@example.cn", ca_file=str(cert[0])).send(email())
    assert inbox.logins == ["u"] and len(inbox.messages) == 1


def test_an_untrusted_certificate_is_a_permanent_failure(cert: tuple[Path, Path]) -> None:
    with smtp_server(tls="implicit", cert=cert) as inbox:
        channel = SmtpEmailChannel(f"smtps://{inbox.host}:{inbox.port}", "shop@example.cn")
        with pytest.raises(PermanentChannelError, match="certificate"):
            channel.send(email())
    assert inbox.messages == []


def test_a_password_is_never_sent_to_a_server_without_tls() -> None:
    with smtp_server() as inbox:
        channel = SmtpEmailChannel(f"smtp://u:pw@{inbox.host}:{inbox.port}", "shop@example.cn")
        with pytest.raises(PermanentChannelError, match="in clear"):
            channel.send(email())
    assert inbox.messages == []


def test_smtp_5xx_is_permanent_4xx_is_retried_and_no_server_is_retried() -> None:
    with smtp_server() as inbox:
        inbox.refuse = [
            ("gone@example.cn", "550 5.1.1 no such user"),
            ("busy@example.cn", "451 4.3.0 try later"),
        ]
        channel = SmtpEmailChannel(f"smtp://{inbox.host}:{inbox.port}", "shop@example.cn")
        with pytest.raises(PermanentChannelError, match="550"):
            channel.send(email("gone@example.cn"))
        with pytest.raises(RetryableChannelError, match="451"):
            channel.send(email("busy@example.cn"))
        port = inbox.port
    with pytest.raises(RetryableChannelError):
        SmtpEmailChannel(f"smtp://127.0.0.1:{port}", "shop@example.cn").send(email())


# ---------------------------------------------------------------------------- SMS
def test_alibaba_sms_is_signed_with_acs3_and_carries_template_and_params() -> None:
    with serving(AlibabaSms()) as server:
        channel = AlibabaSmsChannel(server.key_id, server.secret, "好物商城", endpoint=server.url)
        assert channel.send(sms()) == "BIZ000001"
    assert server.refused == []
    (got,) = server.received
    assert got["PhoneNumbers"] == "13912345678"
    assert got["SignName"] == "好物商城"
    assert got["TemplateCode"] == "SMS_154950909"
    assert got["TemplateParam"] == {"number": "RF20261126-000123", "amount": "¥79.00"}
    assert got["OutId"] == "7"


def test_alibaba_refuses_a_wrong_secret_and_throttling_is_retried() -> None:
    with serving(AlibabaSms()) as server:
        wrong = AlibabaSmsChannel(server.key_id, "not-the-secret", "店", endpoint=server.url)
        with pytest.raises(PermanentChannelError, match="SignatureDoesNotMatch"):
            wrong.send(sms())
        channel = AlibabaSmsChannel(server.key_id, server.secret, "店", endpoint=server.url)
        server.replies.extend(["isv.BUSINESS_LIMIT_CONTROL", "isv.MOBILE_NUMBER_ILLEGAL"])
        with pytest.raises(RetryableChannelError, match="LIMIT"):
            channel.send(sms())
        with pytest.raises(PermanentChannelError, match="MOBILE_NUMBER_ILLEGAL"):
            channel.send(sms())
        server.fail_next(503)
        with pytest.raises(RetryableChannelError):
            channel.send(sms())
        with pytest.raises(PermanentChannelError, match="template code"):
            channel.send(sms(template=None))
    assert server.received == []


def test_tencent_sms_is_signed_with_tc3_and_carries_template_and_params() -> None:
    with serving(TencentSms()) as server:
        channel = TencentSmsChannel(
            server.secret_id, server.secret_key, "1400006666", "好物商城", endpoint=server.url
        )
        assert channel.send(sms("1110")) == "2433:1"
        wrong = TencentSmsChannel(server.secret_id, "nope", "1400006666", "店", endpoint=server.url)
        with pytest.raises(PermanentChannelError, match="SignatureFailure"):
            wrong.send(sms("1110"))
        server.replies.extend(
            [
                "LimitExceeded.PhoneNumberThirtySecondLimit",
                "InvalidParameterValue.IncorrectPhoneNumber",
            ]
        )
        with pytest.raises(RetryableChannelError):
            channel.send(sms("1110"))
        with pytest.raises(PermanentChannelError):
            channel.send(sms("1110"))
    (got,) = server.received
    assert got == {
        "PhoneNumberSet": ["+8613912345678"],
        "SmsSdkAppId": "1400006666",
        "SignName": "好物商城",
        "TemplateId": "1110",
        "TemplateParamSet": ["RF20261126-000123", "¥79.00"],
        "SessionContext": "7",
    }


def test_webhook_sms_and_app_push_are_signed_and_keyed_for_idempotency() -> None:
    with serving(SignedHook()) as server:
        assert WebhookSmsChannel(server.url, server.secret).send(sms()) == "hook-1"
        assert AppPushChannel(server.url, server.secret).send(push("app-user-1")) == "hook-2"
        with pytest.raises(PermanentChannelError):
            WebhookSmsChannel(server.url, "wrong").send(sms())
        server.fail_next(410)
        with pytest.raises(PermanentChannelError) as gone:
            AppPushChannel(server.url, server.secret).send(push("app-user-1"))
        assert gone.value.gone
    text, app = server.received
    assert text["to"] == "+8613912345678" and text["text"].startswith("好物商城")
    assert text["idempotency_key"] == "notification-7"
    assert app["recipient"] == "app-user-1" and app["title"] == "退款已到账"
    assert app["data"]["number"] == "RF20261126-000123"


# ---------------------------------------------------------------------------- push
@pytest.fixture(scope="module")
def service_account() -> tuple[dict[str, str], Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": "refundflow-test",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "push@refundflow-test.iam.gserviceaccount.com",
    }
    return account, key.public_key()


@pytest.fixture
def fcm(service_account: tuple[dict[str, str], Any]) -> Iterator[tuple[Fcm, FcmChannel]]:
    account, public = service_account
    with serving(Fcm(public_key=public)) as server:
        channel = FcmChannel({**account, "token_uri": f"{server.url}/token"}, endpoint=server.url)
        yield server, channel


def test_fcm_gets_an_access_token_with_a_signed_jwt_and_sends(fcm: tuple[Fcm, FcmChannel]) -> None:
    server, channel = fcm
    assert channel.send(push("device-token-1")) == "projects/refundflow-test/messages/1"
    assert channel.send(push("device-token-2")) == "projects/refundflow-test/messages/2"
    assert server.refused == [] and len(server.tokens) == 1  # the token was reused
    first = server.received[0]
    assert first["token"] == "device-token-1"
    assert first["notification"] == {
        "title": "退款已到账",
        "body": "申请 RF20261126-000123 已退款 ¥79.00",
    }
    server.tokens.clear()  # the access token expired on the provider's side: 401, then a new one
    assert channel.send(push("device-token-3")).endswith("/3")


def test_fcm_unregistered_token_is_gone(fcm: tuple[Fcm, FcmChannel]) -> None:
    server, channel = fcm
    server.unknown_devices.add("stale")
    with pytest.raises(PermanentChannelError) as error:
        channel.send(push("stale"))
    assert error.value.gone


def test_web_push_carries_a_vapid_jwt_and_an_encrypted_payload_the_browser_can_read() -> None:
    vapid = Vapid02()
    vapid.generate_keys()
    pem = vapid.private_pem().decode()
    with serving(WebPush(application_server_key=application_server_key(vapid))) as server:
        endpoint, keys = server.subscribe("browser-1")
        channel = WebPushChannel(pem, "mailto:ops@example.cn")
        ref = channel.send(push(endpoint, keys))
        server.gone.add("/push/browser-1")
        with pytest.raises(PermanentChannelError) as error:
            channel.send(push(endpoint, keys))
    assert server.refused == []
    assert ref == f"{server.url}/messages/1"
    (got,) = server.received
    assert got["title"] == "退款已到账" and got["data"]["notice"] == "refunded"
    assert error.value.gone


def test_staff_alerts_go_through_apprise_to_a_json_webhook() -> None:
    with serving(JsonHook()) as server:
        url = server.url.replace("http://", "json://") + "/robot"
        message = Message(
            id=1, channel=Channel.STAFF, to=url, subject="【超时升级】RF1", text="审核已超时"
        )
        AppriseStaffChannel().send(message)
        server.fail_next(500)
        with pytest.raises(RetryableChannelError):
            AppriseStaffChannel().send(message)
    (got,) = server.received
    assert got["path"] == "/robot" and got["title"] == "【超时升级】RF1"
    assert got["message"] == "审核已超时"
    assert json.dumps(got, ensure_ascii=False)
