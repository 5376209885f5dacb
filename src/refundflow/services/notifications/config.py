"""What the notification use cases need from outside, handed in by the entry points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from refundflow.domain.notifications import Channel
from refundflow.services.notifications.ports import NotificationChannel, TemplateRenderer


@dataclass(frozen=True, slots=True)
class StaffRecipient:
    """A staff channel (an apprise URL); ``key`` is a digest of the URL, so rows and logs
    never hold its token."""

    key: str
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class NotificationConfig:
    shop_name: str = "refundflow"
    public_url: str = "http://127.0.0.1:8000"
    secret: str = "development-only-secret-change-me"  # noqa: S105 - signs survey links
    return_address: str = ""
    hotline: str = ""
    chat_url: str = ""
    staff_language: str = "zh-CN"
    survey_valid: timedelta = timedelta(days=30)
    survey_delay: timedelta = timedelta(0)
    code_valid: timedelta = timedelta(minutes=10)
    max_attempts: int = 8
    staff: tuple[StaffRecipient, ...] = ()


@dataclass(frozen=True, slots=True)
class Notifier:
    """Settings, the renderer and the configured channels (a channel left unconfigured is
    simply absent: nothing is planned for it)."""

    config: NotificationConfig
    renderer: TemplateRenderer
    channels: Mapping[Channel, NotificationChannel] = field(default_factory=dict)

    def has(self, channel: Channel) -> bool:
        return channel in self.channels
