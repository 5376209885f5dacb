"""Which events tell whom what, signed links, contacts, and the shipped templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from refundflow.adapters.channels.alibaba_sms import alibaba_number, canonical_query
from refundflow.adapters.channels.webhooks import sign_webhook, verify_webhook
from refundflow.adapters.templating import JinjaTemplateRenderer
from refundflow.domain.errors import AuthenticationError, InvalidInputError
from refundflow.domain.notifications import Channel, Notice, triggers_for
from refundflow.services.notifications import (
    NotificationConfig,
    Notifier,
    normalise_email,
    normalise_phone,
    survey_link,
    verify_token,
)
from refundflow.services.notifications.context import SAMPLE_FACTS, SAMPLE_REQUEST, request_context
from refundflow.services.notifications.defaults import shipped_templates
from refundflow.services.notifications.templates import render
from refundflow.services.notifications.wording import arrival_kind

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
KEY = "refund_request:5"


def changed(action: str, to: str, kind: str = "staff", **extra: object) -> dict[str, object]:
    return {"id": 5, "action": action, "to_status": to, "actor": {"kind": kind}, **extra}


def notices(topic: str, payload: dict[str, object], message_id: int = 1) -> list[tuple[str, str]]:
    return [(t.notice.value, t.occurrence) for t in triggers_for(topic, KEY, payload, message_id)]


def test_a_decision_by_the_policy_is_told_in_the_received_notice_not_again() -> None:
    assert notices("refund_request.created", {"id": 5}) == [("request_received", "once")]
    assert (
        notices("refund_request.status_changed", changed("approve", "refund_pending", "policy"))
        == []
    )
    assert notices("refund_request.status_changed", changed("reject", "rejected", "policy")) == []
    assert notices("refund_request.status_changed", changed("approve", "refund_pending"), 9) == [
        ("approved", "outbox:9")
    ]


def test_an_approval_that_needs_the_goods_back_asks_for_them() -> None:
    (trigger,) = triggers_for(
        "refund_request.status_changed", KEY, changed("approve", "awaiting_return"), 3
    )
    assert trigger.notice is Notice.SHIP_GOODS and trigger.requires == "awaiting_return"


def test_refunded_keys_on_the_status_and_on_refund_succeeded_with_one_shared_key() -> None:
    by_status = triggers_for(
        "refund_request.status_changed", KEY, changed("mark-refunded", "refunded"), 1
    )
    by_record = triggers_for("refund.succeeded", KEY, {"request_id": 5, "refund_id": 8}, 2)
    assert [(t.notice, t.occurrence, t.requires) for t in by_status] == [
        (t.notice, t.occurrence, t.requires) for t in by_record
    ]
    assert [t.notice for t in by_record] == [Notice.REFUNDED, Notice.SURVEY_INVITATION]
    assert all(t.requires == "refunded" for t in by_record)
    assert notices("refund.failed", {"request_id": 5}) == []  # the payouts retry on their own


def test_a_late_staff_step_apologises_once_per_work_item_and_a_late_customer_step_does_not() -> (
    None
):
    late = {"request_id": 5, "work_item_id": 12, "queue": "warehouse", "step": "inspect"}
    assert (
        notices("work_item.escalated", late, 1)
        == notices("work_item.escalated", late, 2)
        == [
            ("sla_delay", "item:12"),
            ("staff_escalation", "item:12"),
        ]
    )
    mine = {"request_id": 5, "work_item_id": 13, "queue": "customer", "step": "ship_back"}
    assert notices("work_item.escalated", mine) == []
    reminder = {**mine, "audience": "customer"}
    assert notices("work_item.reminder", reminder) == [("ship_goods", "reminder:item:13")]
    assert notices("work_item.reminder", {**reminder, "audience": "staff"}) == []
    assert notices("complaint.opened", {"request_id": 5, "complaint_id": 4}) == [
        ("staff_complaint", "complaint:4")
    ]
    assert notices("inventory.restocked", {"request_id": 5}) == []


def test_survey_links_verify_until_they_expire_and_not_after_any_change() -> None:
    link, expires_at = survey_link("https://shop.cn/", "s3cret", 42, NOW, timedelta(days=30))
    token = link.rsplit("/", 1)[1]
    assert link.startswith("https://shop.cn/survey/42.") and expires_at == NOW + timedelta(days=30)
    assert verify_token("s3cret", token, NOW + timedelta(days=29)) == 42
    with pytest.raises(AuthenticationError, match="expired"):
        verify_token("s3cret", token, expires_at)
    for forged in (token.replace("42.", "43.", 1), token[:-1] + "A", "42.1.x", "junk"):
        with pytest.raises(AuthenticationError):
            verify_token("s3cret", forged, NOW)
    with pytest.raises(AuthenticationError):
        verify_token("another secret", token, NOW)
    with pytest.raises(AuthenticationError):
        verify_token("s3cret", token, NOW, purpose="login")


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13912345678", "+8613912345678"),
        ("+86 139-1234-5678", "+8613912345678"),
        ("+852 6123 4567", "+85261234567"),
    ],
)
def test_mobile_numbers_are_stored_in_e164(raw: str, e164: str) -> None:
    assert normalise_phone(raw, mobile=True) == e164


@pytest.mark.parametrize("raw", ["12345", "010-12345678", "not a phone"])
def test_numbers_that_cannot_take_an_sms_are_refused_with_the_field_named(raw: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        normalise_phone(raw, "contact_phone", mobile=True)
    assert error.value.details == {"field": "contact_phone"}


def test_emails_are_normalised_and_bad_ones_refused() -> None:
    assert normalise_email(" Li.Na@Example.CN ") == "Li.Na@example.cn"
    with pytest.raises(InvalidInputError, match="not a valid email"):
        normalise_email("lina@")


def test_money_arrives_in_minutes_on_wallets_and_days_on_cards() -> None:
    assert arrival_kind("original", ["alipay"]) == "minutes"
    assert arrival_kind("original", ["wechat_pay", "store_credit"]) == "minutes"
    assert arrival_kind("original", ["card"]) == "business_days"
    assert arrival_kind("bank_transfer", ["alipay"]) == "business_days"
    assert arrival_kind("store_credit", ["card"]) == "instant"


def test_every_shipped_template_renders_for_every_channel_in_both_languages() -> None:
    notifier = Notifier(
        NotificationConfig(shop_name="好物商城", hotline="400"), JinjaTemplateRenderer()
    )
    templates = shipped_templates()
    assert {t.notice for t in templates} == {n.value for n in Notice}
    for template in templates:
        context = request_context(
            SAMPLE_REQUEST,
            language=template.language,
            config=notifier.config,
            tz=UTC,
            facts=SAMPLE_FACTS,
        )
        for channel in (Channel.EMAIL, Channel.SMS, Channel.WEB_PUSH, Channel.STAFF):
            content = render(notifier, template, channel, context)
            for part in content.values():
                assert "{{" not in str(part) and "{%" not in str(part)
        email = render(notifier, template, Channel.EMAIL, context)
        assert email["subject"] and "\n" not in email["subject"]
        if template.notice == "refunded":  # the sample previews with the amount refunded
            assert "79.00" in email["subject"], email["subject"]
        assert email["html"].startswith("<!doctype html>")
        if template.language == "zh-CN" and template.notice not in (
            "staff_escalation",
            "staff_complaint",
        ):
            assert "好物商城" in email["subject"]


def test_values_are_escaped_in_the_html_part_only() -> None:
    renderer = JinjaTemplateRenderer()
    assert renderer.render("{{ x }}", {"x": "<b>"}, html=True) == "&lt;b&gt;"
    assert renderer.render("{{ x }}", {"x": "<b>"}) == "<b>"


def test_webhook_signatures_verify_and_refuse_tampering_and_replays() -> None:
    body = b'{"to":"+8613912345678"}'
    header = sign_webhook("k", body, 1_700_000_000)
    assert verify_webhook("k", body, header, now=1_700_000_100)
    assert not verify_webhook("k", body + b" ", header, now=1_700_000_100)
    assert not verify_webhook("other", body, header, now=1_700_000_100)
    assert not verify_webhook("k", body, header, now=1_700_001_000)


def test_alibaba_numbers_and_query_encoding_follow_its_rules() -> None:
    assert alibaba_number("+8613912345678") == "13912345678"
    assert alibaba_number("+85261234567") == "85261234567"
    assert canonical_query({"b": "a b*~", "a": "好"}) == "a=%E5%A5%BD&b=a%20b%2A~"
