"""The ports of notifications: a channel that sends one message, a template renderer, and the
repository of notifications, templates, preferences and push subscriptions.

    ChannelError                     the channel could not deliver
     ├── RetryableChannelError       try again later (timeouts, 5xx, throttling, SMTP 4xx)
     └── PermanentChannelError       never retry (bad number, unknown token, SMTP 5xx);
                                     ``gone`` also revokes the push subscription
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from refundflow.domain.notifications import Channel


class ChannelError(Exception):
    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


class RetryableChannelError(ChannelError):
    pass


class PermanentChannelError(ChannelError):
    pass


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one recipient on one channel. ``id`` is the notification's id: channels
    that can pass an idempotency key to their provider pass it (Message-ID, OutId…)."""

    id: int
    channel: Channel
    to: str
    subject: str = ""
    text: str = ""
    html: str | None = None
    short: str = ""  # the SMS or push body
    sms_template: str | None = None  # the provider's registered template code
    sms_params: Sequence[tuple[str, str]] = ()  # ordered (name, value) pairs
    data: Mapping[str, str] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)  # Web Push: p256dh, auth
    language: str = "zh-CN"


class NotificationChannel(Protocol):
    """Sends one message; returns the provider's reference for it."""

    def send(self, message: Message) -> str: ...


class TemplateRenderError(Exception):
    """A template that does not compile or render; the message says where."""


class TemplateRenderer(Protocol):
    def render(self, source: str, context: Mapping[str, Any], *, html: bool = False) -> str: ...


# ---------------------------------------------------------------------------- stored records
@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """The wording of one notice in one language. ``short`` is the SMS and push body;
    ``sms_template`` and ``sms_params`` are what Alibaba/Tencent SMS need (the template
    registered with the provider and the context values its variables take, in order)."""

    notice: str
    language: str
    subject: str
    text: str
    html: str
    short: str
    sms_template: str | None = None
    sms_params: tuple[str, ...] = ()
    customised: bool = False
    updated_by: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Preferences:
    customer_id: int
    language: str = "zh-CN"
    email: bool = True
    sms: bool = True
    push: bool = True
    contact_email: str | None = None
    contact_phone: str | None = None
    updated_at: datetime | None = None
    stored: bool = False


@dataclass(frozen=True, slots=True)
class CustomerContact:
    id: int
    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class PushSubscription:
    id: int
    customer_id: int
    kind: str  # webpush, app, fcm
    endpoint: str
    keys: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class NewNotification:
    request_id: int | None
    customer_id: int | None
    notice: str
    occurrence: str
    channel: Channel
    recipient: str
    language: str
    content: Mapping[str, Any]
    available_at: datetime
    status: str = "pending"  # or "skipped" (with last_error saying why)
    last_error: str | None = None
    expires_at: datetime | None = None
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class StoredNotification:
    id: int
    request_id: int | None
    customer_id: int | None
    notice: str
    occurrence: str
    channel: Channel
    recipient: str
    language: str
    content: Mapping[str, Any]
    status: str
    attempts: int
    available_at: datetime
    created_at: datetime
    sent_at: datetime | None
    provider_ref: str | None
    last_error: str | None
    expires_at: datetime | None
    sensitive: bool


class NotificationsRepository(Protocol):
    def add(self, rows: Sequence[NewNotification], at: datetime) -> list[int]:
        """Insert the rows whose key (request, notice, occurrence, channel, recipient) is new;
        return the ids of those inserted (a row already there is left alone)."""

    def claim(
        self, worker: str, limit: int, now: datetime, lease_until: datetime
    ) -> list[StoredNotification]:
        """Lease up to ``limit`` due pending rows (SKIP LOCKED on PostgreSQL)."""

    def finish(
        self,
        notification_id: int,
        worker: str,
        *,
        status: str,
        at: datetime,
        provider_ref: str | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
        erase: bool = False,
    ) -> bool:
        """Record the outcome if ``worker`` still holds the lease; ``retry_at`` keeps it
        pending; ``erase`` drops the content (one-time codes)."""

    def get(self, notification_id: int) -> StoredNotification | None: ...

    def find(
        self, request_id: int | None, notice: str, occurrence: str, channel: Channel, recipient: str
    ) -> int | None:
        """The id of the row with this key."""

    def search(
        self, *, request_id: int | None, status: str | None, limit: int
    ) -> list[StoredNotification]: ...

    def templates(self) -> list[MessageTemplate]: ...

    def template(self, notice: str, language: str) -> MessageTemplate | None: ...

    def put_template(self, template: MessageTemplate) -> None: ...

    def preferences(self, customer_id: int) -> Preferences | None: ...

    def put_preferences(self, preferences: Preferences, at: datetime) -> None: ...

    def customer(self, customer_id: int) -> CustomerContact | None: ...

    def subscriptions(self, customer_id: int) -> list[PushSubscription]: ...

    def subscription(self, subscription_id: int) -> PushSubscription | None: ...

    def revoke_subscription(self, subscription_id: int, at: datetime) -> None: ...

    def add_subscription(
        self, customer_id: int, kind: str, endpoint: str, keys: Mapping[str, str], at: datetime
    ) -> int:
        """Store a subscription, or return the live one with the same endpoint."""
        ...
