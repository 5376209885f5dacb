"""Wiring notifications: settings in, the configured channels and the renderer out."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from refundflow.adapters.channels.alibaba_sms import AlibabaSmsChannel
from refundflow.adapters.channels.fcm import FcmChannel
from refundflow.adapters.channels.smtp import SmtpEmailChannel
from refundflow.adapters.channels.staff import AppriseStaffChannel, staff_key, staff_name
from refundflow.adapters.channels.tencent_sms import TencentSmsChannel
from refundflow.adapters.channels.webhooks import AppPushChannel, WebhookSmsChannel
from refundflow.adapters.channels.webpush import WebPushChannel
from refundflow.adapters.templating import JinjaTemplateRenderer
from refundflow.domain.notifications import Channel
from refundflow.entrypoints.settings import Settings
from refundflow.services.notifications import NotificationConfig, Notifier, StaffRecipient
from refundflow.services.notifications.ports import NotificationChannel


def _service_account(value: str) -> dict[str, Any]:
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the FCM service account is a JSON object")
    return data


def _sms(settings: Settings) -> NotificationChannel | None:
    s = settings
    if s.sms_provider == "alibaba":
        assert s.sms_key_id and s.sms_key_secret
        return AlibabaSmsChannel(
            s.sms_key_id,
            s.sms_key_secret,
            s.sms_sign_name,
            endpoint=s.sms_url or "https://dysmsapi.aliyuncs.com",
        )
    if s.sms_provider == "tencent":
        assert s.sms_key_id and s.sms_key_secret and s.sms_app_id
        return TencentSmsChannel(
            s.sms_key_id,
            s.sms_key_secret,
            s.sms_app_id,
            s.sms_sign_name,
            endpoint=s.sms_url or "https://sms.tencentcloudapi.com",
            region=s.sms_region,
        )
    if s.sms_provider == "webhook":
        assert s.sms_url and s.sms_webhook_secret
        return WebhookSmsChannel(s.sms_url, s.sms_webhook_secret)
    return None


def staff_recipients(settings: Settings) -> tuple[StaffRecipient, ...]:
    urls = [u for u in re.split(r"[\s,]+", settings.staff_notify_urls) if u]
    return tuple(StaffRecipient(staff_key(u), staff_name(u), u) for u in urls)


def build_notifier(settings: Settings) -> Notifier:
    s = settings
    channels: dict[Channel, NotificationChannel] = {}
    if s.smtp_url:
        channels[Channel.EMAIL] = SmtpEmailChannel(s.smtp_url, s.mail_from, ca_file=s.smtp_ca_file)
    sms = _sms(s)
    if sms is not None:
        channels[Channel.SMS] = sms
    if s.app_push_url and s.app_push_secret:
        channels[Channel.APP_PUSH] = AppPushChannel(s.app_push_url, s.app_push_secret)
    if s.fcm_service_account:
        channels[Channel.FCM] = FcmChannel(
            _service_account(s.fcm_service_account), endpoint=s.fcm_url, token_url=s.fcm_token_url
        )
    if s.vapid_private_key:
        channels[Channel.WEB_PUSH] = WebPushChannel(s.vapid_private_key, s.vapid_subject)
    staff = staff_recipients(s)
    if staff:
        channels[Channel.STAFF] = AppriseStaffChannel()
    config = NotificationConfig(
        shop_name=s.shop_name,
        public_url=s.public_url,
        secret=s.secret_key,
        return_address=s.return_address,
        hotline=s.hotline,
        chat_url=s.chat_url or "",
        survey_valid=timedelta(days=s.survey_valid_days),
        survey_delay=timedelta(minutes=s.survey_delay_minutes),
        max_attempts=s.notification_max_attempts,
        staff=staff,
    )
    return Notifier(config, JinjaTemplateRenderer(), channels)
