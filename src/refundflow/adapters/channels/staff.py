"""Staff alerts (escalations, new complaints) to team chat robots through ``apprise``:
DingTalk (``dingtalk://``), WeCom (``wecombot://``), Feishu (``feishu://``), Slack
(``slack://`` or a webhook URL), or any JSON endpoint (``json://``, ``jsons://``). Each
configured URL is one recipient. Apprise says only whether the service took the message,
so a refusal is retried (and given up after the attempts allowed)."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import apprise

from refundflow.services.notifications.ports import (
    Message,
    PermanentChannelError,
    RetryableChannelError,
)


def staff_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def staff_name(url: str) -> str:
    """The URL without its secrets, for lists and logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path[:1] and '/…'}"


class AppriseStaffChannel:
    def send(self, message: Message) -> str:
        notifier = apprise.Apprise()
        if not notifier.add(message.to):
            raise PermanentChannelError(f"{staff_name(message.to)} is not an apprise URL")
        if not notifier.notify(title=message.subject, body=message.text):
            raise RetryableChannelError(f"{staff_name(message.to)} did not take the message")
        return f"apprise:{staff_name(message.to)}"
